"""A small, fast XMPP load client on plain asyncio (no XMPP library).

It speaks just what the benchmarks need: stream open, SASL SCRAM-SHA-1 or PLAIN,
resource binding, SASL2 + Bind2 (XEP-0388/0386) with SCRAM-SHA-1 and FAST re-login
(XEP-0484, HT-SHA-256-NONE), presence, chat messages, the XEP-0357 enable IQ, and stream
close.
SCRAM's salted password is cached per (password, salt, iterations), so the generator
does not spend its CPU on PBKDF2 and stays far from being the bottleneck.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import os
import re
from functools import lru_cache

HEADER = ("<?xml version='1.0'?><stream:stream xmlns='jabber:client' "
          "xmlns:stream='http://etherx.jabber.org/streams' to='{domain}' version='1.0'>")
NS_SASL = "urn:ietf:params:xml:ns:xmpp-sasl"
NS_SASL2 = "urn:xmpp:sasl:2"
BIND2 = "<bind xmlns='urn:xmpp:bind:0'><tag>bench</tag></bind>"
TOKEN = re.compile(rb"<token xmlns='urn:xmpp:fast:0' [^>]*token='([^']+)'")
JID = re.compile(rb"<authorization-identifier>([^<]+)</authorization-identifier>")
#: a latency run's body: its send time. Only such bodies match: a server still delivering
#: the saturation run's backlog (ejabberd's mnesia archive) must not end the receiver.
BODY = re.compile(rb"<body>([0-9]+\.[0-9]+)</body>")


@lru_cache(maxsize=64)
def salted(password: str, salt: bytes, iterations: int) -> bytes:
    return hashlib.pbkdf2_hmac("sha1", password.encode(), salt, iterations)


def scram_sha1_proof(password: str, client_first_bare: str, server_first: str,
                     final_without_proof: str) -> str:
    attrs = dict(part.split("=", 1) for part in server_first.split(","))
    salt = base64.b64decode(attrs["s"])
    key = salted(password, salt, int(attrs["i"]))
    client_key = hmac.new(key, b"Client Key", hashlib.sha1).digest()
    stored_key = hashlib.sha1(client_key).digest()
    auth_message = f"{client_first_bare},{server_first},{final_without_proof}".encode()
    signature = hmac.new(stored_key, auth_message, hashlib.sha1).digest()
    proof = bytes(a ^ b for a, b in zip(client_key, signature, strict=True))
    return base64.b64encode(proof).decode()


class XMPPError(Exception):
    pass


class Conn:
    """One client connection."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter,
                 domain: str) -> None:
        self.reader, self.writer, self.domain = reader, writer, domain
        self.buffer = b""
        self.jid = ""

    @classmethod
    async def open(cls, host: str, port: int, domain: str) -> Conn:
        reader, writer = await asyncio.open_connection(host, port, limit=1 << 22)
        return cls(reader, writer, domain)

    def send(self, data: str | bytes) -> None:
        self.writer.write(data.encode() if isinstance(data, str) else data)

    async def read(self) -> bytes:
        """The next bytes from the server (b"" when it closed)."""
        return await self.reader.read(65536)

    async def until(self, token: bytes) -> bytes:
        """Read until ``token``; return everything up to and including it."""
        while token not in self.buffer:
            chunk = await self.read()
            if not chunk:
                raise XMPPError(f"closed while waiting for {token!r}: {self.buffer[-300:]!r}")
            self.buffer += chunk
        end = self.buffer.index(token) + len(token)
        head, self.buffer = self.buffer[:end], self.buffer[end:]
        return head

    async def until_any(self, *tokens: bytes) -> tuple[bytes, bytes]:
        """Read until the first of ``tokens``; return it and everything up to it."""
        while True:
            found = [(self.buffer.find(t), t) for t in tokens if t in self.buffer]
            if found:
                index, token = min(found)
                end = index + len(token)
                head, self.buffer = self.buffer[:end], self.buffer[end:]
                return token, head
            chunk = await self.read()
            if not chunk:
                raise XMPPError(f"closed while waiting for {tokens!r}: {self.buffer[-300:]!r}")
            self.buffer += chunk

    async def stream(self) -> bytes:
        self.send(HEADER.format(domain=self.domain))
        return await self.until(b"</stream:features>")

    async def login(self, user: str, password: str, resource: str,
                    mechanism: str = "SCRAM-SHA-1") -> None:
        await self.stream()
        if mechanism == "PLAIN":
            payload = base64.b64encode(f"\0{user}\0{password}".encode()).decode()
            self.send(f"<auth xmlns='{NS_SASL}' mechanism='PLAIN'>{payload}</auth>")
        else:
            nonce = base64.b64encode(os.urandom(18)).decode()
            first_bare = f"n={user},r={nonce}"
            payload = base64.b64encode(f"n,,{first_bare}".encode()).decode()
            self.send(f"<auth xmlns='{NS_SASL}' mechanism='SCRAM-SHA-1'>{payload}</auth>")
            token, reply = await self.until_any(b"</challenge>", b"</failure>")
            if token != b"</challenge>":
                raise XMPPError(reply.decode(errors="replace"))
            text = reply[reply.index(b"<challenge"):].split(b">", 1)[1].rsplit(
                b"</challenge>", 1)[0]
            server_first = base64.b64decode(text).decode()
            server_nonce = dict(p.split("=", 1) for p in server_first.split(","))["r"]
            final = f"c=biws,r={server_nonce}"
            proof = scram_sha1_proof(password, first_bare, server_first, final)
            response = base64.b64encode(f"{final},p={proof}".encode()).decode()
            self.send(f"<response xmlns='{NS_SASL}'>{response}</response>")
        token, reply = await self.until_any(b"<success", b"</failure>")
        if token != b"<success":
            raise XMPPError(f"authentication failed: {reply!r}")
        tag = await self.until(b">")
        if not tag.endswith(b"/>"):
            await self.until(b"</success>")
        self.buffer = b""
        await self.stream()
        self.send("<iq type='set' id='bind'><bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'>"
                  f"<resource>{resource}</resource></bind></iq>")
        reply = await self.until(b"</iq>")
        self.jid = reply.split(b"<jid>", 1)[1].split(b"</jid>", 1)[0].decode()

    async def login_sasl2(self, user: str, password: str, agent: str,
                          request_token: bool = False) -> str | None:
        """SASL2 SCRAM-SHA-1 with Bind2, no stream restart; the FAST token if asked."""
        await self.stream()
        nonce = base64.b64encode(os.urandom(18)).decode()
        first_bare = f"n={user},r={nonce}"
        payload = base64.b64encode(f"n,,{first_bare}".encode()).decode()
        token_request = ("<request-token xmlns='urn:xmpp:fast:0' mechanism='HT-SHA-256-NONE'/>"
                         if request_token else "")
        self.send(f"<authenticate xmlns='{NS_SASL2}' mechanism='SCRAM-SHA-1'>"
                  f"<initial-response>{payload}</initial-response>"
                  f"<user-agent id='{agent}'/>{BIND2}{token_request}</authenticate>")
        token, reply = await self.until_any(b"</challenge>", b"</failure>")
        if token != b"</challenge>":
            raise XMPPError(reply.decode(errors="replace"))
        text = reply.rsplit(b"</challenge>", 1)[0].rsplit(b">", 1)[1]
        server_first = base64.b64decode(text).decode()
        server_nonce = dict(p.split("=", 1) for p in server_first.split(","))["r"]
        final = f"c=biws,r={server_nonce}"
        proof = scram_sha1_proof(password, first_bare, server_first, final)
        response = base64.b64encode(f"{final},p={proof}".encode()).decode()
        self.send(f"<response xmlns='{NS_SASL2}'>{response}</response>")
        return await self._sasl2_outcome()

    async def login_fast(self, user: str, token: str, agent: str, count: int) -> None:
        """FAST re-login (HT-SHA-256-NONE) with Bind2 in one round trip."""
        await self.stream()
        proof = hmac.new(token.encode(), b"Initiator", hashlib.sha256).digest()
        payload = base64.b64encode(user.encode() + b"\0" + proof).decode()
        self.send(f"<authenticate xmlns='{NS_SASL2}' mechanism='HT-SHA-256-NONE'>"
                  f"<initial-response>{payload}</initial-response>"
                  f"<user-agent id='{agent}'/><fast xmlns='urn:xmpp:fast:0' count='{count}'/>"
                  f"{BIND2}</authenticate>")
        await self._sasl2_outcome()

    async def _sasl2_outcome(self) -> str | None:
        token, reply = await self.until_any(b"</success>", b"</failure>")
        if token != b"</success>":
            raise XMPPError(f"authentication failed: {reply!r}")
        self.jid = JID.search(reply).group(1).decode()
        found = TOKEN.search(reply)
        return found.group(1).decode() if found else None

    async def enable_push(self, service: str, node: str) -> None:
        self.send(f"<iq type='set' id='push'><enable xmlns='urn:xmpp:push:0' jid='{service}' "
                  f"node='{node}'/></iq>")
        reply = await self.until(b"id='push'")
        if b"type='error'" in reply[-200:]:
            raise XMPPError(reply.decode(errors="replace"))
        await self.until(b">")

    async def close(self) -> None:
        try:
            self.send("</stream:stream>")
            await asyncio.wait_for(self.until(b"</stream:stream>"), 5)
        except (TimeoutError, XMPPError, ConnectionError):
            pass
        self.writer.close()

    def leave(self) -> None:
        """End the stream and go, without waiting for the server's end (RFC 6120 §4.4
        lets the closing side wait; a client that is done need not). ejabberd answers a
        stream end about 100 ms later: idle time, not the server's work."""
        self.send("</stream:stream>")
        self.writer.close()

    def abort(self) -> None:
        self.writer.transport.abort()


