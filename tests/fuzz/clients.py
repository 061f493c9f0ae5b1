"""Blocking byte-level clients for the three c2s transports, one interface: a raw TCP
stream, a WebSocket (RFC 7395, hand-framed, so a fuzzed payload reaches the server as it
was generated) and BOSH (XEP-0124/0206, raw HTTP POSTs). The server runs in another
process (``ProcessServer``); every wait is bounded.

Each client keeps everything it received as text (``text``) and says whether the stream
ended (``ended``) and how (``error_ended``: a stream error or a BOSH terminate
condition). IQ requests the server sends to the client (an IQ forwarded by a room to an
occupant, say) are answered at once, as a real client would, so the server is never
left waiting on the fuzzer.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import http.client
import os
import re
import socket
import time

DOMAIN = "localhost"
SASL = "urn:ietf:params:xml:ns:xmpp-sasl"
SASL2 = "urn:xmpp:sasl:2"
BIND = "urn:ietf:params:xml:ns:xmpp-bind"
FRAMING = "urn:ietf:params:xml:ns:xmpp-framing"
HTTPBIND = "http://jabber.org/protocol/httpbind"
XBOSH = "urn:xmpp:xbosh"
HEADER = ("<?xml version='1.0'?><stream:stream xmlns='jabber:client' "
          f"xmlns:stream='http://etherx.jabber.org/streams' to='{DOMAIN}' version='1.0'>")

_REQUEST = re.compile(r"<iq\b(?=[^>]*\btype=['\"](?:get|set)['\"])[^>]*>")
_STANZA = re.compile(r"^<(iq|message|presence)((?![^>]*xmlns=)[\s/>])")
_ATTR = re.compile(r"""(\w+)=['"]([^'"]*)['"]""")


def plain(user: str, password: str) -> str:
    return base64.b64encode(f"\0{user}\0{password}".encode()).decode()


def ht_proof(user: str, token: str) -> str:
    """HT-SHA-256-NONE's one message (XEP-0484): ``user NUL HMAC(token, "Initiator")``."""
    proof = hmac.new(token.encode(), b"Initiator", hashlib.sha256).digest()
    return base64.b64encode(user.encode() + b"\0" + proof).decode()


class Stream:
    """What every transport offers the fuzz tests."""

    name = ""

    def __init__(self, server) -> None:
        self.server = server
        self.text = ""
        self.ended = False
        self._answered: set[tuple[str, str]] = set()
        self._scanned = 0

    # -- to be provided by a transport -------------------------------------------------------

    def open(self) -> str:
        """Open (or restart) the stream; the text up to the features."""
        raise NotImplementedError

    def send(self, *elements: str | bytes) -> None:
        """Top-level elements (or raw bytes: a fuzzed, possibly broken payload)."""
        raise NotImplementedError

    def _receive(self, timeout: float) -> None:
        """Read what the server sends within ``timeout`` into ``text``; set ``ended``."""
        raise NotImplementedError

    def close(self) -> None:
        raise NotImplementedError

    # -- common ---------------------------------------------------------------------------------

    @property
    def error_ended(self) -> bool:
        """The stream ended with a stream error (or a BOSH terminate condition)."""
        return "<stream:error" in self.text or bool(
            re.search(r"type=['\"]terminate['\"][^>]*condition=", self.text))

    def read_until(self, pattern: str, timeout: float = 5) -> bool:
        """Wait (bounded) for ``pattern`` in everything received; True if it came."""
        deadline = time.monotonic() + timeout
        regex = re.compile(pattern, re.S)
        while not regex.search(self.text):
            left = deadline - time.monotonic()
            if self.ended or left <= 0:
                return bool(regex.search(self.text))
            self._receive(min(left, 1.0))
            self._answer_requests()
        return True

    def _answer_requests(self) -> None:
        """Answer IQ get/set sent to us (forwarded by a room, a server's disco query):
        a fuzzer that never answered would make the server wait on it."""
        for match in _REQUEST.finditer(self.text, self._scanned):
            attrs = dict(_ATTR.findall(match.group(0)))
            ident, sender = attrs.get("id"), attrs.get("from")
            if ident and sender and (sender, ident) not in self._answered and not self.ended:
                self._answered.add((sender, ident))
                self.send(f"<iq type='result' id='{ident}' to='{sender}'/>")
        self._scanned = len(self.text)

    def mark(self) -> int:
        return len(self.text)

    def since(self, mark: int) -> str:
        return self.text[mark:]

    def login(self, user: str, password: str, resource: str) -> None:
        """Legacy SASL PLAIN and a bind (RFC 6120)."""
        self.open()
        self.send(f"<auth xmlns='{SASL}' mechanism='PLAIN'>{plain(user, password)}</auth>")
        assert self.read_until("<success"), self.text[-500:]
        self.open()
        self.send(f"<iq type='set' id='bind'><bind xmlns='{BIND}'><resource>{resource}"
                  "</resource></bind></iq>")
        assert self.read_until("id='bind'.*?</iq>"), self.text[-500:]

    def ping(self, ident: str, to: str = DOMAIN, timeout: float = 5) -> bool:
        """A ping that must be answered (or the stream has ended)."""
        self.send(f"<iq type='get' id='{ident}' to='{to}'><ping xmlns='urn:xmpp:ping'/></iq>")
        return self.read_until(f"id=['\"]{ident}['\"]", timeout)


