"""The JSON control API (``--http``): accounts, sessions, push, offline queues, reset.

One leaf resource with a small routing table; every answer is JSON, every error is
``{"error": "..."}`` with the right status. Documented in ``docs/api.md``.
"""

from __future__ import annotations

import hmac
import json
import re
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

from twisted.internet import defer
from twisted.logger import Logger
from twisted.web import resource, server
from twisted.words.protocols.jabber import error, jid

from minixmpp import addressing
from minixmpp.push.views import notification, registration
from minixmpp.storage.interfaces import AccountExists, InvalidPassword, NoSuchAccount
from minixmpp.timestamps import iso
from minixmpp.web import views

if TYPE_CHECKING:
    from minixmpp.view import ServerView


class HTTPError(Exception):
    """An error answer: status code and message."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


Handler = Callable[..., Any]


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
        self.routes: list[tuple[str, re.Pattern[str], Handler]] = []
        for method, pattern, handler in (
            ("GET", r"state", self.state),
            ("GET", r"accounts", self.list_accounts),
            ("POST", r"accounts", self.create_account),
            ("DELETE", r"accounts/(?P<name>[^/]+)", self.delete_account),
            ("PUT", r"accounts/(?P<name>[^/]+)/password", self.set_password),
            ("GET", r"sessions", self.list_sessions),
            ("DELETE", r"sessions/(?P<full>.+)", self.kick),
            ("GET", r"push/registrations", self.list_registrations),
            ("DELETE", r"push/registrations", self.delete_registrations),
            ("GET", r"push/notifications", self.list_notifications),
            ("DELETE", r"push/notifications", self.clear_notifications),
            ("GET", r"push/notifications/wait", self.wait_notification),
            ("POST", r"push/fail", self.fail_node),
            ("POST", r"push/recover", self.recover_node),
            ("GET", r"offline/(?P<name>[^/]+)", self.offline),
            ("GET", r"archive/(?P<name>[^/]+)", self.archive),
            ("GET", r"uploads", self.list_uploads),
            ("POST", r"reset", self.reset),
        ):
            self.routes.append((method, re.compile(pattern + r"/?\Z"), handler))

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
        domain = self._arg(request, "domain")
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

    # -- request helpers --------------------------------------------------------------------

    @staticmethod
    def _json(request: server.Request) -> dict[str, Any]:
        raw = request.content.read() if request.content else b""
        try:
            body = json.loads(raw or b"{}")
        except (ValueError, UnicodeDecodeError):
            raise HTTPError(400, "the body is not valid JSON") from None
        if not isinstance(body, dict):
            raise HTTPError(400, "the body must be a JSON object")
        return body

    @staticmethod
    def _arg(request: server.Request, name: str) -> str | None:
        values = request.args.get(name.encode())
        return values[0].decode("utf-8", "replace") if values else None

    def _int_arg(self, request: server.Request, name: str, default: float) -> float:
        value = self._arg(request, name)
        if value is None:
            return default
        try:
            return float(value)
        except ValueError:
            raise HTTPError(400, f"{name} must be a number") from None

    def _account(self, name: str) -> str:
        if not self.xmpp.accounts.exists(name):
            raise HTTPError(404, f"no account {name!r}")
        return name

    # -- state (the status page) --------------------------------------------------------------

    def state(self, request: server.Request) -> dict[str, Any]:
        return views.state(self.xmpp)

    # -- accounts -----------------------------------------------------------------------------

    def list_accounts(self, request: server.Request) -> list[dict[str, Any]]:
        return [views.account(self.xmpp, name) for name in self.xmpp.accounts.users()]

    def create_account(self, request: server.Request) -> tuple[int, dict[str, Any]]:
        body = self._json(request)
        name, password = body.get("name"), body.get("password")
        if not isinstance(name, str) or not isinstance(password, str) or not password:
            raise HTTPError(400, "give name and password as strings")
        try:
            user = addressing.make(name, self.xmpp.settings.domain, None).user or ""
        except jid.InvalidFormat:
            raise HTTPError(400, f"{name!r} is not a valid username") from None
        try:
            self.xmpp.accounts.create(user, password)
        except AccountExists:
            raise HTTPError(409, f"account {user!r} exists") from None
        except InvalidPassword as e:
            raise HTTPError(400, f"the password is not valid ({e})") from None
        return 201, views.account(self.xmpp, user)

    def delete_account(self, request: server.Request, name: str) -> tuple[int, None]:
        self._account(name)
        try:
            self.xmpp.admin.delete_account(name)
        except NoSuchAccount:
            raise HTTPError(404, f"no account {name!r}") from None
        return 204, None

    def set_password(self, request: server.Request, name: str) -> dict[str, Any]:
        self._account(name)
        password = self._json(request).get("password")
        if not isinstance(password, str) or not password:
            raise HTTPError(400, "give the new password as a string")
        try:
            self.xmpp.accounts.set_password(name, password)
        except InvalidPassword as e:
            raise HTTPError(400, f"the password is not valid ({e})") from None
        return views.account(self.xmpp, name)

    # -- sessions ------------------------------------------------------------------------------

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

    # -- push ----------------------------------------------------------------------------------

    def _push(self) -> Any:
        push = self.xmpp.service("push")
        if push is None:
            raise HTTPError(404, "push notifications are off")
        return push

    def list_registrations(self, request: server.Request) -> list[dict[str, Any]]:
        account = self._arg(request, "account")
        push = self._push()
        return [registration(u, r) for u, r in push.registrations(
            self._account(account) if account else None)]

    def delete_registrations(self, request: server.Request) -> dict[str, Any]:
        """``node`` absent: any node; ``node=`` (empty): only the node-less registration."""
        account = self._arg(request, "account")
        service, node = self._arg(request, "jid"), self._arg(request, "node")
        push = self._push()
        removed = 0
        for user, r in push.registrations(self._account(account) if account else None):
            if ((service is None or r.jid == service)
                    and (node is None or r.node == (node or None))
                    and push.store.remove(user, r.jid, r.node)):
                push.enable.log_event("removed", user, r, "by the control API")
                removed += 1
        return {"removed": removed}

    def _appserver(self) -> Any:
        appserver = self.xmpp.service("appserver")
        if appserver is None:
            raise HTTPError(404, "the in-process App Server is off (--no-push-component)")
        return appserver

    def list_notifications(self, request: server.Request) -> list[dict[str, Any]]:
        since = int(self._int_arg(request, "since", 0))
        found = self._appserver().find(self._arg(request, "account"),
                                       self._arg(request, "node"), since)
        return [notification(n) for n in found]

    def clear_notifications(self, request: server.Request) -> tuple[int, None]:
        self._appserver().notifications.clear()
        return 204, None

    def wait_notification(self, request: server.Request) -> defer.Deferred:
        """Long poll: the first matching notification after ``since``, or 408."""
        timeout = self._int_arg(request, "timeout", 10)
        if not 0 < timeout <= 300:
            raise HTTPError(400, "timeout must be between 0 and 300 seconds")
        d = self._appserver().wait_for(
            self.xmpp.reactor, self._arg(request, "account"), self._arg(request, "node"),
            int(self._int_arg(request, "since", 0)), timeout)
        request.notifyFinish().addErrback(lambda _: d.cancel())

        def timed_out(f: Any) -> Any:
            f.trap(defer.TimeoutError)
            raise HTTPError(408, f"no matching notification within {timeout:g} s")

        return d.addCallbacks(notification, timed_out)

    def fail_node(self, request: server.Request) -> dict[str, Any]:
        body = self._json(request)
        node, condition = body.get("node"), body.get("condition", "item-not-found")
        kind, count = body.get("type", "cancel"), body.get("count")
        if node is not None and not isinstance(node, str):
            raise HTTPError(400, "node must be a string or null")
        if condition is not None and condition not in error.STANZA_CONDITIONS:
            raise HTTPError(400, f"{condition!r} is not an RFC 6120 stanza error condition")
        if kind not in ("cancel", "continue", "modify", "auth", "wait"):
            raise HTTPError(400, "type must be cancel, continue, modify, auth or wait")
        if count is not None and (not isinstance(count, int) or count < 1):
            raise HTTPError(400, "count must be a positive integer or null")
        self._appserver().fail(node, condition, kind, count)
        return {"node": node, "condition": condition, "type": kind, "count": count}

    def recover_node(self, request: server.Request) -> dict[str, Any]:
        node = self._json(request).get("node")
        self._appserver().recover(node)
        return {"node": node}

    # -- offline, reset --------------------------------------------------------------------------

    def _feature(self, name: str, off: str) -> Any:
        service = self.xmpp.service(name)
        if service is None:
            raise HTTPError(404, off)
        return service

    def offline(self, request: server.Request, name: str) -> list[str]:
        offline = self._feature("offline", "offline storage is off")
        return offline.store.peek(self._account(name))

    def archive(self, request: server.Request, name: str) -> list[dict[str, Any]]:
        archive = self._feature("mam", "the archive is off (--no-archive)")
        archive.flush()  # never answer from less than was delivered
        return [{"id": m.id, "time": iso(m.timestamp), "with": m.with_jid, "xml": m.xml}
                for m in archive.store.messages(self._account(name))]

    def list_uploads(self, request: server.Request) -> list[dict[str, Any]]:
        """HTTP File Upload slots and files (XEP-0363), oldest first; ``?account=``."""
        uploads = self.xmpp.service("upload")
        if uploads is None:
            raise HTTPError(404, "the upload service is off (--no-upload or --no-http)")
        account = self._arg(request, "account")
        return [{"account": u.user, "filename": u.filename, "size": u.size,
                 "content_type": u.content_type, "created": iso(u.created),
                 "uploaded": iso(u.uploaded) if u.uploaded is not None else None,
                 "url": uploads.url(u)} for u in uploads.uploads(account)]

    def reset(self, request: server.Request) -> dict[str, Any]:
        """Every served domain back to the state right after start."""
        for view in self.views.values():
            view.admin.reset()
        return {"reset": True, "accounts": self.xmpp.accounts.users()}
