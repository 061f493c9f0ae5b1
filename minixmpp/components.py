"""External components (XEP-0114 "Jabber Component Protocol"), e.g. a push App Server.

Each component has a domain and a shared secret (``--component NAME:SECRET``). Once
its handshake is right, stanzas to its domain are routed to it, and what it sends is
routed on, provided it comes from its own domain.
"""

from __future__ import annotations

from typing import Any

from twisted.logger import Logger
from twisted.words.protocols.jabber import component, error, jid, xmlstream
from twisted.words.xish import domish

from minixmpp import addressing, ns
from minixmpp.stanza import strip_namespace
from minixmpp.tracking import StreamTracking

STANZAS = ("message", "presence", "iq")


def _no_delay(xs: xmlstream.XmlStream) -> None:
    """Push publishes are small and latency matters: no Nagle delays."""
    if hasattr(xs.transport, "setTcpNoDelay"):
        xs.transport.setTcpNoDelay(True)


class ComponentAuthenticator(component.ListenComponentAuthenticator):
    """XEP-0114 §3: the stream header names the component; the handshake proves it."""

    def __init__(self, secrets: dict[str, str]) -> None:
        super().__init__(None)
        self.secrets = secrets

    def streamStarted(self, rootElement: domish.Element) -> None:
        to = rootElement.getAttribute("to")
        try:
            domain = addressing.parse(to).host if to else None
        except jid.InvalidFormat:
            domain = None
        if domain not in self.secrets:
            self.xmlstream.namespace = self.namespace
            self.xmlstream.sendStreamError(error.StreamError("host-unknown"))
            return
        self.secret = self.secrets[domain]
        super().streamStarted(rootElement)


class ComponentFactory(StreamTracking, xmlstream.XmlStreamServerFactory):
    """Accepts component connections and plugs them into the router."""

    log = Logger()
    noisy = False

    def __init__(self, router: Any, secrets: dict[str, str], max_components: int = 100,
                 traffic: Any = None) -> None:
        super().__init__(lambda: ComponentAuthenticator(secrets))
        self.router = router
        self.max_components = max_components
        #: traffic capture (``traffic.py``), None when off
        self.traffic = traffic
        self.addBootstrap(xmlstream.STREAM_AUTHD_EVENT, self.authenticated)

    def buildProtocol(self, addr: Any) -> xmlstream.XmlStream | None:
        if len(getattr(self, "open_streams", ())) >= self.max_components:
            self.log.info("refused a component connection: --max-components reached")
            return None  # Twisted closes the connection at once
        xs = self.track(super().buildProtocol(addr))
        xs.addObserver(xmlstream.STREAM_CONNECTED_EVENT, _no_delay)
        return xs

    def authenticated(self, xs: xmlstream.XmlStream) -> None:
        domain = xs.thisEntity.host
        if domain in self.router.routes:
            xs.sendStreamError(error.StreamError("conflict", text=f"{domain} is connected"))
            return
        self.router.routes[domain] = xs if self.traffic is None else \
            _Captured(xs, self.traffic, domain)
        xs.addObserver("/*", self.received, 0, domain, xs)
        xs.addObserver(xmlstream.STREAM_END_EVENT, self.lost, 0, domain, xs)
        self.log.info("component {domain} connected", domain=domain)

    def received(self, domain: str, xs: xmlstream.XmlStream, stanza: domish.Element) -> None:
        """A stanza from the component: checked, namespace-neutral, routed."""
        if self.traffic is not None:
            self.traffic.record("in", f"component {domain}", domain, stanza)
        if stanza.name not in STANZAS or stanza.uri != ns.COMPONENT:
            return xs.sendStreamError(error.StreamError("unsupported-stanza-type"))
        try:
            sender = addressing.parse(stanza.getAttribute("from") or "")
            to = addressing.parse(stanza.getAttribute("to") or "")
        except jid.InvalidFormat:
            return xs.sendStreamError(error.StreamError("improper-addressing"))
        if sender.host != domain:
            return xs.sendStreamError(error.StreamError(
                "invalid-from", text=f"this component may only send from {domain}"))
        if not to.host:
            return xs.sendStreamError(error.StreamError("improper-addressing"))
        self.router.route(strip_namespace(stanza))

    def lost(self, domain: str, xs: xmlstream.XmlStream, reason: Any) -> None:
        route = self.router.routes.get(domain)
        if route is xs or getattr(route, "xs", None) is xs:
            del self.router.routes[domain]
            self.log.info("component {domain} disconnected", domain=domain)


class _Captured:
    """A component's route that captures what the router sends it (``traffic.py``)."""

    def __init__(self, xs: xmlstream.XmlStream, traffic: Any, domain: str) -> None:
        self.xs = xs
        self.traffic = traffic
        self.domain = domain

    def send(self, stanza: domish.Element) -> None:
        xs = self.xs  # serialized once, as the stream would, for the wire and the record
        text = stanza.toXml(prefixes=xs.prefixes, defaultUri=xs.namespace,
                            prefixesInScope=list(xs.prefixes.values()))
        self.traffic.record("out", f"component {self.domain}", self.domain, text)
        xs.send(text)
