"""The client-to-server XML stream (RFC 6120 §4–§8), receiving side.

One :class:`C2SStream` per TCP connection, parsing with the hardened parser
(``c2s.parser``). Its :class:`C2SAuthenticator` holds the stream's state (TLS, the
authenticated user, the bound session) and hands every top-level element to the
negotiation stages of the current phase (``c2s.stage``): STARTTLS, SASL, bind, stream
management, client state, stanza checks. It knows the server only through a narrow
:class:`~minixmpp.c2s.stage.C2SContext`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

from twisted.internet.interfaces import ISSLTransport
from twisted.logger import Logger
from twisted.words.protocols.jabber import error, xmlstream
from twisted.words.xish import domish

from minixmpp import addressing, ns, stanzalog
from minixmpp.c2s import features, sm
from minixmpp.c2s.advertise import Advertised
from minixmpp.c2s.bind import BindStage
from minixmpp.c2s.faults import Faults
from minixmpp.c2s.parser import HardenedStream
from minixmpp.c2s.register import RegisterStage
from minixmpp.c2s.sasl import SASLStage
from minixmpp.c2s.stage import AUTHENTICATED, BOUND, UNAUTHENTICATED, C2SContext, Stage
from minixmpp.c2s.stanzas import STANZAS, StanzaChecks
from minixmpp.sessions import Session
from minixmpp.tracking import StreamTracking

#: The negotiation stages every stream has (RFC 6120 SASL and binding, registration's
#: answer, the advertised features, the stanza checks); the features add theirs
#: (``Feature.c2s_stages``: STARTTLS, SASL2, stream management, CSI, ...).
CORE: tuple[type[Stage], ...] = (SASLStage, RegisterStage, BindStage, Advertised, StanzaChecks)


def stages(extra: Sequence[type[Stage]] = ()) -> tuple[type[Stage], ...]:
    """Every stage of a stream, in the order each declares (``Stage.order``): their
    features are offered, and elements offered to them, in that order."""
    return tuple(sorted((*CORE, *extra), key=lambda stage: stage.order))


class C2SStream(HardenedStream):
    """An XMPP client stream: hardened parser, bounded send buffer, graceful close."""

    max_send_buffer = 4194304
    _linger: Any = None
    #: network faults a test put on this stream (``c2s/faults.py``), else None
    faults: Faults | None = None
    #: what traffic capture calls this kind of stream
    transport_name = "c2s"

    def __init__(self, authenticator: Any) -> None:
        super().__init__(authenticator)
        # Elements go to the authenticator directly (HardenedStream.onElement), so the
        # XPath observer Twisted adds for stream errors never fires: it goes, and with it
        # a few hundred bytes of dispatcher tables per stream (stream errors from the
        # client are handled in C2SAuthenticator.elementReceived).
        self.removeObserver(f"/error[@xmlns='{xmlstream.NS_STREAMS}']",
                            self.onStreamError)

    def sendStreamError(self, streamError: error.StreamError) -> None:
        """Send a stream error once, then close (RFC 6120 §4.9.1)."""
        if self.transport is None or self._closing:
            return
        self._closing = True
        if not self._headerSent:
            self.sendHeader()
        self.send(streamError.getElement())
        self.sendFooter()
        self._close_gracefully()

    def _close_gracefully(self, linger: float = 1.0) -> None:
        """Half-close so the client can read our error; drop the connection soon after.

        Closing outright while the client is still sending would make the kernel reset
        the connection, and the client could lose the stream error it was sent.
        """
        transport = self.transport
        if self.authenticator.tls or not hasattr(transport, "loseWriteConnection"):
            transport.loseConnection()
            return
        transport.loseWriteConnection()
        self._linger = self._callLater(linger, transport.abortConnection)

    def send(self, obj: Any) -> None:
        """Write; a client that stops reading loses its connection once
        ``--max-send-buffer`` bytes wait for it (memory stays bounded)."""
        if self.transport is None:
            return
        if self.faults is not None and self.faults.hold(obj):
            return
        if self.keep_raw:  # traffic capture: serialize once, for the wire and the record
            shown = obj
            if isinstance(obj, domish.Element):
                shown = stanzalog.masked(obj) if stanzalog.sensitive(obj) else None
                obj = obj.toXml(prefixes=self.prefixes, defaultUri=self.namespace,
                                prefixesInScope=list(self.prefixes.values()))
            self.authenticator.captured("out", obj if shown is None else shown)
        super().send(obj)
        if _pending(self.transport) > self.max_send_buffer and not self._closing:
            self.log.info("{peer}: {n} bytes unread, dropping the connection",
                          peer=self.authenticator.peer, n=_pending(self.transport))
            self.transport.abortConnection()

    def onDocumentEnd(self) -> None:
        """The client closed its stream: close ours too (RFC 6120 §4.4). (The parser may
        end a document after the connection was lost in the same chunk: nothing to do.)"""
        if self.transport is None:
            return
        if not self._closing:
            self._closing = True
            self.sendFooter()
        self.transport.loseConnection()

    def connectionLost(self, reason: Any) -> None:
        if self._linger is not None and self._linger.active():
            self._linger.cancel()
        if self.faults is not None:
            self.faults.cancel()
        super().connectionLost(reason)
        self.authenticator.connectionLost()


class C2SAuthenticator(xmlstream.ListenAuthenticator):
    """One client's stream state; the stages of the current phase do the negotiating."""

    namespace = ns.CLIENT
    log = Logger()

    def __init__(self, factory: C2SFactory) -> None:
        super().__init__()
        self.factory = factory
        #: the served domain's context; the stream header's ``to`` may choose another
        self.context = factory.context
        #: a header named the served domain (a restart must name the same)
        self.header_accepted = False
        self.features_cache = factory.features_xml
        #: the stream is encrypted (after STARTTLS, or from the start with direct TLS)
        self.tls = factory.direct_tls
        self.user: str | None = None
        self.session: Session | None = None
        self.mechanism_name = ""
        self.peer = ""
        self.ip = ""
        self.stages: list[Stage] = [make(self) for make in factory.stages]
        self._ack_call: Any = None
        self._auth_timer: Any = None
        self._idle_timer: Any = None
        #: traffic capture's names for this stream and its session, made once
        self._capture_label: str | None = None
        self._capture_jid: str | None = None

    @property
    def settings(self) -> Any:
        return self.context.settings

    @property
    def phase(self) -> str:
        if self.session is not None:
            return BOUND
        return UNAUTHENTICATED if self.user is None else AUTHENTICATED

    def active_stages(self) -> list[Stage]:
        phase = self.phase
        return [stage for stage in self.stages if phase in stage.phases]

    def open(self) -> bool:
        """The connection is up and no stream error or close was sent."""
        return self.xmlstream.transport is not None and not self.xmlstream._closing

    # -- connection and stream header (RFC 6120 §4.7) ----------------------------------------

    def connectionMade(self) -> None:
        transport = self.xmlstream.transport
        if hasattr(transport, "setTcpNoDelay"):
            transport.setTcpNoDelay(True)  # stanzas are small: no Nagle delays
        # Direct TLS (XEP-0368): the stream is encrypted from the first byte
        self.tls = self.tls or ISSLTransport.providedBy(transport)
        peer = transport.getPeer()
        self.ip = getattr(peer, "host", "")
        self.peer = f"{self.ip}:{getattr(peer, 'port', '')}"
        self.xmlstream.keep_raw = self.context.traffic is not None
        refusal = self.factory.refusal(self.xmlstream, self.ip)
        reactor, settings = self.context.reactor, self.settings
        if refusal:
            self.xmlstream.namespace = ns.CLIENT
            self.xmlstream.thisEntity = addressing.parse(settings.domain)
            self.xmlstream.sendStreamError(error.StreamError("policy-violation", refusal))
            return
        self._auth_timer = reactor.callLater(settings.auth_timeout, self._timed_out,
                                             "authenticate and bind")
        if settings.idle_timeout:
            self._idle_timer = reactor.callLater(settings.idle_timeout, self._timed_out, "idle")

    def activity(self) -> None:
        if self._idle_timer is not None and self._idle_timer.active():
            self._idle_timer.reset(self.settings.idle_timeout)

    def _timed_out(self, what: str) -> None:
        self.log.info("{peer}: {what} timeout", peer=self.peer, what=what)
        self.xmlstream.sendStreamError(error.StreamError(
            "connection-timeout", f"{what} timeout"))

    def streamStarted(self, rootElement: domish.Element) -> None:
        features.open_stream(self, rootElement)

    # -- the stages' view of the stream -----------------------------------------------------

    def authenticated(self, user: str, mechanism: str, *, restart: bool = True) -> None:
        """SASL succeeded (RFC 6120 §6.4.6): the client restarts the stream (SASL2,
        XEP-0388, goes on without a restart: ``restart=False``)."""
        self.user = user
        self.mechanism_name = mechanism
        if restart:
            self.xmlstream.reset()

    def bound(self, session: Session) -> None:
        """A resource was bound or resumed: stanzas flow from now on."""
        self.session = session
        self._cancel(self._auth_timer)
        for stage in self.stages:
            stage.bound(session)
        # a bound stream never goes back to an earlier phase: the stages of those go,
        # with what they kept (the SASL exchange, SASL2's request); an idle session
        # holds only what it still uses
        self.stages = [stage for stage in self.stages if BOUND in stage.phases]

    # -- elements -----------------------------------------------------------------------

    def captured(self, direction: str, element: domish.Element | str | bytes | bytearray
                 ) -> None:
        """Traffic capture (``traffic.py``): what this stream read or wrote."""
        label = self._capture_label
        if label is None:
            label = self._capture_label = f"{self.xmlstream.transport_name} {self.peer}"
        session = self.session
        if session is not None and self._capture_jid is None:
            self._capture_jid = session.jid.full()
        self.context.traffic.record(direction, label, self._capture_jid, element)

    def elementReceived(self, element: domish.Element) -> None:
        """Every top-level element of the stream, in every phase."""
        if self.context.traffic is not None:  # as it came, unless it shows a credential
            raw = self.xmlstream.raw_element
            self.captured("in", raw if raw is not None and not stanzalog.sensitive(element)
                          else stanzalog.masked(element))
        if self.settings.log_stanzas:
            stanzalog.stanza("IN", self.session.jid.full() if self.session else self.peer,
                             element)
        if element.uri == ns.STREAMS and element.name == "error":
            self.xmlstream.transport.loseConnection()
            return
        phase = self.phase
        for stage in self.stages:
            if phase in stage.phases and stage.receive(element):
                return
        if phase != BOUND and element.uri == ns.CLIENT and element.name in STANZAS:
            first = "authenticate first" if phase == UNAUTHENTICATED else \
                "bind a resource first"
            self.xmlstream.sendStreamError(error.StreamError("not-authorized", first))
        else:
            self.xmlstream.sendStreamError(error.StreamError("unsupported-stanza-type"))

    def send(self, element: domish.Element) -> None:
        if self.settings.log_stanzas:
            stanzalog.stanza("OUT", self.session.jid.full() if self.session else self.peer,
                             element)
        self.xmlstream.send(element)

    def request_ack(self) -> None:
        """Ask for an ack soon, once for a burst of stanzas (XEP-0198 §4)."""
        if self._ack_call is None:
            self._ack_call = self.context.reactor.callLater(0, self._request_ack_now)

    def _request_ack_now(self) -> None:
        self._ack_call = None
        if self.session is not None and self.open():
            self.send(sm.element("r"))
            resumption = self.context.resumption
            if resumption.watchers:
                resumption.ack_requested(self.session)

    def sendStreamError(self, streamError: error.StreamError) -> None:
        """Close this client's stream with an error (used on ``conflict``)."""
        self.xmlstream.sendStreamError(streamError)

    @staticmethod
    def _cancel(call: Any) -> None:
        if call is not None and call.active():
            call.cancel()

    def connectionLost(self) -> None:
        for call in (self._ack_call, self._auth_timer, self._idle_timer):
            self._cancel(call)
        self._ack_call = None
        for stage in self.stages:
            stage.connection_lost()
        if self.session is None:
            return
        session, self.session = self.session, None
        self.context.resumption.lost(session, closed=self.xmlstream._closing)


