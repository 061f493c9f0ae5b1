"""HTTP: the JSON control API under ``/api``, the live status page at ``/``, and the
mount points of the web features: ``/upload`` (XEP-0363), ``/.well-known/host-meta``
(XEP-0156), ``/xmpp-websocket`` (RFC 7395), ``/http-bind`` (XEP-0206)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from twisted.web import resource, server

from minixmpp.web.api import ControlAPI
from minixmpp.web.bounded import bounded_request
from minixmpp.web.cors import CORS
from minixmpp.web.hostmeta import HostMeta
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
    cors = CORS(xmpp.settings.http_origins)
    if xmpp.uploads is not None:
        from minixmpp.upload.http import UploadResource

        root.putChild(b"upload", UploadResource(xmpp.uploads, cors))
    secure = (xmpp.settings.http or "").startswith("ssl:")
    if not xmpp.settings.no_websocket:
        from autobahn.twisted.resource import WebSocketResource

        from minixmpp.c2s.websocket import websocket_factory
        from minixmpp.web.hostmeta import REL_WEBSOCKET

        root.putChild(b"xmpp-websocket", WebSocketResource(websocket_factory(
            xmpp.web_c2s_factory, cors, secure, xmpp.settings.max_stanza_size + 1024)))
        xmpp.web_paths[REL_WEBSOCKET] = "/xmpp-websocket"
    if not xmpp.settings.no_bosh:
        from minixmpp.c2s.bosh import BoshManager, BoshResource
        from minixmpp.web.hostmeta import REL_BOSH

        xmpp.bosh = BoshManager(xmpp.web_c2s_factory, xmpp.settings, xmpp.reactor, secure)
        root.putChild(b"http-bind", BoshResource(xmpp.bosh, cors,
                                                 xmpp.settings.max_stanza_size + 4096))
        xmpp.web_paths[REL_BOSH] = "/http-bind"
    well_known = resource.Resource()
    root.putChild(b".well-known", well_known)
    links = xmpp.web_links  # filled by the transports mounted below
    well_known.putChild(b"host-meta", HostMeta(links, cors, as_json=False))
    well_known.putChild(b"host-meta.json", HostMeta(links, cors, as_json=True))
    body_limit = max(xmpp.settings.upload_max_size, 1 << 20)
    factory = server.Site(root, requestFactory=bounded_request(body_limit),
                          reactor=xmpp.reactor)  # the server's, not the global one
    factory.noisy = False
    factory.displayTracebacks = False
    return factory
