"""Open command sessions (XEP-0050 §4.3 "Session Lifetime"), bounded.

A session is opened when a command returns its form and ends when the requester
completes or cancels it. It belongs to one requester, the full JID that opened it (§4.3:
"valid only between one requester/responder pair"), and to one command node. At most
:data:`MAX_SESSIONS` are open at once (one more ends the oldest) and each expires
:data:`SESSION_TIMEOUT` seconds after it was opened; a session whose resource is gone
ends with it. The identifiers are random: a session cannot be guessed into.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from typing import Any

from twisted.logger import Logger

from minixmpp.sessions import Session

#: open command sessions on the server at once; one more ends the oldest
MAX_SESSIONS = 100
#: seconds a command session stays open without being completed or canceled
SESSION_TIMEOUT = 600.0


def new_id() -> str:
    """A fresh session identifier (§4.3: unique, never used again)."""
    return secrets.token_hex(12)


@dataclass
class CommandSession:
    id: str
    node: str
    #: the full JID that opened it
    requester: str
    timer: Any


class CommandSessions:
    """The open sessions by identifier, oldest first, each with its expiry timer."""

    log = Logger()

    def __init__(self, reactor: Any, limit: int = MAX_SESSIONS,
                 timeout: float = SESSION_TIMEOUT) -> None:
        self.reactor = reactor
        self.limit = limit
        self.timeout = timeout
        self._open: dict[str, CommandSession] = {}

    def open(self, node: str, requester: str) -> str:
        """A new session of ``node`` for ``requester``; its identifier."""
        while len(self._open) >= self.limit:
            oldest = next(iter(self._open.values()))
            self.log.info("ad-hoc command session {id} of {jid} ended: more than {limit} open",
                          id=oldest.id, jid=oldest.requester, limit=self.limit)
            self.close(oldest.id)
        sid = new_id()
        timer = self.reactor.callLater(self.timeout, self._expire, sid)
        self._open[sid] = CommandSession(sid, node, requester, timer)
        return sid

    def find(self, sid: str, node: str, requester: str) -> CommandSession | None:
        """The open session ``sid`` if it is ``requester``'s session of ``node``."""
        session = self._open.get(sid)
        if session is None or session.node != node or session.requester != requester:
            return None
        return session

    def close(self, sid: str) -> None:
        session = self._open.pop(sid, None)
        if session is not None and session.timer.active():
            session.timer.cancel()

    def _expire(self, sid: str) -> None:
        self._open.pop(sid, None)

    def unbound(self, session: Session) -> None:
        """A resource is gone: so are the command sessions it opened."""
        requester = session.jid.full()
        for sid in [s.id for s in self._open.values() if s.requester == requester]:
            self.close(sid)

    def clear(self) -> None:
        """End every session (``reset``, shutdown): no timer is left behind."""
        for sid in list(self._open):
            self.close(sid)

    def __len__(self) -> int:
        return len(self._open)