def _pending(transport: Any) -> int:
    """Bytes written to a TCP transport but not yet sent."""
    buffered = getattr(transport, "dataBuffer", b"")
    return (len(buffered) - getattr(transport, "offset", 0)
            + getattr(transport, "_tempDataLen", 0))


class C2SFactory(StreamTracking, xmlstream.XmlStreamServerFactory):
    """Builds one :class:`C2SStream` and authenticator per client connection."""

    protocol = C2SStream
    noisy = False

    def __init__(self, contexts: Mapping[str, C2SContext] | C2SContext,
                 default: str | None = None,
                 stages: Sequence[Callable[[C2SAuthenticator], Stage]] = stages(), *,
                 direct_tls: bool = False) -> None:
        super().__init__(lambda: C2SAuthenticator(self))
        if isinstance(contexts, C2SContext):
            contexts = {contexts.settings.domain: contexts}
        #: the context of each served domain (``host.Host.c2s``)
        self.contexts = dict(contexts)
        self.context = self.contexts[default or next(iter(self.contexts))]
        self.stages = tuple(stages)
        #: behind a TLS endpoint (XEP-0368 direct TLS): streams start encrypted
        self.direct_tls = direct_tls
        #: serialized stream features by negotiation state
        self.features_xml: dict[tuple[Any, ...], str] = {}

    def buildProtocol(self, addr: Any) -> C2SStream:
        xs = super().buildProtocol(addr)
        settings = self.context.settings
        xs.max_stanza_size = settings.max_stanza_size
        xs.max_depth = settings.max_stanza_depth
        xs.max_send_buffer = settings.max_send_buffer
        xs._callLater = self.context.reactor.callLater  # the server's reactor, not the global
        return self.track(xs)

    def refusal(self, xs: C2SStream, ip: str) -> str | None:
        """Why a new connection must be refused (``--max-connections[-per-ip]``)."""
        settings = self.context.settings
        streams = [s for s in self.open_streams if s is not xs]
        if len(streams) >= settings.max_connections:
            return f"too many connections (--max-connections {settings.max_connections})"
        per_ip = settings.max_connections_per_ip
        if per_ip and sum(1 for s in streams if s.authenticator.ip == ip) >= per_ip:
            return f"too many connections from {ip} (--max-connections-per-ip {per_ip})"
        return None
