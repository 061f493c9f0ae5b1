"""The client-to-server XML stream (RFC 6120 §4–§8), receiving side.

One :class:`C2SStream` per TCP connection. Its :class:`C2SAuthenticator` checks
the stream header (§4.7), offers features (§4.3.2), and walks the client through
STARTTLS (§5), SASL (§6) and resource binding (§7). Once bound, every stanza gets
its ``from`` stamped with the authenticated full JID (§8.1.2.1) and is handed to
the local domain for routing.
"""

from __future__ import annotations

import base64
import binascii
import ipaddress
import pyexpat
import secrets
from typing import TYPE_CHECKING, Any

from twisted.internet.interfaces import ITLSTransport
from twisted.logger import Logger
from twisted.words.protocols.jabber import error, jid, xmlstream
from twisted.words.protocols.jabber.xmlstream import NS_STREAMS
from twisted.words.xish import domish

from minixmpp import addressing, stanzalog
from minixmpp.c2s import sasl, sm
from minixmpp.c2s.bind import NS_BIND, NS_SESSION, BadResource, resourcepart
from minixmpp.sessions import Session
from minixmpp.stanza import strip_namespace
from minixmpp.tracking import StreamTracking

if TYPE_CHECKING:
    from minixmpp.server import Server

NS_CLIENT = "jabber:client"
NS_TLS = "urn:ietf:params:xml:ns:xmpp-tls"
NS_SASL = "urn:ietf:params:xml:ns:xmpp-sasl"
NS_CSI = "urn:xmpp:csi:0"
STANZAS = ("message", "presence", "iq")
HEADER = ("<?xml version='1.0'?><stream:stream xmlns:stream='http://etherx.jabber.org/streams' "
          "xmlns='jabber:client' from='{domain}' id='{id}' version='1.0'>")
IQ_TYPES = ("get", "set", "result", "error")


class RestrictedXML(Exception):
    """A DOCTYPE, entity, comment or processing instruction (RFC 6120 §11.1)."""


class TooDeep(Exception):
    """A stanza nests deeper than ``--max-stanza-depth``."""


class C2SStream(xmlstream.XmlStream):
    """An XMPP client stream with a hardened parser and a single element hook."""

    log = Logger()
    max_stanza_size = 262144
    max_depth = 100
    max_send_buffer = 4194304
    _closing = False
    _linger: Any = None

    def _initializeStream(self) -> None:
        super()._initializeStream()
        stream, parser = self.stream, self.stream.parser
        # Our own per-stanza byte count (below) replaces Twisted's per-chunk heuristic.
        stream.maxStanzaSize = 1 << 62
        self._fed = 0
        self._stanza_start = 0

        def restricted(*_: Any) -> None:
            raise RestrictedXML()

        parser.StartDoctypeDeclHandler = restricted
        parser.EntityDeclHandler = restricted
        parser.ProcessingInstructionHandler = restricted
        parser.CommentHandler = restricted
        parser.SetParamEntityParsing(pyexpat.XML_PARAM_ENTITY_PARSING_NEVER)
        start, end = parser.StartElementHandler, parser.EndElementHandler
        depth = [0]
        limit = self.max_depth + 1  # the stream element itself is depth 1

        def on_start(name: str, attrs: dict) -> None:
            if stream.documentStarted and stream.currElem is None:
                self._stanza_start = parser.CurrentByteIndex  # a top-level element begins
            depth[0] += 1
            if depth[0] > limit:
                raise TooDeep()
            start(name, attrs)

        def on_end(name: str) -> None:
            depth[0] -= 1
            end(name)

        parser.StartElementHandler = on_start
        parser.EndElementHandler = on_end

    def dataReceived(self, data: bytes) -> None:
        """Parse; map parser failures to the stream errors of RFC 6120 §4.9.3."""
        if self.stream is None or self._closing:
            return  # after a stream error nothing more is processed
        self._fed += len(data)
        self.authenticator.activity()
        try:
            self.stream.parse(data)
            stream = self.stream
            if (stream is not None and stream.currElem is not None
                    and self._fed - self._stanza_start > self.max_stanza_size):
                self._too_big()  # an unfinished stanza already over the limit
        except RestrictedXML:
            self.sendStreamError(error.StreamError("restricted-xml"))
        except TooDeep:
            self.sendStreamError(error.StreamError(
                "policy-violation", f"elements nested deeper than {self.max_depth}"))
        except domish.ParserError:
            self.sendStreamError(error.StreamError("not-well-formed"))
        except Exception:  # noqa: BLE001  (a bug must cost one stream, never the server)
            self.log.failure("unexpected error on c2s stream")
            self.sendStreamError(error.StreamError("internal-server-error"))

    def _too_big(self) -> None:
        self.sendStreamError(error.StreamError(
            "policy-violation", f"stanza larger than {self.max_stanza_size} bytes"))

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
        super().send(obj)
        if _pending(self.transport) > self.max_send_buffer and not self._closing:
            self.log.info("{peer}: {n} bytes unread, dropping the connection",
                          peer=self.authenticator.peer, n=_pending(self.transport))
            self.transport.abortConnection()

    def onElement(self, element: domish.Element) -> None:
        if self._closing:
            return
        if self.stream.parser.CurrentByteIndex - self._stanza_start > self.max_stanza_size:
            return self._too_big()
        self.authenticator.elementReceived(element)

    def onDocumentEnd(self) -> None:
        """The client closed its stream: close ours too (RFC 6120 §4.4)."""
        if not self._closing:
            self._closing = True
            self.sendFooter()
        self.transport.loseConnection()

    def connectionLost(self, reason: Any) -> None:
        if self._linger is not None and self._linger.active():
            self._linger.cancel()
        super().connectionLost(reason)
        self.authenticator.connectionLost()


