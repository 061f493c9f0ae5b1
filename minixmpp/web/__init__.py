"""HTTP: the JSON control API under ``/api`` and the live status page at ``/``."""

from __future__ import annotations

from typing import TYPE_CHECKING

from twisted.web import resource, server

from minixmpp.web.api import ControlAPI
from minixmpp.web.status import StatusPage

if TYPE_CHECKING:
    from minixmpp.server import Server as XMPPServer


def site(xmpp: XMPPServer, token: str | None) -> server.Site:
    """The HTTP site for ``--http``."""
    root = resource.Resource()
    status = StatusPage(xmpp.settings.domain)
    root.putChild(b"", status)
    root.putChild(b"status", status)
    root.putChild(b"api", ControlAPI(xmpp, token))
    factory = server.Site(root, reactor=xmpp.reactor)  # the server's, not the global one
    factory.noisy = False
    factory.displayTracebacks = False
    return factory