class TCPStream(Stream):
    name = "tcp"

    def __init__(self, server) -> None:
        super().__init__(server)
        self.sock = socket.create_connection(("127.0.0.1", server.port), timeout=5)

    def open(self) -> str:
        mark = self.mark()
        self.send(HEADER)
        self.read_until("</stream:features>|</stream:stream>")
        return self.since(mark)

    def send(self, *elements: str | bytes) -> None:
        if self.ended:
            return
        data = b"".join(e.encode() if isinstance(e, str) else e for e in elements)
        try:
            self.sock.sendall(data)
        except OSError:
            self.ended = True

    def _receive(self, timeout: float) -> None:
        self.sock.settimeout(max(0.01, timeout))
        try:
            chunk = self.sock.recv(65536)
        except TimeoutError:
            return
        except OSError:
            chunk = b""
        if not chunk:
            self.ended = True
        self.text += chunk.decode(errors="replace")
        if "</stream:stream>" in self.text:
            self.ended = True

    def close(self) -> None:
        self.sock.close()


class WebSocketStream(Stream):
    """RFC 6455 by hand: masked text frames out, one element each."""

    name = "websocket"

    def __init__(self, server) -> None:
        super().__init__(server)
        self.sock = socket.create_connection(("127.0.0.1", server.http_port), timeout=5)
        key = base64.b64encode(os.urandom(16)).decode()
        self.sock.sendall((f"GET /xmpp-websocket HTTP/1.1\r\nHost: 127.0.0.1:"
                           f"{server.http_port}\r\nUpgrade: websocket\r\nConnection: Upgrade"
                           f"\r\nSec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n"
                           "Sec-WebSocket-Protocol: xmpp\r\n\r\n").encode())
        head = b""
        while b"\r\n\r\n" not in head:
            chunk = self.sock.recv(4096)
            assert chunk, head
            head += chunk
        head, self.buffer = head.split(b"\r\n\r\n", 1)
        assert head.startswith(b"HTTP/1.1 101"), head

    def open(self) -> str:
        mark = self.mark()
        self.send(f"<open xmlns='{FRAMING}' to='{DOMAIN}' version='1.0'/>")
        self.read_until("</stream:features>|<close ")
        return self.since(mark)

    def send(self, *elements: str | bytes) -> None:
        for element in elements:
            self.frame(element.encode() if isinstance(element, str) else element)

    def frame(self, payload: bytes, opcode: int = 0x1) -> None:
        if self.ended:
            return
        n = len(payload)
        if n < 126:
            head = bytes((0x80 | opcode, 0x80 | n))
        elif n < 65536:
            head = bytes((0x80 | opcode, 0x80 | 126)) + n.to_bytes(2, "big")
        else:
            head = bytes((0x80 | opcode, 0x80 | 127)) + n.to_bytes(8, "big")
        mask = os.urandom(4)
        masked = bytes(b ^ mask[i % 4] for i, b in enumerate(payload))
        try:
            self.sock.sendall(head + mask + masked)
        except OSError:
            self.ended = True

    def _receive(self, timeout: float) -> None:
        self.sock.settimeout(max(0.01, timeout))
        try:
            chunk = self.sock.recv(65536)
        except TimeoutError:
            chunk = None
        except OSError:
            chunk = b""
        if chunk == b"":
            self.ended = True
        elif chunk:
            self.buffer += chunk
        buffer = self.buffer
        while len(buffer) >= 2:
            opcode, n, at = buffer[0] & 0x0F, buffer[1] & 0x7F, 2
            if n == 126:
                n, at = int.from_bytes(buffer[2:4], "big"), 4
            elif n == 127:
                n, at = int.from_bytes(buffer[2:10], "big"), 10
            if len(buffer) < at + n:
                break
            payload, buffer = buffer[at:at + n], buffer[at + n:]
            if opcode == 0x8:
                self.ended = True
            elif opcode in (0x0, 0x1):
                self.text += payload.decode(errors="replace")
        self.buffer = buffer
        if f"<close xmlns='{FRAMING}'" in self.text:
            self.ended = True

    def close(self) -> None:
        self.sock.close()


