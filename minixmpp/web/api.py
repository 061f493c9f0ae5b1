"""The JSON control API (``--http``): accounts, sessions, faults, push, stores, the
clock, traffic capture, reset.

One leaf resource routing to the groups under ``web/routes/``; every answer is JSON,
every error is ``{"error": "..."}`` with the right status. Documented in ``docs/api.md``.
"""

from __future__ import annotations

import hmac
import json
import re
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from twisted.internet import defer
from twisted.logger import Logger
from twisted.web import resource, server

from minixmpp.web.request import HTTPError, arg
from minixmpp.web.routes import Handler
from minixmpp.web.routes.accounts import Accounts
from minixmpp.web.routes.clock import Clock
from minixmpp.web.routes.outage import Outage
from minixmpp.web.routes.push import Push
from minixmpp.web.routes.sessions import Sessions
from minixmpp.web.routes.stores import Stores
from minixmpp.web.routes.traffic import Traffic

if TYPE_CHECKING:
    from minixmpp.view import ServerView

#: the route groups, one module each under ``web/routes/``
GROUPS = (Accounts, Sessions, Push, Stores, Clock, Traffic, Outage)

__all__ = ["GROUPS", "ControlAPI", "HTTPError"]


class ControlAPI(resource.Resource):
    """``/api/...``: see ``docs/api.md`` for every route."""

    isLeaf = True
    log = Logger()

    def __init__(self, views: Sequence[ServerView], token: str | None = None) -> None:
        super().__init__()
        #: each served domain's view; ``?domain=`` picks one, the first is the default
        self.views = {view.settings.domain: view for view in views}
        self.xmpp = views[0]  # not "server": Resource.putChild overwrites that
        self.token = token
        self.routes: list[tuple[str, re.Pattern[str], Handler]] = [
            (method, re.compile(pattern + r"/?\Z"), handler)
            for group in GROUPS for method, pattern, handler in group(self).routes()]

    # -- plumbing ---------------------------------------------------------------------------

    def render(self, request: server.Request) -> Any:
        request.setHeader(b"content-type", b"application/json; charset=utf-8")
        request.setHeader(b"cache-control", b"no-store")
        try:
            self._authorize(request)
            handler, kwargs = self._route(request)
            view = self._view(request)
            result = defer.maybeDeferred(lambda: self._call(view, handler, request, kwargs))
        except HTTPError as e:
            return self._error(request, e.status, e.message)
        result.addCallbacks(lambda r: self._answer(request, r),
                            lambda f: self._failed(request, f))
        return server.NOT_DONE_YET

    def _authorize(self, request: server.Request) -> None:
        if not self.token:
            return
        header = (request.getHeader(b"authorization") or b"").decode("latin-1")
        if not hmac.compare_digest(header.encode(), f"Bearer {self.token}".encode()):
            request.setHeader(b"www-authenticate", b'Bearer realm="minixmpp"')
            raise HTTPError(401, "missing or wrong bearer token (--http-token)")

    def _route(self, request: server.Request) -> tuple[Handler, dict[str, str]]:
        path = "/".join(p.decode("utf-8", "replace") for p in request.postpath)
        method = request.method.decode("ascii", "replace")
        allowed = []
        for route_method, pattern, handler in self.routes:
            match = pattern.match(path)
            if match:
                if route_method == method:
                    return handler, match.groupdict()
                allowed.append(route_method)
        if allowed:
            request.setHeader(b"allow", ", ".join(allowed).encode())
            raise HTTPError(405, f"{method} not allowed on /api/{path}")
        raise HTTPError(404, f"no such endpoint: /api/{path}")

    def _view(self, request: server.Request) -> ServerView:
        """The served domain a request is about: ``?domain=``, else the first."""
        domain = arg(request, "domain")
        if domain is None:
            return next(iter(self.views.values()))
        view = self.views.get(domain)
        if view is None:
            raise HTTPError(404, f"{domain!r} is not a served domain "
                                 f"({', '.join(self.views)})")
        return view

    def _call(self, view: ServerView, handler: Handler, request: server.Request,
              kwargs: dict[str, str]) -> Any:
        """Run ``handler`` for ``view``'s domain (requests are handled one at a time)."""
        self.xmpp = view
        return handler(request, **kwargs)

    def _answer(self, request: server.Request, result: Any) -> None:
        status, body = result if isinstance(result, tuple) else (200, result)
        if request._disconnected:
            return
        request.setResponseCode(status)
        if body is not None:
            request.write(json.dumps(body, indent=1).encode() + b"\n")
        request.finish()

    def _failed(self, request: server.Request, failure: Any) -> None:
        if failure.check(HTTPError):
            return self._answer(request, (failure.value.status,
                                          {"error": failure.value.message}))
        if failure.check(defer.CancelledError):
            return None
        self.log.failure("control API error", failure)
        return self._answer(request, (500, {"error": "internal error (see the server log)"}))

    def _error(self, request: server.Request, status: int, message: str) -> bytes:
        request.setResponseCode(status)
        return json.dumps({"error": message}).encode() + b"\n"
