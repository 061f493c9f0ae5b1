"""Bound resources and their presence state (RFC 6120 §7, RFC 6121 §4).

A :class:`Session` is one bound full JID on one c2s stream. The
:class:`SessionManager` knows every session of every account; routing rules
(RFC 6121 §8.5) ask it which resources are available and at what priority.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

from twisted.logger import Logger
from twisted.words.protocols.jabber import error
from twisted.words.protocols.jabber.jid import JID
from twisted.words.xish import domish


class Session:
    """One bound resource (RFC 6120 §7) and its presence state (RFC 6121 §4)."""

    def __init__(self, jid: JID, stream: Any, *, tls: bool = False, peer: str = "",
                 since: float = 0.0) -> None:
        self.jid = jid
        #: the c2s stream (its authenticator); None while hibernated (XEP-0198)
        self.stream = stream
        self.tls = tls
        self.peer = peer
        #: when it was bound (the server's clock)
        self.connected_since = since
        #: last available presence broadcast by this resource (None: not available)
        self.presence: domish.Element | None = None
        self.priority = 0
        #: RFC 6121 §2.1.6: the resource asked for the roster, so gets roster pushes
        self.interested = False
        #: RFC 6121 §4.6: full JIDs that got directed presence from this resource
        self.directed: set[str] = set()
        #: XEP-0198 state (None: stream management not enabled)
        self.sm: Any = None
        #: XEP-0352 client state: "active" or "inactive"
        self.csi = "active"
        #: XEP-0280: carbon copies enabled
        self.carbons = False
        #: XEP-0388 §2.1 ``<user-agent/>`` of a SASL2 login: id, software, device
        self.user_agent: dict[str, str] = {}
        #: called when a hibernated session's queue passes its limit (set by XEP-0198)
        self.on_overflow: Callable[[Session], None] = lambda _session: None
        #: told of each stanza queued while hibernated (set by XEP-0198 for push)
        self.on_queued: Callable[[Session, domish.Element], None] | None = None

    @property
    def user(self) -> str:
        return self.jid.user or ""

    @property
    def resource(self) -> str:
        return self.jid.resource or ""

    @property
    def available(self) -> bool:
        return self.presence is not None

    @property
    def show(self) -> str | None:
        """The ``<show/>`` of the last available presence (None when plainly available)."""
        if self.presence is None:
            return None
        for child in self.presence.elements():
            if child.name == "show":
                return str(child).strip() or None
        return None

    @property
    def hibernated(self) -> bool:
        """XEP-0198: the connection is gone but the session can be resumed."""
        return self.stream is None

    def send(self, stanza: domish.Element) -> None:
        """Write a stanza to this resource; with stream management it is also kept
        until acknowledged (and only kept while hibernated)."""
        if self.sm is not None:
            self.sm.queue.append(stanza)
        if self.stream is not None:
            self.stream.send(stanza)
            if self.sm is not None:
                self.stream.request_ack()
        elif self.sm is not None:
            if len(self.sm.queue) > self.sm.limit:
                self.on_overflow(self)
            elif self.on_queued is not None:
                self.on_queued(self, stanza)

    def __repr__(self) -> str:
        return f"<Session {self.jid.full()}>"


class SessionManager:
    """All sessions by account and resource."""

    log = Logger()

    def __init__(self) -> None:
        self._by_user: dict[str, dict[str, Session]] = {}
        #: called in order with a session after it is gone (presence cleanup, resumption)
        self.unbound: tuple[Callable[[Session], None], ...] = ()
        #: ends a hibernated session that a new login with its full JID replaces
        self.replaced: Callable[[Session], None] = self.unbind

    def install(self, *, unbound: tuple[Callable[[Session], None], ...],
                replaced: Callable[[Session], None]) -> None:
        """What happens when a session goes (``Server``, once, in order): its presence
        is cleaned up, its resumption forgotten; and how a hibernated session that a
        new login replaces ends (XEP-0198)."""
        self.unbound, self.replaced = unbound, replaced

    def bind(self, session: Session) -> None:
        """Bind ``session``; an older session with the same full JID gets ``conflict``.

        RFC 6120 §7.7.2.2: the server may terminate the existing session; we do so
        (as Prosody's default), with a ``<conflict/>`` stream error.
        """
        resources = self._by_user.setdefault(session.user, {})
        old = resources.get(session.resource)
        if old is not None:
            self.log.info("{jid} logged in again: old session closed with conflict",
                          jid=session.jid.full())
            if old.hibernated:
                self.replaced(old)
            else:
                self.unbind(old)
                old.stream.sendStreamError(error.StreamError("conflict"))
        self._by_user.setdefault(session.user, {})[session.resource] = session

    def unbind(self, session: Session) -> None:
        """Forget ``session`` (idempotent) and run the ``unbound`` callbacks."""
        resources = self._by_user.get(session.user)
        if not resources or resources.get(session.resource) is not session:
            return
        del resources[session.resource]
        if not resources:
            del self._by_user[session.user]
        for callback in self.unbound:
            callback(session)

    def get(self, jid: JID) -> Session | None:
        """The session bound to this full JID, if any."""
        return self._by_user.get(jid.user or "", {}).get(jid.resource or "")

    def of(self, user: str) -> list[Session]:
        """Every session of an account."""
        return list(self._by_user.get(user, {}).values())

    def available(self, user: str) -> list[Session]:
        """Sessions of an account that sent available presence (RFC 6121 §4.2)."""
        return [s for s in self._by_user.get(user, {}).values() if s.presence is not None]

    def for_bare_delivery(self, user: str) -> list[Session]:
        """RFC 6121 §8.5.2.1.1: the available resources with the highest
        non-negative priority (all of them on a tie)."""
        candidates = [s for s in self.available(user) if s.priority >= 0]
        if not candidates:
            return []
        top = max(s.priority for s in candidates)
        return [s for s in candidates if s.priority == top]

    def __iter__(self) -> Iterator[Session]:
        for resources in list(self._by_user.values()):
            yield from list(resources.values())

    def __len__(self) -> int:
        return sum(len(r) for r in self._by_user.values())
