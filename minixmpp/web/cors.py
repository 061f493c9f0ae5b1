"""CORS (the Fetch standard's HTTP CORS protocol) for the browser-facing resources.

``--http-origins`` lists the allowed origins; without it every origin is allowed, as
the listener is on loopback by default (Prosody's ``access_control_allow_origins``
defaults to every origin too). The control API sends no CORS headers: a web page
must not be able to reset the server.
"""

from __future__ import annotations

from collections.abc import Iterable

from twisted.web import resource, server


class CORS:
    def __init__(self, origins: Iterable[str] = ()) -> None:
        self.origins = {o.rstrip("/") for o in origins}

    def allowed(self, origin: str) -> bool:
        return not self.origins or "*" in self.origins or origin in self.origins

    def apply(self, request: server.Request, methods: bytes) -> None:
        """Add the CORS headers for the request's ``Origin`` when it is allowed."""
        request.setHeader(b"vary", b"Origin")
        raw = request.getHeader(b"origin")
        origin = raw.decode("latin-1") if raw else None
        if origin is None or not self.allowed(origin):
            return
        request.setHeader(b"access-control-allow-origin", raw)
        request.setHeader(b"access-control-allow-methods", methods)
        request.setHeader(b"access-control-allow-headers",
                          b"Content-Type, Authorization")
        request.setHeader(b"access-control-max-age", b"86400")


class CORSResource(resource.Resource):
    """A leaf resource that browsers call from other origins: the preflight (``OPTIONS``,
    204) and every answer (``self.allow(request)``) name its ``methods``."""

    isLeaf = True
    methods = b"GET, HEAD, OPTIONS"

    def __init__(self, cors: CORS) -> None:
        super().__init__()
        self.cors = cors

    def allow(self, request: server.Request) -> None:
        self.cors.apply(request, self.methods)

    def render_OPTIONS(self, request: server.Request) -> bytes:
        self.allow(request)
        request.setResponseCode(204)
        return b""
