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
from twisted.words.xish import domish

from minixmpp.sessions import Session, SessionManager

NS_SM = "urn:xmpp:sm:3"
NS_STANZAS = "urn:ietf:params:xml:ns:xmpp-stanzas"
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
    e = domish.Element((NS_SM, name))
    for key, value in attrs.items():
        if value is not None:
            e[key] = str(value).lower() if isinstance(value, bool) else str(value)
    return e


def failed(condition: str, h: int | None = None) -> domish.Element:
    e = element("failed", h=h)
    e.addElement((NS_STANZAS, condition))
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
                 queue_limit: int = 1000) -> None:
        self.sessions = sessions
        self.reactor = reactor
        self.timeout = timeout
        self.push_timeout = push_timeout
        self.has_push = has_push
        self.unacked = unacked
        self.queue_limit = queue_limit
        self.by_id: dict[str, Session] = {}
        sessions.on_unbound.append(self._forget)

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
        self.sessions.unbind(session)
        if queued:
            self.unacked(session, queued)

    def cancel_all(self) -> None:
        for session in list(self.by_id.values()):
            if session.sm is not None and session.sm.timer is not None \
                    and session.sm.timer.active():
                session.sm.timer.cancel()

    def _forget(self, session: Session) -> None:
        if session.sm is not None and session.sm.id is not None:
            self.by_id.pop(session.sm.id, None)
