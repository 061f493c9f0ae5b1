"""In-band registration (XEP-0077): the rules (who may register, which names, how often)
and the account management of an authenticated user (§3.2 removal, §3.3 password change).

Registration before authentication is the c2s stage ``c2s.register``; both use one
:class:`Registrar`. ``--registration``: ``off`` (nothing, like Prosody without
mod_register), ``loopback`` (the default: clients on loopback only) or ``open``.
"""

from __future__ import annotations

import ipaddress
from collections import deque
from collections.abc import Callable
from typing import Any

from twisted.words.protocols.jabber import error, jid
from twisted.words.xish import domish
from wokkel.subprotocols import IQHandlerMixin, XMPPHandler

from minixmpp import addressing, ns
from minixmpp.discovery import Discoverable
from minixmpp.feature import Context, Feature
from minixmpp.storage.interfaces import AccountExists, IAccountStore, InvalidPassword

WINDOW = 3600.0  # seconds over which --registration-limit counts


class RegistrationRefused(Exception):
    """A registration attempt fails with this stanza error (XEP-0077 §3.1)."""

    def __init__(self, condition: str, text: str, kind: str = "modify") -> None:
        super().__init__(condition, text)
        self.condition, self.text, self.kind = condition, text, kind

    def stanza_error(self) -> error.StanzaError:
        return error.StanzaError(self.condition, self.kind, self.text)


def fields(query: domish.Element) -> dict[str, str]:
    """``<username/>``/``<password/>`` (§3.1), or the same fields of a submitted form."""
    out = {c.name: str(c) for c in query.elements() if c.uri == ns.REGISTER
           and c.name in ("username", "password")}
    for x in query.elements(ns.X_DATA, "x"):
        for field in x.elements(ns.X_DATA, "field"):
            var = field.getAttribute("var")
            if var in ("username", "password"):
                out[var] = "".join(str(v) for v in field.elements(ns.X_DATA, "value"))
    return out


def instructions(registered_user: str | None = None) -> domish.Element:
    """The registration form of §3.1 (legacy fields plus an XEP-0004 form)."""
    query = domish.Element((ns.REGISTER, "query"))
    if registered_user is not None:
        query.addElement("registered")
        query.addElement("username", content=registered_user)
        return query
    query.addElement("instructions", content="Choose a username and password.")
    query.addElement("username")
    query.addElement("password")
    x = query.addElement((ns.X_DATA, "x"))
    x["type"] = "form"
    x.addElement("title", content="Account registration")
    for var, kind in (("FORM_TYPE", "hidden"), ("username", "text-single"),
                      ("password", "text-private")):
        field = x.addElement("field")
        field["var"], field["type"] = var, kind
        if var == "FORM_TYPE":
            field.addElement("value", content=ns.REGISTER)
        else:
            field.addElement("required")
    return query


class Registrar:
    """Who may register, with which name, how often (``--registration-limit`` per
    address per hour)."""

    def __init__(self, accounts: IAccountStore, domain: str, mode: str, limit: int,
                 clock: Callable[[], float]) -> None:
        self.accounts = accounts
        self.domain = domain
        self.mode = mode
        self.limit = limit
        self.clock = clock
        self._recent: dict[str, deque[float]] = {}

    def offered_to(self, ip: str) -> bool:
        """Whether a client at ``ip`` may register (and so is offered the feature)."""
        if self.mode == "open":
            return True
        if self.mode != "loopback":
            return False
        try:
            return ipaddress.ip_address(ip.split("%")[0]).is_loopback
        except ValueError:
            return False

    def username(self, name: str) -> str:
        """The prepared localpart, or ``not-acceptable`` (§3.1)."""
        name = name.strip()
        try:
            user = addressing.make(name, self.domain, None).user if name else None
        except jid.InvalidFormat:
            user = None
        if not user or len(user.encode()) > 1023:
            raise RegistrationRefused("not-acceptable", f"{name!r} is not a valid username")
        return user

    def register(self, ip: str, values: dict[str, str]) -> str:
        """Create the account (§3.1); the new localpart."""
        user = self.username(values.get("username", ""))
        password = values.get("password", "")
        if not password:
            raise RegistrationRefused("not-acceptable", "a password is required")
        now = self.clock()
        recent = self._recent.setdefault(ip, deque())
        while recent and recent[0] <= now - WINDOW:
            recent.popleft()
        if len(recent) >= self.limit:
            raise RegistrationRefused(
                "resource-constraint", f"too many registrations from {ip} "
                f"(--registration-limit {self.limit} per hour)", "wait")
        try:
            self.accounts.create(user, password)
        except AccountExists:
            raise RegistrationRefused("conflict", f"{user}@{self.domain} exists", "cancel"
                                      ) from None
        except InvalidPassword as e:
            raise RegistrationRefused("not-acceptable", f"the password is not valid ({e})"
                                      ) from None
        recent.append(now)
        return user

    def clear(self) -> None:
        self._recent.clear()