class C2SAuthenticator(xmlstream.ListenAuthenticator):
    """Stream negotiation for one client: header, STARTTLS, SASL, bind."""

    namespace = NS_CLIENT
    log = Logger()

    def __init__(self, server: Server) -> None:
        super().__init__()
        self.server = server
        self.settings = server.settings
        self.tls = False
        self.user: str | None = None
        self.session: Session | None = None
        self.mechanism: sasl.Plain | sasl.Scram | None = None
        self.mechanism_name = ""
        self.peer = ""
        self.ip = ""
        self._ack_call: Any = None
        self._auth_timer: Any = None
        self._idle_timer: Any = None

    # -- stream header (RFC 6120 §4.7) ------------------------------------------------

    def connectionMade(self) -> None:
        transport = self.xmlstream.transport
        if hasattr(transport, "setTcpNoDelay"):
            transport.setTcpNoDelay(True)  # stanzas are small: no Nagle delays
        peer = transport.getPeer()
        self.ip = getattr(peer, "host", "")
        self.peer = f"{self.ip}:{getattr(peer, 'port', '')}"
        refusal = self.server.c2s_factory.refusal(self.xmlstream, self.ip)
        reactor = self.server.reactor
        if refusal:
            self.xmlstream.namespace = NS_CLIENT
            self.xmlstream.thisEntity = addressing.parse(self.settings.domain)
            self.xmlstream.sendStreamError(error.StreamError("policy-violation", refusal))
            return
        self._auth_timer = reactor.callLater(self.settings.auth_timeout, self._timed_out,
                                             "authenticate and bind")
        if self.settings.idle_timeout:
            self._idle_timer = reactor.callLater(self.settings.idle_timeout, self._timed_out,
                                                 "idle")

    def activity(self) -> None:
        if self._idle_timer is not None and self._idle_timer.active():
            self._idle_timer.reset(self.settings.idle_timeout)

    def _timed_out(self, what: str) -> None:
        self.log.info("{peer}: {what} timeout", peer=self.peer, what=what)
        self.xmlstream.sendStreamError(error.StreamError(
            "connection-timeout", f"{what} timeout"))

    def streamStarted(self, rootElement: domish.Element) -> None:
        xs = self.xmlstream
        xs.namespace = NS_CLIENT
        xs.thisEntity = addressing.parse(self.settings.domain)
        xs.sid = secrets.token_urlsafe(12)
        if rootElement.uri != NS_STREAMS or rootElement.name != "stream":
            return xs.sendStreamError(error.StreamError("invalid-namespace"))
        if rootElement.defaultUri != NS_CLIENT:
            return xs.sendStreamError(error.StreamError("invalid-namespace"))
        to = rootElement.getAttribute("to")
        try:
            host = addressing.parse(to).full() if to else None
        except jid.InvalidFormat:
            host = None
        if host != self.settings.domain:
            return xs.sendStreamError(error.StreamError(
                "host-unknown", f"this server serves {self.settings.domain}"))
        version = (rootElement.getAttribute("version") or "0.0").split(".")
        try:
            major = int(version[0])
        except ValueError:
            major = 0
        if major < 1:
            return xs.sendStreamError(error.StreamError("unsupported-version"))
        xs.version = (1, 0)
        xs.prefixes = {NS_STREAMS: "stream"}
        # The header and features are the same for every client in the same state:
        # serialize them once (a login sends two of each).
        xs.send(HEADER.format(domain=self.settings.domain, id=xs.sid))
        xs._headerSent = True
        key = (self.user is None, self.tls_offered(), self.tls, self.plain_allowed())
        features = self.server.c2s_factory.features_xml.get(key)
        if features is None:
            features = self.server.c2s_factory.features_xml[key] = self.features().toXml(
                prefixes=xs.prefixes, defaultUri=NS_CLIENT, prefixesInScope=["stream"])
        xs.send(features)

    def features(self) -> domish.Element:
        """Stream features for the current state (RFC 6120 §4.3.2)."""
        features = domish.Element((NS_STREAMS, "features"))
        if self.user is None:
            if self.tls_offered():
                starttls = features.addElement((NS_TLS, "starttls"))
                if self.settings.require_tls:
                    starttls.addElement("required")
            if self.tls or not self.settings.require_tls:
                mechs = features.addElement((NS_SASL, "mechanisms"))
                for name in sasl.mechanisms(self.plain_allowed()):
                    mechs.addElement("mechanism", content=name)
        else:
            features.addElement((NS_BIND, "bind"))
            features.addElement((NS_SESSION, "session")).addElement("optional")
            features.addElement((sm.NS_SM, "sm"))
            features.addElement((NS_CSI, "csi"))
        return features

    def tls_offered(self) -> bool:
        return (not self.tls and self.server.tls is not None
                and ITLSTransport.providedBy(self.xmlstream.transport))

    def plain_allowed(self) -> bool:
        """RFC 6120 §13.8: PLAIN only over TLS, unless configured (loopback by default)."""
        mode = self.settings.plain_without_tls
        if self.tls or mode == "always":
            return True
        if mode == "never":
            return False
        host = getattr(self.xmlstream.transport.getPeer(), "host", None)
        if host is None:
            return True
        try:
            return ipaddress.ip_address(host.split("%")[0]).is_loopback
        except ValueError:
            return False

    # -- elements -----------------------------------------------------------------------

    def elementReceived(self, element: domish.Element) -> None:
        """Every top-level element of the stream, in every state."""
        if self.settings.log_stanzas:
            stanzalog.stanza("IN", self.session.jid.full() if self.session else self.peer,
                             element)
        if element.uri == NS_STREAMS and element.name == "error":
            self.xmlstream.transport.loseConnection()
        elif self.session is not None:
            self._bound(self.session, element)
        elif self.user is None:
            self._unauthenticated(element)
        else:
            self._unbound(element)

    def _unauthenticated(self, element: domish.Element) -> None:
        xs = self.xmlstream
        if element.uri == NS_TLS and element.name == "starttls":
            self._starttls()
        elif element.uri == NS_SASL and element.name == "auth":
            self._auth(element)
        elif element.uri == NS_SASL and element.name == "response":
            self._response(element)
        elif element.uri == NS_SASL and element.name == "abort":
            self.mechanism = None
            self._sasl_failure("aborted")
        elif element.uri == NS_CLIENT and element.name in STANZAS:
            xs.sendStreamError(error.StreamError("not-authorized", "authenticate first"))
        else:
            xs.sendStreamError(error.StreamError("unsupported-stanza-type"))

    def _unbound(self, element: domish.Element) -> None:
        xs = self.xmlstream
        if element.uri == sm.NS_SM:
            if element.name == "resume":
                return self._resume(element)
            return self.send(sm.failed("unexpected-request"))  # enable before bind
        if element.uri == NS_CLIENT and element.name == "iq":
            child = _only_child(element)
            if child is not None and child.uri == NS_BIND and element.getAttribute("type") == "set":
                return self._bind(element, child)
            if child is not None and child.uri == NS_SESSION:
                return self.send(xmlstream.toResponse(element, "result"))
        if element.uri == NS_CLIENT and element.name in STANZAS:
            xs.sendStreamError(error.StreamError("not-authorized", "bind a resource first"))
        else:
            xs.sendStreamError(error.StreamError("unsupported-stanza-type"))

    def _bound(self, session: Session, element: domish.Element) -> None:
        """A stanza from a bound resource: check it, stamp ``from`` (RFC 6120 §8.1.2.1)."""
        xs = self.xmlstream
        if element.uri == sm.NS_SM:
            return self._sm_nonza(session, element)
        if element.uri == NS_CSI and element.name in ("active", "inactive"):
            session.csi = element.name  # XEP-0352 §4
            session.asleep_pushed = False
            return None
        if element.uri != NS_CLIENT or element.name not in STANZAS:
            return xs.sendStreamError(error.StreamError("unsupported-stanza-type"))
        if session.sm is not None:
            session.sm.received()
        claimed = element.getAttribute("from")
        if claimed is not None:
            try:
                ok = addressing.parse(claimed) in (session.jid, session.jid.userhostJID())
            except jid.InvalidFormat:
                ok = False
            if not ok:
                return xs.sendStreamError(error.StreamError(
                    "invalid-from", f"you are {session.jid.full()}"))
        strip_namespace(element)
        element["from"] = session.jid.full()
        stype = element.getAttribute("type")
        to = element.getAttribute("to")
        if to is not None:
            try:
                element["to"] = addressing.parse(to).full()
            except jid.InvalidFormat:
                if stype != "error":
                    self.send(error.StanzaError("jid-malformed").toResponse(element))
                return
        if element.name == "iq":
            if stype not in IQ_TYPES or not element.getAttribute("id"):
                return self.send(error.StanzaError("bad-request").toResponse(element))
            if stype in ("get", "set"):
                child = _only_child(element)
                if child is None:
                    return self.send(error.StanzaError(
                        "bad-request", text="an IQ get/set has exactly one child").toResponse(
                            element))
                if to is None and child.uri == NS_SESSION:
                    return self.send(xmlstream.toResponse(element, "result"))
                if to is None and child.uri == NS_BIND:
                    return self.send(error.StanzaError("not-allowed").toResponse(element))
        self.server.local.from_client(session, element)

    # -- stream management (XEP-0198) ---------------------------------------------------

    def _sm_nonza(self, session: Session, element: domish.Element) -> None:
        state = session.sm
        if element.name == "enable":
            if state is not None:
                return self.send(sm.failed("unexpected-request"))
            resume = element.getAttribute("resume") in ("true", "1")
            state = self.server.resumption.enable(session, resume)
            self.send(sm.element("enabled", id=state.id, resume=resume or None,
                                 max=state.max if resume else None))
        elif state is None:
            self.send(sm.failed("unexpected-request"))
        elif element.name == "r":
            self.send(sm.element("a", h=state.inbound))
        elif element.name == "a":
            try:
                h = int(element.getAttribute("h", ""))
            except ValueError:
                h = -1
            if not 0 <= h < sm.MOD or not state.ack(h):
                reason = error.StreamError("undefined-condition",
                                           text="acknowledged more stanzas than were sent")
                too_high = reason.getElement()
                too_high.addElement((sm.NS_SM, "handled-count-too-high"))
                return self.xmlstream.sendStreamError(_Raw(too_high))
        # anything else from the SM namespace is ignored (§4: unknown elements)

    def _resume(self, element: domish.Element) -> None:
        """§5: take over a hibernated session and resend what it did not acknowledge."""
        assert self.user is not None
        try:
            h = int(element.getAttribute("h", ""))
            if not 0 <= h < sm.MOD:
                raise ValueError(h)
            session = self.server.resumption.resume(
                self.user, element.getAttribute("previd", ""), h)
        except ValueError:
            return self.send(sm.failed("bad-request"))
        except sm.ResumeFailed as e:
            return self.send(sm.failed(e.condition))
        old = session.stream
        if old is not None:  # the old connection is not known dead yet: drop it quietly
            old.session = None
            old.xmlstream.transport.abortConnection()
        session.stream = self
        session.tls, session.peer = self.tls, self.peer
        self.session = session
        self._cancel(self._auth_timer)
        state = session.sm
        self.send(sm.element("resumed", previd=state.id, h=state.inbound))
        for stanza in list(state.queue):
            self.send(stanza)
        if state.queue:
            self.request_ack()
        self.log.info("{jid} resumed ({peer}; {n} stanzas sent again)",
                      jid=session.jid.full(), peer=self.peer, n=len(state.queue))

    def request_ack(self) -> None:
        """Ask for an ack soon, once for a burst of stanzas (§4)."""
        if self._ack_call is None:
            self._ack_call = self.server.reactor.callLater(0, self._request_ack_now)

    def _request_ack_now(self) -> None:
        self._ack_call = None
        if self.session is not None and self.xmlstream.transport is not None \
                and not self.xmlstream._closing:
            self.send(sm.element("r"))

    def send(self, element: domish.Element) -> None:
        if self.settings.log_stanzas:
            stanzalog.stanza("OUT", self.session.jid.full() if self.session else self.peer,
                             element)
        self.xmlstream.send(element)

    # -- STARTTLS (RFC 6120 §5.4) ---------------------------------------------------------

    def _starttls(self) -> None:
        xs = self.xmlstream
        if not self.tls_offered():
            xs.send(domish.Element((NS_TLS, "failure")))
            xs.sendFooter()
            xs.transport.loseConnection()
            return
        xs.send(domish.Element((NS_TLS, "proceed")))
        xs.transport.startTLS(self.server.tls.options)
        self.tls = True
        xs.reset()

    # -- SASL (RFC 6120 §6.4) -------------------------------------------------------------

    def _auth(self, element: domish.Element) -> None:
        if self.settings.require_tls and not self.tls:
            return self._sasl_failure("encryption-required")
        name = element.getAttribute("mechanism") or ""
        if name not in sasl.mechanisms(self.plain_allowed()):
            return self._sasl_failure("invalid-mechanism")
        self.mechanism = sasl.create(name, self.server.accounts, self.settings.domain)
        self._step(element)

    def _response(self, element: domish.Element) -> None:
        if self.mechanism is None:
            return self._sasl_failure("malformed-request", "no exchange in progress")
        self._step(element)

    def _step(self, element: domish.Element) -> None:
        text = "".join(c for c in element.children if isinstance(c, str)).strip()
        data: bytes | None
        if not text and element.name == "auth":
            data = None  # no initial response: send an empty challenge (§6.4.2)
        elif text == "=":
            data = b""
        else:
            try:
                data = base64.b64decode(text, validate=True)
            except (binascii.Error, ValueError):
                return self._failed(sasl.SASLFailure("incorrect-encoding"))
        mechanism = self.mechanism
        try:
            kind, payload = mechanism.step(data)
        except sasl.SASLFailure as e:
            return self._failed(e)
        reply = domish.Element((NS_SASL, kind))
        if payload:
            reply.addContent(base64.b64encode(payload).decode())
        elif kind == "challenge":
            reply.addContent("=")
        if kind == "success":
            self.user = mechanism.user
            self.mechanism = None
            self.mechanism_name = mechanism.name
            self.send(reply)
            self.xmlstream.reset()
            return
        self.send(reply)

    def _failed(self, e: sasl.SASLFailure) -> None:
        """A failed exchange: recorded, and answered late once an address keeps failing
        (``--auth-fail-limit``/``--auth-fail-delay``)."""
        self.mechanism = None
        delay = self.server.auth_failed(self.ip, self.peer, e.condition)
        if delay:
            self.server.reactor.callLater(delay, self._delayed_failure, e)
        else:
            self._sasl_failure(e.condition, e.text)

    def _delayed_failure(self, e: sasl.SASLFailure) -> None:
        if self.xmlstream.transport is not None and not self.xmlstream._closing:
            self._sasl_failure(e.condition, e.text)

    def _sasl_failure(self, condition: str, text: str = "") -> None:
        failure = domish.Element((NS_SASL, "failure"))
        failure.addElement(condition)
        if text:
            failure.addElement("text", content=text)
        self.send(failure)

    # -- resource binding (RFC 6120 §7) ---------------------------------------------------

    def _bind(self, iq: domish.Element, bind: domish.Element) -> None:
        requested = None
        for child in bind.elements():
            if child.name == "resource":
                requested = str(child)
        assert self.user is not None
        try:
            resource = resourcepart(requested, self.user, self.settings.domain)
        except BadResource as e:
            return self.send(error.StanzaError("bad-request", text=str(e)).toResponse(iq))
        full = addressing.make(self.user, self.settings.domain, resource)
        session = Session(full, self, tls=self.tls, peer=self.peer)
        self.server.sessions.bind(session)
        self.session = session
        self._cancel(self._auth_timer)
        reply = xmlstream.toResponse(iq, "result")
        reply.addElement((NS_BIND, "bind")).addElement("jid", content=full.full())
        self.send(reply)
        self.log.info("{jid} bound ({peer}, {mech}, {tls})", jid=full.full(), peer=self.peer,
                      mech=self.mechanism_name, tls="TLS" if self.tls else "no TLS")

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
        if self.session is None:
            return
        session, self.session = self.session, None
        if session.sm is not None and session.sm.resume and not self.xmlstream._closing:
            self.server.resumption.hibernate(session)  # died without </stream:stream>
        elif session.sm is not None:
            self.log.info("{jid} disconnected", jid=session.jid.full())
            self.server.resumption.end(session)
        else:
            self.server.sessions.unbind(session)
            self.log.info("{jid} disconnected", jid=session.jid.full())


