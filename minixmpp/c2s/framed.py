"""The c2s stream over a message-framed transport (WebSocket RFC 7395, BOSH XEP-0206).

A framed transport does not carry one long XML document: every message is a complete
element, the stream header becomes ``<open/>`` (or a BOSH session request) and the
footer ``<close/>``. :class:`FramedStream` is the same :class:`C2SStream`, with the same
authenticator and stages (SASL, bind, SM, push...), whose parser is fed a synthetic
stream header, the stanzas of each message, and a footer; and whose output is cut into
self-contained elements, one per write (namespaces declared on each, RFC 7395 §3.3.3).
A transport is a :class:`FrameTransport`: it only moves those frames.
"""

from __future__ import annotations

import re
from typing import Any
from xml.sax.saxutils import quoteattr

from twisted.words.xish import domish

from minixmpp import ns, stanzalog
from minixmpp.c2s.stream import C2SStream

_ATTR = re.compile(r"""([\w:.-]+)\s*=\s*(?:"([^"]*)"|'([^']*)')""")
_HEADER_ATTRS = ("from", "id", "version")


def attributes(tag: str) -> dict[str, str]:
    """The attributes of one start tag (``<open to='x' version='1.0'/>``)."""
    start = tag.find("<")
    end = tag.find(">", start)
    head = tag[start:end if end > 0 else len(tag)]
    return {m.group(1): m.group(2) if m.group(2) is not None else m.group(3)
            for m in _ATTR.finditer(head)}


def stream_header(to: str | None, version: str | None, lang: str | None = None) -> bytes:
    """The ``<stream:stream>`` start tag a framed ``<open/>`` stands for."""
    attrs = "".join(f" {name}={quoteattr(value)}" for name, value in
                    (("to", to), ("version", version), ("xml:lang", lang)) if value)
    return (f"<stream:stream xmlns='{ns.CLIENT}' "
            f"xmlns:stream='{ns.STREAMS}'{attrs}>").encode()


class FrameTransport:
    """The ``ITransport`` a :class:`FramedStream` writes to: one ``write`` per frame.

    Subclasses implement :meth:`frame` (send one element) and :meth:`close`.
    """

    __slots__ = ("_peer", "_host", "stream", "disconnecting")

    def __init__(self, peer: Any, host: Any) -> None:
        self.disconnecting = False
        self._peer = peer
        self._host = host
        self.stream: FramedStream | None = None

    def frame(self, data: bytes) -> None:
        raise NotImplementedError

    def close(self) -> None:
        raise NotImplementedError

    # ITransport, as far as the stream uses it
    def write(self, data: bytes) -> None:
        self.frame(data)

    def writeSequence(self, seq: list[bytes]) -> None:
        for data in seq:
            self.frame(data)

    def loseConnection(self) -> None:
        if not self.disconnecting:
            self.disconnecting = True
            self.close()

    abortConnection = loseConnection

    # network faults (c2s/faults.py): what lies beneath the frames
    def cut(self) -> None:
        """The connection under the frames is lost, without a close."""

    def pauseProducing(self) -> None:
        """Stop reading frames (a stall)."""

    def resumeProducing(self) -> None:
        """Read frames again."""

    def getPeer(self) -> Any:
        return self._peer

    def getHost(self) -> Any:
        return self._host


class _Released:
    """Stands in for the parser of a stream that was released between elements."""

    documentStarted = True
    currElem = None


RELEASED = _Released()