class AccountManagement(Discoverable, XMPPHandler, IQHandlerMixin):
    """XEP-0077 for an authenticated user, addressed to the server: ``get`` says
    ``<registered/>``, ``set`` changes the password (§3.3) or removes the account (§3.2:
    the reply, then every stream of the account closes and its data goes)."""

    disco_features = (ns.REGISTER,)

    iqHandlers = {f"/iq[@type='get']/query[@xmlns='{ns.REGISTER}']": "onGet",
                  f"/iq[@type='set']/query[@xmlns='{ns.REGISTER}']": "onSet"}

    def __init__(self, registrar: Registrar, remove: Callable[[str], Any],
                 soon: Callable[..., Any]) -> None:
        super().__init__()
        self.registrar = registrar
        self.remove = remove
        self.soon = soon  # run after the IQ result went out (reactor.callLater(0, ...))

    def connectionInitialized(self) -> None:
        self.xmlstream.addObserver(f"/iq/query[@xmlns='{ns.REGISTER}']", self.handleRequest)

    def _user(self, iq: domish.Element) -> str:
        sender, to = addressing.parse(iq["from"]), addressing.parse(iq["to"])
        # to the server, or without 'to' (RFC 6120 §10.3.3: then it is the own bare JID)
        if to.resource is not None or to.user not in (None, sender.user):
            raise error.StanzaError("service-unavailable")
        return sender.user or ""

    def onGet(self, iq: domish.Element) -> domish.Element:
        return instructions(self._user(iq))

    def onSet(self, iq: domish.Element) -> None:
        user = self._user(iq)
        query = iq.query
        if any(c.name == "remove" for c in query.elements()):
            # §3.2: the result first, on the stream that asked; then the streams close
            self.soon(self.remove, user)
            return None
        values = fields(query)
        password = values.get("password", "")
        try:
            named = self.registrar.username(values.get("username", user))
        except RegistrationRefused as e:
            raise e.stanza_error() from None
        if named != user:
            raise error.StanzaError("not-allowed", text="you can only change your own password")
        if not password:
            raise error.StanzaError("not-acceptable", text="a password is required")
        try:
            self.registrar.accounts.set_password(user, password)
        except InvalidPassword as e:
            raise error.StanzaError("not-acceptable", text=f"the password is not valid ({e})"
                                    ) from None
        return None


def build(ctx: Context) -> Feature:
    """The ``register`` feature (``--registration`` loopback or open): the rules, shared
    with the c2s stage before authentication (``provides["registrar"]``), and password
    change and removal for authenticated users."""
    s = ctx.settings
    registrar = Registrar(ctx.storage.accounts, ctx.domain, s.registration,
                          s.registration_limit, ctx.reactor.seconds)

    def remove(user: str) -> None:
        ctx.provided("admin").remove_account(user)

    management = AccountManagement(registrar, remove,
                                   lambda f, *a: ctx.reactor.callLater(0, f, *a))
    return Feature("register", service=registrar, handlers=(management,),
                   provides={"registrar": registrar}, clear=registrar.clear)
