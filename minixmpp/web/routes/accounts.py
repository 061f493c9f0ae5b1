"""``/api/state``, ``/api/accounts``, ``/api/reset``: the status page's snapshot, the
accounts of a domain, everything back to the state right after start."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from twisted.web import server
from twisted.words.protocols.jabber import jid

from minixmpp import addressing
from minixmpp.storage.interfaces import AccountExists, InvalidPassword, NoSuchAccount
from minixmpp.web import views
from minixmpp.web.request import HTTPError, json_body
from minixmpp.web.routes import Route, Routes


class Accounts(Routes):
    def routes(self) -> Iterable[Route]:
        return (
            ("GET", r"state", self.state),
            ("GET", r"accounts", self.list_accounts),
            ("POST", r"accounts", self.create_account),
            ("DELETE", r"accounts/(?P<name>[^/]+)", self.delete_account),
            ("PUT", r"accounts/(?P<name>[^/]+)/password", self.set_password),
            ("POST", r"reset", self.reset),
        )

    def state(self, request: server.Request) -> dict[str, Any]:
        return views.state(self.xmpp)

    def list_accounts(self, request: server.Request) -> list[dict[str, Any]]:
        return [views.account(self.xmpp, name) for name in self.xmpp.accounts.users()]

    def create_account(self, request: server.Request) -> tuple[int, dict[str, Any]]:
        body = json_body(request)
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
        self.account(name)
        try:
            self.xmpp.admin.delete_account(name)
        except NoSuchAccount:
            raise HTTPError(404, f"no account {name!r}") from None
        return 204, None

    def set_password(self, request: server.Request, name: str) -> dict[str, Any]:
        self.account(name)
        password = json_body(request).get("password")
        if not isinstance(password, str) or not password:
            raise HTTPError(400, "give the new password as a string")
        try:
            self.xmpp.accounts.set_password(name, password)
        except InvalidPassword as e:
            raise HTTPError(400, f"the password is not valid ({e})") from None
        return views.account(self.xmpp, name)

    def reset(self, request: server.Request) -> dict[str, Any]:
        """Every served domain back to the state right after start."""
        for view in self.views.values():
            view.admin.reset()
        if self.xmpp.traffic is not None:
            self.xmpp.traffic.clear()
        return {"reset": True, "accounts": self.xmpp.accounts.users()}