def _pending(transport: Any) -> int:
    """Bytes written to a TCP transport but not yet sent."""
    buffered = getattr(transport, "dataBuffer", b"")
    return (len(buffered) - getattr(transport, "offset", 0)
            + getattr(transport, "_tempDataLen", 0))


class _Raw:
    """A ready-made stream error element, for ``sendStreamError``."""

    def __init__(self, element: domish.Element) -> None:
        self.element = element

    def getElement(self) -> domish.Element:
        return self.element


def _only_child(element: domish.Element) -> domish.Element | None:
    children = list(element.elements())
    return children[0] if len(children) == 1 else None


class C2SFactory(StreamTracking, xmlstream.XmlStreamServerFactory):
    """Builds one :class:`C2SStream` and authenticator per client connection."""

    protocol = C2SStream
    noisy = False

    def __init__(self, server: Server) -> None:
        super().__init__(lambda: C2SAuthenticator(server))
        self.server = server
        #: serialized stream features by negotiation state
        self.features_xml: dict[tuple[bool, ...], str] = {}

    def buildProtocol(self, addr: Any) -> C2SStream:
        xs = super().buildProtocol(addr)
        settings = self.server.settings
        xs.max_stanza_size = settings.max_stanza_size
        xs.max_depth = settings.max_stanza_depth
        xs.max_send_buffer = settings.max_send_buffer
        xs._callLater = self.server.reactor.callLater  # the server's reactor, not the global
        return self.track(xs)

    def refusal(self, xs: C2SStream, ip: str) -> str | None:
        """Why a new connection must be refused (``--max-connections[-per-ip]``)."""
        settings = self.server.settings
        streams = [s for s in self.open_streams if s is not xs]
        if len(streams) >= settings.max_connections:
            return f"too many connections (--max-connections {settings.max_connections})"
        per_ip = settings.max_connections_per_ip
        if per_ip and sum(1 for s in streams if s.authenticator.ip == ip) >= per_ip:
            return f"too many connections from {ip} (--max-connections-per-ip {per_ip})"
        return None
