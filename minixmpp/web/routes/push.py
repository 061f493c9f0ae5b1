"""``/api/push/...``: the XEP-0357 registrations, the in-process App Server's
notifications (and the failures a test makes it answer with)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from twisted.internet import defer
from twisted.web import server
from twisted.words.protocols.jabber import error

from minixmpp.clock import real_reactor
from minixmpp.push.policy import RULES
from minixmpp.push.views import notification, registration
from minixmpp.web.request import HTTPError, arg, json_body, number_arg, timeout_arg
from minixmpp.web.routes import Route, Routes


class Push(Routes):
    def routes(self) -> Iterable[Route]:
        return (
            ("GET", r"push/registrations", self.list_registrations),
            ("DELETE", r"push/registrations", self.delete_registrations),
            ("GET", r"push/notifications", self.list_notifications),
            ("DELETE", r"push/notifications", self.clear_notifications),
            ("GET", r"push/notifications/wait", self.wait_notification),
            ("GET", r"push/decisions", self.list_decisions),
            ("GET", r"push/decisions/wait", self.wait_decision),
            ("POST", r"push/generate", self.generate),
            ("POST", r"push/fail", self.fail_node),
            ("POST", r"push/recover", self.recover_node),
            ("POST", r"push/remote-disable", self.remote_disable),
            ("POST", r"push/ping", self.ping),
        )

    def push(self) -> Any:
        return self.feature("push", "push notifications are off")

    def appserver(self) -> Any:
        return self.feature("appserver",
                            "the in-process App Server is off (--no-push-component)")

    def list_registrations(self, request: server.Request) -> list[dict[str, Any]]:
        account = arg(request, "account")
        push = self.push()
        return [registration(u, r) for u, r in push.registrations(
            self.account(account) if account else None)]

    def delete_registrations(self, request: server.Request) -> dict[str, Any]:
        """``node`` absent: any node; ``node=`` (empty): only the node-less registration."""
        account = arg(request, "account")
        service, node = arg(request, "jid"), arg(request, "node")
        push = self.push()
        removed = 0
        for user, r in push.registrations(self.account(account) if account else None):
            if ((service is None or r.jid == service)
                    and (node is None or r.node == (node or None))
                    and push.store.remove(user, r.jid, r.node)):
                push.enable.log_event("removed", user, r, "by the control API")
                removed += 1
        return {"removed": removed}

    def list_notifications(self, request: server.Request) -> list[dict[str, Any]]:
        since = int(number_arg(request, "since", 0))
        found = self.appserver().find(arg(request, "account"), arg(request, "node"), since)
        return [notification(n) for n in found]

    def clear_notifications(self, request: server.Request) -> tuple[int, None]:
        self.appserver().notifications.clear()
        return 204, None

    def wait_notification(self, request: server.Request) -> defer.Deferred:
        """Long poll: the first matching notification after ``since``, or 408."""
        timeout = timeout_arg(request)
        d = self.appserver().wait_for(
            real_reactor(self.xmpp.reactor), arg(request, "account"), arg(request, "node"),
            int(number_arg(request, "since", 0)), timeout)
        return self.long_poll(request, d, timeout, "notification", notification)

    def _decision_filters(self, request: server.Request) -> dict[str, Any]:
        account = arg(request, "account")
        pushed = arg(request, "pushed")
        if pushed not in (None, "true", "false"):
            raise HTTPError(400, "pushed must be true or false")
        rule = arg(request, "rule")
        if rule is not None and rule not in RULES:
            raise HTTPError(400, f"{rule!r} is not a rule ({', '.join(RULES)})")
        return {"account": self.account(account) if account else None,
                "node": arg(request, "node"), "rule": rule,
                "pushed": None if pushed is None else pushed == "true"}

    def list_decisions(self, request: server.Request) -> list[dict[str, Any]]:
        """Why each message pushed or not, per registration (docs/push.md "Decisions"):
        ``?account=&node=&pushed=true|false&rule=&since=``."""
        filters = self._decision_filters(request)
        since = int(number_arg(request, "since", 0))
        return [d.as_dict() for d in self.push().decisions.find(**filters, since=since)]

    def wait_decision(self, request: server.Request) -> defer.Deferred:
        """Long poll: the first matching decision after ``since``, or 408."""
        filters = self._decision_filters(request)
        timeout = timeout_arg(request)
        d = self.push().decisions.ring.wait_for(
            real_reactor(self.xmpp.reactor), lambda e: e.matches(**filters),
            int(number_arg(request, "since", 0)), timeout)
        return self.long_poll(request, d, timeout, "decision", lambda e: e.as_dict())

    def generate(self, request: server.Request) -> defer.Deferred:
        """Synthetic pushes to the account's App Servers (``push/generate.py``); answers
        with the report once every publish is answered or timed out."""
        body = json_body(request)
        account, count, rate = body.get("account"), body.get("count"), body.get("rate")
        if not isinstance(account, str):
            raise HTTPError(400, "give account (a username), count and rate")
        push = self.push()
        problem = push.generator.check(count, rate)
        if problem is not None:
            raise HTTPError(400, problem)
        if not push.store.registrations(self.account(account)):
            raise HTTPError(409, f"{account!r} has no push registrations")
        return push.generator.run(account, count, rate)

    def fail_node(self, request: server.Request) -> dict[str, Any]:
        body = json_body(request)
        node, condition = body.get("node"), body.get("condition", "item-not-found")
        kind, count = body.get("type", "cancel"), body.get("count")
        if node is not None and not isinstance(node, str):
            raise HTTPError(400, "node must be a string or null")
        if condition is not None and condition not in error.STANZA_CONDITIONS:
            raise HTTPError(400, f"{condition!r} is not an RFC 6120 stanza error condition")
        if kind not in ("cancel", "continue", "modify", "auth", "wait"):
            raise HTTPError(400, "type must be cancel, continue, modify, auth or wait")
        if count is not None and (isinstance(count, bool) or not isinstance(count, int)
                                  or count < 1):
            raise HTTPError(400, "count must be a positive integer or null")
        self.appserver().fail(node, condition, kind, count)
        return {"node": node, "condition": condition, "type": kind, "count": count}

    def recover_node(self, request: server.Request) -> dict[str, Any]:
        node = json_body(request).get("node")
        if node is not None and not isinstance(node, str):
            raise HTTPError(400, "node must be a string or null")
        self.appserver().recover(node)
        return {"node": node}

    def remote_disable(self, request: server.Request) -> dict[str, Any]:
        """XEP-0357 §8 from the in-process App Server: ``{"node": N}``."""
        node = json_body(request).get("node")
        if not isinstance(node, str):
            raise HTTPError(400, "give node (a string)")
        told = self.appserver().remote_disable(node)
        if told is None:
            raise HTTPError(404, f"no account registered node {node!r} with the "
                                 "in-process App Server")
        return told

    def ping(self, request: server.Request) -> dict[str, Any]:
        """A push for no message (Prosody's cloud-notify-ping): ``{"account": A,
        "node": N}``; without node, every registration of the account."""
        body = json_body(request)
        account, node = body.get("account"), body.get("node")
        if not isinstance(account, str):
            raise HTTPError(400, "give account (a username) and optionally node")
        if node is not None and not isinstance(node, str):
            raise HTTPError(400, "node must be a string or null")
        user = self.account(account)
        pushed = self.push().ping(user, node)
        if not pushed:
            raise HTTPError(409, f"{account!r} has no such push registration")
        return {"account": account, "node": node, "pushed": pushed}