class BoshStream(Stream):
    """One BOSH session (XEP-0124): every :meth:`send` is one request with the next
    ``rid``; a wait polls with empty requests (``wait`` of one second, ``hold`` 1)."""

    name = "bosh"

    def __init__(self, server) -> None:
        super().__init__(server)
        self.conn = http.client.HTTPConnection("127.0.0.1", server.http_port, timeout=10)
        self.rid = 1000
        self.sid = ""
        self.restart = False
        #: add xmlns='jabber:client' to stanzas: always, never, None: every other request
        self.qualify: bool | None = None

    def post(self, body: bytes) -> str:
        try:
            self.conn.request("POST", "/http-bind", body=body,
                              headers={"Content-Type": "text/xml; charset=utf-8"})
            response = self.conn.getresponse()
            text = response.read().decode(errors="replace")
        except (OSError, http.client.HTTPException):
            self.conn.close()
            self.ended = True
            return ""
        self.text += text
        if re.search(r"type=['\"]terminate['\"]", text):
            self.ended = True
        return text

    def open(self) -> str:
        mark = self.mark()
        if not self.sid:
            self.rid += 1
            text = self.post(
                f"<body xmlns='{HTTPBIND}' rid='{self.rid}' to='{DOMAIN}' wait='1' hold='1' "
                f"ver='1.11' xmpp:version='1.0' xmlns:xmpp='{XBOSH}'/>".encode())
            found = re.search(r"sid='([^']+)'", text)
            self.sid = found.group(1) if found else ""
        else:
            self.restart = True
            self.send()
        self.read_until("</stream:features>")
        return self.since(mark)

    def send(self, *elements: str | bytes) -> None:
        if self.ended:
            return
        self.rid += 1
        # stanzas qualified as XEP-0206 asks, and (every other request) left in the
        # body's namespace, as some clients send them
        qualify = self.rid % 2 == 0 if self.qualify is None else self.qualify
        inner = b"".join(_STANZA.sub(r"<\1 xmlns='jabber:client'\2", e, count=1).encode()
                         if isinstance(e, str) and qualify else
                         e.encode() if isinstance(e, str) else e for e in elements)
        restart = f" xmpp:restart='true' to='{DOMAIN}'" if self.restart else ""
        self.restart = False
        self.post(f"<body xmlns='{HTTPBIND}' rid='{self.rid}' sid='{self.sid}' "
                  f"xmlns:xmpp='{XBOSH}'{restart}>".encode() + inner + b"</body>")

    def _receive(self, timeout: float) -> None:
        self.send()  # a poll: answered once there is something, or after wait

    def close(self) -> None:
        if not self.ended and self.sid:
            self.rid += 1
            self.post(f"<body xmlns='{HTTPBIND}' rid='{self.rid}' sid='{self.sid}' "
                      "type='terminate'/>".encode())
        self.conn.close()


TRANSPORTS = {cls.name: cls for cls in (TCPStream, WebSocketStream, BoshStream)}