FRAMING = "urn:ietf:params:xml:ns:xmpp-framing"
STANZA = re.compile(rb"^<(iq|message|presence)(?=[\s/>])(?![^>]*\bxmlns=)")


class WSConn(Conn):
    """The same client over WebSocket (RFC 7395), as plain asyncio as the TCP one: a
    library's per-message machinery would count against the server in every latency.
    RFC 6455 framing: text frames, masked from the client (§5.3), one element each."""

    frames = b""  # received bytes not yet cut into frames

    @classmethod
    async def open(cls, host: str, port: int, domain: str) -> WSConn:  # type: ignore[override]
        reader, writer = await asyncio.open_connection(host, port, limit=1 << 22)
        key = base64.b64encode(os.urandom(16)).decode()
        writer.write((f"GET /xmpp-websocket HTTP/1.1\r\nHost: {host}:{port}\r\n"
                      "Upgrade: websocket\r\nConnection: Upgrade\r\n"
                      f"Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n"
                      "Sec-WebSocket-Protocol: xmpp\r\n\r\n").encode())
        head = await reader.readuntil(b"\r\n\r\n")
        if not head.startswith(b"HTTP/1.1 101"):
            raise XMPPError(f"no WebSocket upgrade: {head[:200]!r}")
        return cls(reader, writer, domain)

    def send(self, data: str | bytes) -> None:
        """One element per frame; a stanza gets its ``jabber:client`` namespace, which no
        stream element declares here (RFC 7395 §3.3.3: every frame is a whole XML
        document; Prosody refuses stanzas without it)."""
        payload = data.encode() if isinstance(data, str) else data
        self.writer.write(_frame(STANZA.sub(rb"<\1 xmlns='jabber:client'", payload, 1)))

    async def read(self) -> bytes:
        """The payloads of the next complete text frames (b"" once closed)."""
        while True:
            out, self.frames = _payloads(self.frames)
            if out is not None:
                return out
            chunk = await self.reader.read(65536)
            if not chunk:
                return b""
            self.frames += chunk

    async def stream(self) -> bytes:
        self.send(f"<open xmlns='{FRAMING}' to='{self.domain}' version='1.0'/>")
        return await self.until(b"</stream:features>")

    async def close(self) -> None:
        try:
            self.send(f"<close xmlns='{FRAMING}'/>")
            await asyncio.wait_for(self.until(b"<close"), 5)
            self.writer.write(b"\x88\x80" + os.urandom(4))  # close frame, empty, masked
        except (TimeoutError, XMPPError, ConnectionError):
            pass
        self.writer.close()

    def leave(self) -> None:
        """:meth:`Conn.leave` over WebSocket: the framing's close, then the frame's."""
        self.send(f"<close xmlns='{FRAMING}'/>")
        self.writer.write(b"\x88\x80" + os.urandom(4))  # close frame, empty, masked
        self.writer.close()

    def abort(self) -> None:
        self.writer.transport.abort()