class FramedStream(C2SStream):
    """A :class:`C2SStream` whose input and output are whole elements."""

    #: framing of the header and footer: WebSocket ``<open/>``/``<close/>``; BOSH sends
    #: neither (the session carries them)
    framing = True
    transport_name = "websocket"

    # -- in ----------------------------------------------------------------------------------

    def release_parser(self) -> None:
        """Drop the expat parser while no element is open (a BOSH session between
        requests: about 10 KiB each); the next element gets a new one, primed with the
        stream header without starting the stream again."""
        stream = self.stream
        if (stream is not None and stream is not RELEASED and stream.documentStarted
                and stream.currElem is None and not self._closing):
            self.stream = RELEASED

    def dataReceived(self, data: bytes) -> None:
        if self.stream is RELEASED:
            self._initializeStream()
            header = stream_header(None, "1.0")
            self.stream.DocumentStartEvent = lambda root: None  # started once already
            self.stream.parse(header)
            self.stream.DocumentStartEvent = self.onDocumentStart
            self._fed = self._raw_base = len(header)  # the parser counts the header
        super().dataReceived(data)

    def open_stream(self, to: str | None, version: str | None, lang: str | None = None
                    ) -> None:
        """A new stream begins (first ``<open/>``, or a restart after SASL)."""
        if self.stream is None or self.stream.documentStarted:
            # an <open/> again without SASL in between: a fresh parser for it (after
            # SASL success the authenticator has reset the stream already, §3.5)
            self._initializeStream()
        self.dataReceived(stream_header(to, version, lang))

    def awaiting_header(self) -> bool:
        """The stream was reset after SASL success (RFC 6120 §6.4.6) and no new header
        came yet: the next element would be taken for the stream's root."""
        return (self.transport is not None and self.stream is not None
                and not self.stream.documentStarted)

    def element_bytes(self, data: bytes) -> None:
        """One complete element (a stanza or a negotiation element); nothing once the
        stream is gone."""
        if self.transport is not None:
            self.dataReceived(data)

    def close_stream(self) -> None:
        """The client closes the stream (``<close/>``, BOSH terminate)."""
        if self.stream is not None and self.stream.documentStarted:
            self.dataReceived(b"</stream:stream>")
        elif self.transport is not None:
            self.transport.loseConnection()

    # -- out ---------------------------------------------------------------------------------

    def send(self, obj: Any) -> None:
        if self.transport is None:
            return
        if self.faults is not None and self.faults.hold(obj):
            return
        if isinstance(obj, domish.Element):
            if obj.uri in (None, ns.CLIENT) and obj.defaultUri in (None, ns.CLIENT):
                # a stanza: declare jabber:client on it (its children inherit it)
                text = obj.toXml(defaultUri=ns.CLIENT)
                cut = len(obj.name) + 1
                text = f"{text[:cut]} xmlns='{ns.CLIENT}'{text[cut:]}"
            elif obj.uri == ns.STREAMS:  # stream errors, features: the stream prefix
                text = _stream_prefixed(obj)
            else:
                text = obj.toXml()
        else:
            text = obj.decode() if isinstance(obj, bytes) else obj
            if text.startswith("<?xml") or text.startswith("<stream:stream"):
                return self._send_open(text)
            if text == "</stream:stream>":
                if self.framing:
                    self.transport.write(f"<close xmlns='{ns.FRAMING}'/>".encode())
                return
            if text.startswith("<stream:features"):
                text = text.replace("<stream:features",
                                    f"<stream:features xmlns:stream='{ns.STREAMS}'", 1)
        if self.keep_raw:  # traffic capture; a credential is masked
            self.authenticator.captured("out", stanzalog.masked(obj) if isinstance(
                obj, domish.Element) and stanzalog.sensitive(obj) else text)
        self.transport.write(text.encode())

    def _send_open(self, header: str) -> None:
        if not self.framing:
            return
        attrs = attributes(header[header.find("<stream:stream"):])
        out = "".join(f" {k}={quoteattr(attrs[k])}" for k in _HEADER_ATTRS if k in attrs)
        self.transport.write(f"<open xmlns='{ns.FRAMING}'{out} xml:lang='en'/>".encode())


def _stream_prefixed(element: domish.Element) -> str:
    """``<stream:error xmlns:stream=...>`` as RFC 7395 §3.6.1 shows it."""
    body = element.toXml(prefixes={ns.STREAMS: "stream"}, prefixesInScope=["stream"])
    name = f"<stream:{element.name}"
    return body.replace(name, f"{name} xmlns:stream='{ns.STREAMS}'", 1)


def framed_factory(tcp: Any) -> Any:
    """A ``C2SFactory`` for framed transports beside the TCP one: the same context and
    stages but STARTTLS (TLS is the HTTP listener's business, ``ssl:``), building
    :class:`FramedStream`\\ s."""
    from minixmpp.c2s.starttls import StartTLS
    from minixmpp.c2s.stream import C2SFactory

    factory = C2SFactory(tcp.contexts, tcp.context.settings.domain,
                         stages=tuple(s for s in tcp.stages if s is not StartTLS))
    factory.protocol = FramedStream
    return factory
