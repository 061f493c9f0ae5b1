"""``/.well-known/host-meta`` and ``host-meta.json`` (XEP-0156 §3, RFC 6415): where a
web client finds the BOSH and WebSocket endpoints of this listener."""

from __future__ import annotations

import json
from collections.abc import Callable
from xml.sax.saxutils import quoteattr

from twisted.web import server

from minixmpp import ns
from minixmpp.web.cors import CORS, CORSResource

REL_BOSH = ns.ALT_CONNECTIONS_XBOSH
REL_WEBSOCKET = ns.ALT_CONNECTIONS_WEBSOCKET


class HostMeta(CORSResource):
    """The links named by ``links()`` as XRD (``host-meta``) or JRD (``.json``)."""

    def __init__(self, links: Callable[[], list[tuple[str, str]]], cors: CORS,
                 as_json: bool) -> None:
        super().__init__(cors)
        self.links = links
        self.as_json = as_json

    def render_GET(self, request: server.Request) -> bytes:
        self.allow(request)
        request.setHeader(b"cache-control", b"no-cache")
        links = self.links()
        if self.as_json:
            request.setHeader(b"content-type", b"application/json")
            return json.dumps({"links": [{"rel": rel, "href": href}
                                         for rel, href in links]}).encode()
        request.setHeader(b"content-type", b"application/xrd+xml")
        body = "".join(f"  <Link rel={quoteattr(rel)} href={quoteattr(href)}/>\n"
                       for rel, href in links)
        return (f"<?xml version='1.0' encoding='utf-8'?>\n"
                f"<XRD xmlns='http://docs.oasis-open.org/ns/xri/xrd-1.0'>\n{body}</XRD>\n"
                ).encode()
