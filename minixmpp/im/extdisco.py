"""External Service Discovery (XEP-0215) for STUN/TURN from ``--stun``/``--turn``.

TURN credentials are time-limited and derived from a shared secret as coturn's
``use-auth-secret`` (the "TURN REST API") expects: the username is
``EXPIRY:ACCOUNT`` (Unix time), the password ``base64(HMAC-SHA1(secret, username))``.
Only the server's own accounts get services (§3.1 "the server MAY restrict").
"""

from __future__ import annotations

import base64
import datetime
import hashlib
import hmac
from collections.abc import Callable

from twisted.words.protocols.jabber import error
from twisted.words.xish import domish
from wokkel.subprotocols import IQHandlerMixin, XMPPHandler

from minixmpp import addressing, ns
from minixmpp.discovery import Discoverable
from minixmpp.feature import Context, Feature

GET_SERVICES = f"/iq[@type='get']/services[@xmlns='{ns.EXTDISCO}']"
GET_CREDENTIALS = f"/iq[@type='get']/credentials[@xmlns='{ns.EXTDISCO}']"


def turn_credentials(secret: str, user: str, expires: int) -> tuple[str, str]:
    """coturn REST API credentials: (username, password)."""
    username = f"{expires}:{user}"
    digest = hmac.new(secret.encode(), username.encode(), hashlib.sha1).digest()
    return username, base64.b64encode(digest).decode()


class ExternalServicesHandler(Discoverable, XMPPHandler, IQHandlerMixin):
    disco_features = (ns.EXTDISCO,)
    iqHandlers = {GET_SERVICES: "onServices", GET_CREDENTIALS: "onCredentials"}

    def __init__(self, domain: str, stun: list[tuple[str, int]],
                 turn: list[tuple[str, int, str]], ttl: int,
                 clock: Callable[[], float]) -> None:
        super().__init__()
        self.domain = domain
        self.stun = stun
        self.turn = turn
        self.ttl = ttl
        self.clock = clock

    def connectionInitialized(self) -> None:
        self.xmlstream.addObserver(GET_SERVICES, self.handleRequest)
        self.xmlstream.addObserver(GET_CREDENTIALS, self.handleRequest)

    def _services(self, user: str) -> list[dict[str, str]]:
        out = []
        for host, port in self.stun:
            out.append({"type": "stun", "host": host, "port": str(port), "transport": "udp"})
        expires = int(self.clock()) + self.ttl
        stamp = datetime.datetime.fromtimestamp(expires, datetime.UTC).strftime(
            "%Y-%m-%dT%H:%M:%SZ")
        for host, port, secret in self.turn:
            username, password = turn_credentials(secret, user, expires)
            for transport in ("udp", "tcp"):
                out.append({"type": "turn", "host": host, "port": str(port),
                            "transport": transport, "username": username,
                            "password": password, "expires": stamp, "restricted": "1"})
        return out

    def _requester(self, iq: domish.Element) -> str:
        to, sender = addressing.parse(iq["to"]), addressing.parse(iq["from"])
        if to.user is not None:
            raise error.StanzaError("service-unavailable")
        if sender.user is None or sender.host != self.domain:
            raise error.StanzaError("forbidden")
        return sender.user

    def onServices(self, iq: domish.Element) -> domish.Element:
        """§3.1: every service, or those of the requested ``type``."""
        user = self._requester(iq)
        wanted = iq.services.getAttribute("type")
        answer = domish.Element((ns.EXTDISCO, "services"))
        if wanted:
            answer["type"] = wanted
        for service in self._services(user):
            if not wanted or service["type"] == wanted:
                answer.addElement("service", ns.EXTDISCO).attributes.update(service)
        return answer

    def onCredentials(self, iq: domish.Element) -> domish.Element:
        """§3.3: fresh credentials for one service (host, and type if given)."""
        user = self._requester(iq)
        asked = next((c for c in iq.credentials.elements() if c.name == "service"), None)
        if asked is None or not asked.getAttribute("host"):
            raise error.StanzaError("bad-request")
        matches = [s for s in self._services(user) if s["host"] == asked["host"]
                   and asked.getAttribute("type", s["type"]) == s["type"]
                   and asked.getAttribute("port", s["port"]) == s["port"]
                   and "username" in s]
        if not matches:
            raise error.StanzaError("item-not-found")
        answer = domish.Element((ns.EXTDISCO, "credentials"))
        answer.addElement("service", ns.EXTDISCO).attributes.update(matches[0])
        return answer


def build(ctx: Context) -> Feature:
    """The ``extdisco`` feature: STUN/TURN services from ``--stun``/``--turn``."""
    s = ctx.settings
    return Feature("extdisco", handlers=(ExternalServicesHandler(
        ctx.domain, s.stun_servers, s.turn_servers, s.turn_ttl, ctx.reactor.seconds),))
