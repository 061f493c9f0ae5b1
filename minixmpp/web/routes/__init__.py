"""The control API's routes, one module per concern (``docs/api.md``); ``web/api.py``
routes each request to a ``Routes`` group's handler."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any

from twisted.internet import defer
from twisted.web import server

from minixmpp.web.request import HTTPError

if TYPE_CHECKING:
    from minixmpp.view import ServerView

Handler = Callable[..., Any]
Route = tuple[str, str, Handler]


class Routes:
    """A group of routes; ``xmpp`` is the view of the domain the request is about."""

    def __init__(self, api: Any) -> None:
        self.api = api

    @property
    def xmpp(self) -> ServerView:
        return self.api.xmpp

    @property
    def views(self) -> dict[str, ServerView]:
        return self.api.views

    def routes(self) -> Iterable[Route]:
        """``(method, path pattern under /api/, handler)`` of every route."""
        raise NotImplementedError

    def account(self, name: str) -> str:
        """``name`` if it is an account of the domain, else 404."""
        if not self.xmpp.accounts.exists(name):
            raise HTTPError(404, f"no account {name!r}")
        return name

    def feature(self, name: str, off: str) -> Any:
        """The object of the feature ``name``, else 404 with ``off``."""
        service = self.xmpp.service(name)
        if service is None:
            raise HTTPError(404, off)
        return service

    @staticmethod
    def long_poll(request: server.Request, d: defer.Deferred, timeout: float, what: str,
                  render: Callable[[Any], Any]) -> defer.Deferred:
        """Answer with ``render(entry)`` when ``d`` fires, 408 if it times out; a client
        that goes away cancels the wait."""
        request.notifyFinish().addErrback(lambda _: d.cancel())

        def timed_out(f: Any) -> Any:
            f.trap(defer.TimeoutError)
            raise HTTPError(408, f"no matching {what} within {timeout:g} s")

        return d.addCallbacks(render, timed_out)
