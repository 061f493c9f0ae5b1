"""``/api/outage``: the service outage status document the server serves (XEP-0455),
declared and ended by a test (``minixmpp/im/sos.py``)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from twisted.web import server

from minixmpp.web.request import HTTPError, json_body
from minixmpp.web.routes import Route, Routes


class Outage(Routes):
    def routes(self) -> Iterable[Route]:
        return (
            ("GET", r"outage", self.outage),
            ("POST", r"outage", self.declare_outage),
            ("DELETE", r"outage", self.end_outage),
        )

    def _status(self) -> Any:
        return self.feature("sos", "the outage status (XEP-0455) is off")

    def outage(self, request: server.Request) -> dict[str, Any]:
        """The served status document: ``{}`` when there is no outage."""
        return self._status().document

    def declare_outage(self, request: server.Request) -> dict[str, Any]:
        """Serve an outage: XEP-0455 §2.2's fields (``beginning`` required)."""
        from minixmpp.im.sos import OutageError

        try:
            return self._status().declare(json_body(request))
        except OutageError as e:
            raise HTTPError(400, str(e)) from None

    def end_outage(self, request: server.Request) -> tuple[int, None]:
        self._status().clear()
        return 204, None
