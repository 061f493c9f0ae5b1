"""XMPP over WebSocket (RFC 7395) at ``/xmpp-websocket``, with autobahn.

The WebSocket only frames: each text message is handed to the same c2s stream as TCP
uses (:class:`~minixmpp.c2s.framed.FramedStream`, built by the same ``C2SFactory``
with the same stages), so SASL, bind, stream management and push behave identically.
RFC 7395 §3.2: the ``xmpp`` subprotocol is required; §3.3: one element per message;
§3.4–3.6: ``<open/>``, ``<close/>``, restarts after SASL, stream errors then ``<close/>``.
"""

from __future__ import annotations

from typing import Any

from autobahn.twisted.websocket import WebSocketServerFactory, WebSocketServerProtocol
from autobahn.websocket.types import ConnectionDeny
from twisted.internet import error as ierror
from twisted.python import failure

from minixmpp.c2s import autobahn_shim
from minixmpp.c2s.framed import FramedStream, FrameTransport, attributes
from minixmpp.c2s.stream import _pending
from minixmpp.feature import Context, Feature, Mount

autobahn_shim.install()

SUBPROTOCOL = "xmpp"


class WebSocketFrames(FrameTransport):
    __slots__ = ("protocol", "stream_ref")

    def __init__(self, protocol: XMPPWebSocket) -> None:
        super().__init__(protocol.transport.getPeer(), protocol.transport.getHost())
        self.protocol = protocol
        self.stream_ref: FramedStream | None = None

    def frame(self, data: bytes) -> None:
        if self.disconnecting:
            return
        self.protocol.sendMessage(data, isBinary=False)
        stream = self.stream_ref
        if stream is not None and _pending(self.protocol.transport) > stream.max_send_buffer:
            # a client that stops reading: bounded as on TCP (--max-send-buffer)
            self.disconnecting = True
            self.protocol.transport.abortConnection()

    def close(self) -> None:
        self.protocol.sendClose(1000)

    def cut(self) -> None:
        self.protocol.transport.abortConnection()

    def pauseProducing(self) -> None:
        self.protocol.transport.pauseProducing()

    def resumeProducing(self) -> None:
        self.protocol.transport.resumeProducing()


class XMPPWebSocket(WebSocketServerProtocol):
    """One WebSocket connection = one c2s stream."""

    xs: FramedStream | None = None

    def onConnect(self, request: Any) -> str:
        origin = request.headers.get("origin")
        if origin and not self.factory.cors.allowed(origin):
            raise ConnectionDeny(403, "origin not allowed (--http-origins)")
        if SUBPROTOCOL not in request.protocols:
            raise ConnectionDeny(400, "the 'xmpp' WebSocket subprotocol is required "
                                 "(RFC 7395 §3.2)")
        return SUBPROTOCOL

    def onOpen(self) -> None:
        c2s = self.factory.c2s
        xs = c2s.buildProtocol(self.transport.getPeer())
        xs.authenticator.tls = self.factory.secure
        self.xs = xs
        frames = WebSocketFrames(self)
        frames.stream_ref = xs
        xs.makeConnection(frames)

    def onMessage(self, payload: bytes, isBinary: bool) -> None:
        xs = self.xs
        if xs is None or xs.transport is None:
            return
        if isBinary:  # §3.3.2: text frames only
            from twisted.words.protocols.jabber import error

            return xs.sendStreamError(error.StreamError("bad-format", "binary frame"))
        head = payload.lstrip()[:7]
        if head.startswith(b"<open") and head[5:6] in (b" ", b"/", b">", b"\t", b"\n"):
            attrs = attributes(payload[:2048].decode("utf-8", "replace"))
            return xs.open_stream(attrs.get("to"), attrs.get("version"),
                                  attrs.get("xml:lang"))
        if head.startswith(b"<close") and head[6:7] in (b" ", b"/", b">"):
            return xs.close_stream()
        xs.element_bytes(payload)

    def onClose(self, wasClean: bool, code: int, reason: str) -> None:
        xs, self.xs = self.xs, None
        if xs is not None and xs.transport is not None:
            transport = xs.transport
            transport.disconnecting = True
            xs.connectionLost(failure.Failure(ierror.ConnectionDone()))
            xs.transport = None


def websocket_factory(c2s: Any, cors: Any, secure: bool, max_message: int
                      ) -> WebSocketServerFactory:
    """The autobahn factory for ``/xmpp-websocket``; ``c2s`` builds the streams."""
    factory = WebSocketServerFactory()
    factory.protocol = XMPPWebSocket
    factory.c2s = c2s
    factory.cors = cors
    factory.secure = secure
    # utf8validateIncoming off: the stream's hardened parser checks the bytes, so invalid
    # UTF-8 gets the `not-well-formed` stream error it gets over TCP (then <close/>),
    # not a bare WebSocket close (1007) that an XMPP client cannot read
    factory.setProtocolOptions(maxMessagePayloadSize=max_message,
                               maxFramePayloadSize=max_message, autoPingInterval=0,
                               utf8validateIncoming=False)
    return factory


def build(ctx: Context) -> Feature | None:
    """The ``websocket`` feature: ``/xmpp-websocket`` on the HTTP listener
    (``--no-websocket`` off)."""
    from autobahn.twisted.resource import WebSocketResource

    from minixmpp.web.hostmeta import REL_WEBSOCKET

    s = ctx.settings
    if not s.http:
        return None  # it needs the HTTP listener

    def resource(web: Any) -> Any:
        return WebSocketResource(websocket_factory(web.c2s, web.cors, web.secure,
                                                   s.max_stanza_size + 1024))

    return Feature("websocket", mounts=(Mount(b"xmpp-websocket", resource,
                                              rel=REL_WEBSOCKET),))
