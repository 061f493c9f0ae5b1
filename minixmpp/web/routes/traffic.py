"""``/api/traffic``: every element in and out of every stream (``minixmpp/traffic.py``),
and a long poll for the next one that matches."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from twisted.internet import defer
from twisted.web import server

from minixmpp.clock import real_reactor
from minixmpp.web.request import HTTPError, arg, number_arg, timeout_arg
from minixmpp.web.routes import Route, Routes

DIRECTIONS = ("in", "out")


class Traffic(Routes):
    def routes(self) -> Iterable[Route]:
        return (
            ("GET", r"traffic", self.list_traffic),
            ("DELETE", r"traffic", self.clear_traffic),
            ("GET", r"traffic/wait", self.wait_traffic),
        )

    def traffic(self) -> Any:
        if self.xmpp.traffic is None:
            raise HTTPError(404, "traffic capture is off (--traffic 0)")
        return self.xmpp.traffic

    def _filters(self, request: server.Request) -> tuple[str | None, int, str | None,
                                                        str | None]:
        direction = arg(request, "direction")
        if direction is not None and direction not in DIRECTIONS:
            raise HTTPError(400, "direction must be in or out")
        since = number_arg(request, "since", 0)
        if since < 0 or since != int(since):
            raise HTTPError(400, "since must be a sequence number (an integer of 0 or more)")
        return arg(request, "jid"), int(since), direction, arg(request, "contains")

    def list_traffic(self, request: server.Request) -> list[dict[str, Any]]:
        """What was captured after ``since``: ``?jid=`` (full, or a bare JID's every
        resource), ``?direction=in|out``, ``?contains=`` (text in the XML)."""
        jid, since, direction, contains = self._filters(request)
        return [e.as_dict() for e in self.traffic().find(jid, since)
                if _matches(e, direction, contains)]

    def clear_traffic(self, request: server.Request) -> tuple[int, None]:
        self.traffic().clear()
        return 204, None

    def wait_traffic(self, request: server.Request) -> defer.Deferred:
        """Long poll: the first element after ``since`` that matches, or 408."""
        jid, since, direction, contains = self._filters(request)
        timeout = timeout_arg(request)
        d = self.traffic().wait_for(
            real_reactor(self.xmpp.reactor),
            lambda e: e.concerns(jid) and _matches(e, direction, contains), since, timeout)
        return self.long_poll(request, d, timeout, "element", lambda e: e.as_dict())


def _matches(entry: Any, direction: str | None, contains: str | None) -> bool:
    return ((direction is None or entry.direction == direction)
            and (contains is None or contains in entry.xml))
