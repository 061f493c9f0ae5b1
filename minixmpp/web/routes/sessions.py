"""``/api/sessions``, ``/api/listeners``, ``/api/restart``: the live sessions, and the
network faults a test puts on them (``c2s/faults.py``, docs/api.md "Faults")."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from twisted.internet import defer
from twisted.web import server
from twisted.words.protocols.jabber import jid

from minixmpp import addressing
from minixmpp.web import views
from minixmpp.web.request import HTTPError, json_body, number_field
from minixmpp.web.routes import Route, Routes

#: the longest stall or delay a request may ask for
LONGEST = 86400


class Sessions(Routes):
    def routes(self) -> Iterable[Route]:
        return (
            ("GET", r"sessions", self.list_sessions),
            ("POST", r"sessions/(?P<full>.+)/drop", self.drop),
            ("POST", r"sessions/(?P<full>.+)/stall", self.stall),
            ("POST", r"sessions/(?P<full>.+)/delay", self.delay),
            ("DELETE", r"sessions/(?P<full>.+)", self.kick),
            ("POST", r"listeners/pause", self.pause_listeners),
            ("POST", r"listeners/resume", self.resume_listeners),
            ("POST", r"restart", self.restart),
        )

    def list_sessions(self, request: server.Request) -> list[dict[str, Any]]:
        return [views.session(s) for s in self.xmpp.sessions]

    def kick(self, request: server.Request, full: str) -> tuple[int, None]:
        try:
            target = addressing.parse(full)
        except jid.InvalidFormat:
            raise HTTPError(400, f"{full!r} is not a JID") from None
        session = self.xmpp.sessions.get(target)
        if session is None or target.resource is None:
            raise HTTPError(404, f"no session {full!r}")
        self.xmpp.admin.end_session(session, "policy-violation",
                                    "disconnected through the control API")
        return 204, None

    def _live(self, full: str) -> list[Any]:
        try:
            target = addressing.parse(full)
        except jid.InvalidFormat:
            raise HTTPError(400, f"{full!r} is not a JID") from None
        sessions = self.xmpp.admin.live(target)
        if not sessions:
            raise HTTPError(404, f"no live session {full!r}")
        return sessions

    def drop(self, request: server.Request, full: str) -> dict[str, Any]:
        """Cut the connection with no stream close (a resumable session hibernates)."""
        sessions = self._live(full)
        for session in sessions:
            self.xmpp.admin.drop(session)
        return {"dropped": [s.jid.full() for s in sessions]}

    def stall(self, request: server.Request, full: str) -> dict[str, Any]:
        """Neither read nor write on the session's connection for ``seconds``."""
        seconds = number_field(request, "seconds", 0, LONGEST)
        sessions = self._live(full)
        for session in sessions:
            self.xmpp.admin.stall(session, seconds)
        return {"stalled": [s.jid.full() for s in sessions], "seconds": seconds}

    def delay(self, request: server.Request, full: str) -> dict[str, Any]:
        """Every stanza to the session leaves ``ms`` late (0: on time again)."""
        seconds = number_field(request, "ms", 0, LONGEST * 1000) / 1000
        sessions = self._live(full)
        for session in sessions:
            self.xmpp.admin.delay(session, seconds)
        return {"delayed": [s.jid.full() for s in sessions], "ms": round(seconds * 1000, 3)}

    def _listeners(self) -> Any:
        if self.xmpp.listeners is None:
            raise HTTPError(404, "no listeners to control")
        return self.xmpp.listeners

    def pause_listeners(self, request: server.Request) -> defer.Deferred:
        refuse = json_body(request).get("refuse", False)
        if not isinstance(refuse, bool):
            raise HTTPError(400, "refuse must be true or false")
        return self._listeners().pause_accepting(refuse).addCallback(
            lambda _: {"paused": True, "refuse": refuse})

    def resume_listeners(self, request: server.Request) -> defer.Deferred:
        return self._listeners().resume_accepting().addCallback(lambda _: {"paused": False})

    def restart(self, request: server.Request) -> defer.Deferred:
        return self._listeners().restart().addCallback(lambda _: {"restarted": True})