def _frame(payload: bytes) -> bytes:
    """One masked text frame (RFC 6455 §5.2)."""
    n = len(payload)
    if n < 126:
        head = bytes((0x81, 0x80 | n))
    elif n < 65536:
        head = bytes((0x81, 0x80 | 126)) + n.to_bytes(2, "big")
    else:
        head = bytes((0x81, 0x80 | 127)) + n.to_bytes(8, "big")
    mask = os.urandom(4)
    masked = (int.from_bytes(payload, "big") ^ int.from_bytes(
        (mask * (n // 4 + 1))[:n], "big")).to_bytes(n, "big") if n else b""
    return head + mask + masked


def _payloads(buffer: bytes) -> tuple[bytes | None, bytes]:
    """The text of every complete frame at the start of ``buffer`` (server frames are
    unmasked), and what is left; None while not even one frame is complete. A close
    frame reads as b"" (the end)."""
    out: list[bytes] = []
    while len(buffer) >= 2:
        opcode, n = buffer[0] & 0x0F, buffer[1] & 0x7F
        at = 2
        if n == 126:
            if len(buffer) < 4:
                break
            n, at = int.from_bytes(buffer[2:4], "big"), 4
        elif n == 127:
            if len(buffer) < 10:
                break
            n, at = int.from_bytes(buffer[2:10], "big"), 10
        if len(buffer) < at + n:
            break
        payload, buffer = buffer[at:at + n], buffer[at + n:]
        if opcode == 0x8:
            return b"".join(out), b""
        if opcode in (0x1, 0x0):
            out.append(payload)
    return (b"".join(out) if out else None), buffer
