"""``/api/clock``: the server's time, moved by the test with ``--clock manual``
(``minixmpp/clock.py``)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from twisted.web import server

from minixmpp.clock import ManualClock
from minixmpp.timestamps import iso
from minixmpp.web.request import HTTPError, number_field
from minixmpp.web.routes import Route, Routes

#: the furthest one request moves the clock (ten years)
FURTHEST = 10 * 366 * 86400


class Clock(Routes):
    def routes(self) -> Iterable[Route]:
        return (
            ("GET", r"clock", self.clock),
            ("POST", r"clock/advance", self.advance),
        )

    def clock(self, request: server.Request) -> dict[str, Any]:
        """The server's time, and whether a test moves it (``--clock manual``)."""
        now = self.xmpp.reactor.seconds()
        return {"time": iso(now, "microseconds"), "seconds": now,
                "manual": isinstance(self.xmpp.reactor, ManualClock)}

    def advance(self, request: server.Request) -> dict[str, Any]:
        """Move a manual clock forward, running every timer that comes due, in order."""
        reactor = self.xmpp.reactor
        if not isinstance(reactor, ManualClock):
            raise HTTPError(409, "the clock is real: start the server with --clock manual")
        reactor.advance(number_field(request, "seconds", 0, FURTHEST))
        return self.clock(request)
