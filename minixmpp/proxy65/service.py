"""The proxy's XMPP side at ``proxy.DOMAIN`` (XEP-0065 §4, §6.3.5): its identity
(``proxy``/``bytestreams``), the streamhost a requester asks for, and activation.

Only the server's own accounts (of any served domain) may use it, as Prosody's
mod_proxy65 allows only c2s sessions by default: ``forbidden`` for anyone else (§4).
"""

from __future__ import annotations

import hashlib
from collections.abc import Collection
from typing import Any

from twisted.words.protocols.jabber import error, jid
from twisted.words.xish import domish
from wokkel.subprotocols import IQHandlerMixin, XMPPHandler

from minixmpp import addressing, ns
from minixmpp.discovery import Discoverable
from minixmpp.proxy65.relay import ActivationError, Relay

QUERY = f"/iq[@type='get']/query[@xmlns='{ns.BYTESTREAMS}']"
ACTIVATE = f"/iq[@type='set']/query[@xmlns='{ns.BYTESTREAMS}']"


def _text(element: domish.Element) -> str:
    return "".join(c for c in element.children if isinstance(c, str)).strip()


class ProxyHandler(Discoverable, XMPPHandler, IQHandlerMixin):
    """§4 discovery and network address, §6.3.5 activation."""

    disco_identities = (("proxy", "bytestreams", "SOCKS5 Bytestreams Service"),)
    disco_features = (ns.BYTESTREAMS,)

    iqHandlers = {QUERY: "onStreamhost", ACTIVATE: "onActivate"}

    def __init__(self, relay: Relay, jid: str, domains: Collection[str]) -> None:
        super().__init__()
        self.relay = relay
        self.jid = jid
        self.domains = frozenset(domains)
        #: where the SOCKS5 listener is (host, port), once it listens
        self.address: tuple[str, int] | None = None

    def bound(self, address: Any) -> None:
        """The listener's address; an unspecified one is announced as the domain."""
        host = address.host if address.host not in ("0.0.0.0", "::") else \
            next(iter(sorted(self.domains)))
        self.address = (host, address.port)

    def connectionInitialized(self) -> None:
        self.xmlstream.addObserver(QUERY, self.handleRequest)
        self.xmlstream.addObserver(ACTIVATE, self.handleRequest)

    def _sender(self, iq: domish.Element) -> jid.JID:
        try:
            sender = addressing.parse(iq["from"])
        except (jid.InvalidFormat, KeyError):
            raise error.StanzaError("bad-request") from None
        if sender.user is None or sender.host not in self.domains:
            raise error.StanzaError("forbidden", text="only this server's accounts may "
                                    "use its proxy")
        return sender

    def onStreamhost(self, iq: domish.Element) -> domish.Element:
        """§4: ``<streamhost jid host port/>``; ``item-not-found`` (wait) while not
        listening, as Prosody."""
        self._sender(iq)
        if self.address is None:
            raise error.StanzaError("item-not-found", type="wait", text="not listening")
        query = domish.Element((ns.BYTESTREAMS, "query"))
        if iq.query.getAttribute("sid"):
            query["sid"] = iq.query["sid"]
        streamhost = query.addElement("streamhost")
        streamhost["jid"], streamhost["host"] = self.jid, self.address[0]
        streamhost["port"] = str(self.address[1])
        return query

    def onActivate(self, iq: domish.Element) -> None:
        """§6.3.5: the requester (the IQ's sender) activates SHA1(SID + its JID + the
        target's JID), the hash both connections gave."""
        requester = self._sender(iq)
        sid = iq.query.getAttribute("sid")
        activate = next((c for c in iq.query.elements()
                         if c.uri == ns.BYTESTREAMS and c.name == "activate"), None)
        if not sid or activate is None or not _text(activate):
            raise error.StanzaError("bad-request", text="sid and <activate/> are needed")
        try:
            target = addressing.parse(_text(activate))
        except jid.InvalidFormat:
            raise error.StanzaError("jid-malformed") from None
        digest = hashlib.sha1(f"{sid}{requester.full()}{target.full()}".encode()).hexdigest()
        try:
            self.relay.activate(digest)
        except ActivationError as e:
            kind = "modify" if e.condition == "item-not-found" else "cancel"
            raise error.StanzaError(e.condition, type=kind, text=e.text) from None
