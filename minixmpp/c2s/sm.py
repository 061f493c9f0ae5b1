"""Stream management (XEP-0198): acks, hibernation and resumption.

When the TCP connection of a resumable session dies without a closing stream tag, the
session *hibernates*: it stays bound and available, stanzas for it are queued, and
push rule 2 applies. It is resumed with ``<resume previd h/>`` or, after the timeout,
ended: queued messages go to offline storage (nothing lost) and unavailable presence is
broadcast.
"""

from __future__ import annotations

import secrets
from collections import deque
from collections.abc import Callable
from typing import Any

from twisted.logger import Logger
from twisted.words.protocols.jabber import error
from twisted.words.xish import domish

from minixmpp import ns
from minixmpp.c2s.stage import AUTHENTICATED, BOUND, Stage
from minixmpp.feature import Context, Feature
from minixmpp.sessions import Session, SessionManager

MOD = 2**32  # h is an unsigned 32-bit counter (§5)


class StreamManagement:
    """The XEP-0198 state of one session."""

    def __init__(self, resume: bool, max_seconds: int, limit: int = 1000) -> None:
        self.id = secrets.token_urlsafe(18) if resume else None
        #: stanzas a hibernated session may queue before it is ended (memory stays bounded)
        self.limit = limit
        self.resume = resume
        self.max = max_seconds
        self.inbound = 0  # h we report: stanzas handled from the client (§4)
        self.acked = 0  # the last h the client reported for our stanzas
        self.queue: deque[domish.Element] = deque()  # sent, not yet acknowledged
        self.timer: Any = None

    def received(self) -> None:
        self.inbound = (self.inbound + 1) % MOD

    def ack(self, h: int) -> bool:
        """The client handled our stanzas up to ``h``; False if it claims too many."""
        count = (h - self.acked) % MOD
        if count > len(self.queue):
            return False
        for _ in range(count):
            self.queue.popleft()
        self.acked = h % MOD
        return True


def element(name: str, **attrs: Any) -> domish.Element:
    e = domish.Element((ns.SM, name))
    for key, value in attrs.items():
        if value is not None:
            e[key] = str(value).lower() if isinstance(value, bool) else str(value)
    return e


def failed(condition: str, h: int | None = None) -> domish.Element:
    e = element("failed", h=h)
    e.addElement((ns.STANZAS, condition))
    return e


class ResumeFailed(Exception):
    """``<failed/>`` with this stanza error condition (§5)."""

    def __init__(self, condition: str) -> None:
        super().__init__(condition)
        self.condition = condition


class Resumption:
    """Hibernated sessions by stream id; timeouts; what happens to unacked stanzas."""

    log = Logger()

    def __init__(self, sessions: SessionManager, reactor: Any, timeout: int,
                 push_timeout: int, has_push: Callable[[str], bool],
                 unacked: Callable[[Session, list[domish.Element]], None],
                 queue_limit: int = 1000, watchers: tuple[Any, ...] = (),
                 quiet: bool = False) -> None:
        self.sessions = sessions
        self.reactor = reactor
        self.timeout = timeout
        self.push_timeout = push_timeout
        self.has_push = has_push
        self.unacked = unacked
        self.queue_limit = queue_limit
        self.by_id: dict[str, Session] = {}
        #: told of acks asked for and given, hibernation, queued stanzas, resumption
        #: and the end (``Feature.sleep``: push, ``push/keepalive.py``)
        self.watchers = watchers
        #: no "disconnected" line per session (``--session-quiet``)
        self.quiet = quiet

    def max_for(self, user: str) -> int:
        """Resumption timeout: longer while the account has push registrations
        (Prosody's mod_cloud_notify does the same)."""
        return self.push_timeout if self.has_push(user) else self.timeout

    def enable(self, session: Session, resume: bool) -> StreamManagement:
        sm = StreamManagement(resume, self.max_for(session.user), self.queue_limit)
        session.sm = sm
        session.on_overflow = self.overflow
        if sm.id is not None:
            self.by_id[sm.id] = session
        return sm

    def hibernate(self, session: Session) -> None:
        """The connection died without a closing tag: keep the session (§5)."""
        sm = session.sm
        assert sm is not None
        session.stream = None
        seconds = self.max_for(session.user)
        sm.timer = self.reactor.callLater(seconds, self.expire, session)
        self.log.info("{jid} hibernated ({n} unacknowledged; resumable for {s} s)",
                      jid=session.jid.full(), n=len(sm.queue), s=seconds)
        if self.watchers:
            session.on_queued = self.queued
            for watcher in self.watchers:
                watcher.hibernated(session)

    def queued(self, session: Session, stanza: domish.Element) -> None:
        """A stanza was queued for a hibernated session."""
        for watcher in self.watchers:
            watcher.queued(session, stanza)

    def ack_requested(self, session: Session) -> None:
        """The server sent ``<r/>`` on the session's open connection (§4)."""
        for watcher in self.watchers:
            watcher.ack_requested(session)

    def acked(self, session: Session) -> None:
        """The client sent ``<a/>`` (§4)."""
        for watcher in self.watchers:
            watcher.acked(session)

    def resume(self, user: str, previd: str, h: int) -> Session:
        """The hibernated (or not yet noticed dead) session to resume, acked up to h."""
        session = self.by_id.get(previd)
        if session is None or session.user != user or session.sm is None:
            raise ResumeFailed("item-not-found")
        sm = session.sm
        if not sm.ack(h):
            self.end(session)
            raise ResumeFailed("undefined-condition")
        if sm.timer is not None and sm.timer.active():
            sm.timer.cancel()
        sm.timer = None
        session.on_queued = None
        for watcher in self.watchers:
            watcher.resumed(session)
        return session

    def overflow(self, session: Session) -> None:
        """A hibernated session queued more than its limit: end it now; what it held goes
        to another resource or offline storage (bounded by ``--max-offline``)."""
        self.log.info("{jid} queued more than {n} stanzas while hibernated: ended",
                      jid=session.jid.full(), n=self.queue_limit)
        self.end(session)

    def expire(self, session: Session) -> None:
        self.log.info("{jid} hibernation timed out", jid=session.jid.full())
        self.end(session)

    def end(self, session: Session) -> None:
        """End the session for good; its unacknowledged stanzas are not lost."""
        sm = session.sm
        queued = list(sm.queue) if sm is not None else []
        if sm is not None:
            sm.queue.clear()
            if sm.timer is not None and sm.timer.active():
                sm.timer.cancel()
        session.on_queued = None
        for watcher in self.watchers:
            watcher.ended(session)
        self.sessions.unbind(session)
        if queued:
            self.unacked(session, queued)

    def lost(self, session: Session, closed: bool) -> None:
        """The connection of ``session`` is gone: a resumable session that did not close
        its stream hibernates (§5); any other ends."""
        if session.sm is not None and session.sm.resume and not closed:
            self.hibernate(session)
            return
        if not self.quiet:
            self.log.info("{jid} disconnected", jid=session.jid.full())
        if session.sm is not None:
            self.end(session)
        else:
            self.sessions.unbind(session)

    def cancel_all(self) -> None:
        for session in list(self.by_id.values()):
            if session.sm is not None and session.sm.timer is not None \
                    and session.sm.timer.active():
                session.sm.timer.cancel()

    def forget(self, session: Session) -> None:
        """A session is gone: its stream id can no longer be resumed."""
        if session.sm is not None and session.sm.id is not None:
            self.by_id.pop(session.sm.id, None)


class SMStage(Stage):
    """The XEP-0198 nonzas: ``<resume/>`` before binding (§5), ``<enable/>``, ``<r/>``
    and ``<a/>`` once bound (§3, §4)."""

    phases = frozenset({AUTHENTICATED, BOUND})
    order = 60
    log = Logger()

    def features(self) -> list[domish.Element]:
        return [domish.Element((ns.SM, "sm"))]

    def receive(self, nonza: domish.Element) -> bool:
        if nonza.uri != ns.SM:
            return False
        if self.auth.phase == AUTHENTICATED:
            if nonza.name == "resume":
                self._resume(nonza)
            else:
                self.auth.send(failed("unexpected-request"))  # enable before bind
            return True
        session = self.auth.session
        assert session is not None
        state = session.sm
        if nonza.name == "enable":
            if state is not None:
                self.auth.send(failed("unexpected-request"))
                return True
            resume = nonza.getAttribute("resume") in ("true", "1")
            state = self.context.resumption.enable(session, resume)
            self.auth.send(element("enabled", id=state.id, resume=resume or None,
                                    max=state.max if resume else None))
        elif state is None:
            self.auth.send(failed("unexpected-request"))
        elif nonza.name == "r":
            self.auth.send(element("a", h=state.inbound))
        elif nonza.name == "a":
            try:
                h = int(nonza.getAttribute("h", ""))
            except ValueError:
                h = -1
            if not 0 <= h < MOD or not state.ack(h):
                reason = error.StreamError(
                    "undefined-condition", text="acknowledged more stanzas than were sent",
                    appCondition=domish.Element((ns.SM, "handled-count-too-high")))
                self.auth.xmlstream.sendStreamError(reason)
            elif self.context.resumption.watchers:
                self.context.resumption.acked(session)
        # anything else from the SM namespace is ignored (§4: unknown elements)
        return True

    def _resume(self, nonza: domish.Element) -> None:
        """§5: take over a hibernated session and resend what it did not acknowledge."""
        auth = self.auth
        assert auth.user is not None
        try:
            h = int(nonza.getAttribute("h", ""))
            if not 0 <= h < MOD:
                raise ValueError(h)
            session = self.context.resumption.resume(
                auth.user, nonza.getAttribute("previd", ""), h)
        except ValueError:
            return auth.send(failed("bad-request"))
        except ResumeFailed as e:
            return auth.send(failed(e.condition))
        take_over(auth, session)
        state = session.sm
        auth.send(element("resumed", previd=state.id, h=state.inbound))
        resend(auth, session)


def take_over(auth: Any, session: Session) -> None:
    """A resumed ``session`` moves to the stream of ``auth`` (§5; also SASL2 inline)."""
    old = session.stream
    if old is not None:  # the old connection is not known dead yet: drop it quietly
        old.session = None
        old.xmlstream.transport.abortConnection()
    session.stream = auth
    session.tls, session.peer = auth.tls, auth.peer
    auth.bound(session)


def resend(auth: Any, session: Session) -> None:
    """After ``<resumed/>``: what the client did not acknowledge, again (§5)."""
    state = session.sm
    for stanza in list(state.queue):
        auth.send(stanza)
    if state.queue:
        auth.request_ack()
    SMStage.log.info("{jid} resumed ({peer}; {n} stanzas sent again)",
                     jid=session.jid.full(), peer=auth.peer, n=len(state.queue))


def build(ctx: Context) -> Feature:
    """The ``sm`` feature: the XEP-0198 stage (and SASL2/Bind2's inline enable and
    resume). Without it nothing hibernates: a lost connection ends its session."""
    return Feature("sm", c2s_stages=(SMStage,))
