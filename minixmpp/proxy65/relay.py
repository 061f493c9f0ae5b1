"""The SOCKS5 side of the bytestream proxy (XEP-0065 §6.3): connections paired by their
DST.ADDR, activated by the requester's IQ (§6.3.5), then relayed both ways.

Twisted's ``twisted.protocols.socks`` speaks SOCKS4 only, so :class:`SOCKS5` is the
small subset of RFC 1928 the XEP uses (§8: no authentication, CONNECT, ATYP 3, DST.ADDR
the hex SHA-1 of SID + requester JID + target JID). The first connection with a hash is
the target's, the second the requester's (Prosody's rule); a third is refused. Bytes
sent before activation are dropped (§8: "ignore"), and relaying applies back-pressure
both ways (each transport is the other's producer, as ``twisted.protocols.portforward``).

Bounded (``--proxy65-*``, SECURITY.md): bytestreams at once (and so connections, two per
bytestream), bytes per bytestream, and how long a connection may wait to be activated.
"""

from __future__ import annotations

import re
import struct
from dataclasses import dataclass
from typing import Any

from twisted.internet import protocol
from twisted.logger import Logger

#: RFC 1928 §6 replies
SUCCEEDED, GENERAL_FAILURE, NOT_ALLOWED = 0x00, 0x01, 0x02
COMMAND_NOT_SUPPORTED, ADDRESS_TYPE_NOT_SUPPORTED = 0x07, 0x08
SHA1_HEX = re.compile(rb"[0-9a-fA-F]{40}")


class ActivationError(Exception):
    """Why a bytestream cannot be activated: a XEP-0065 §6.3.5 stanza error."""

    def __init__(self, condition: str, text: str) -> None:
        super().__init__(condition, text)
        self.condition = condition
        self.text = text


@dataclass
class Stream:
    """One bytestream: its two connections, whether it is active, what it relayed."""

    hash: str
    target: SOCKS5 | None = None
    requester: SOCKS5 | None = None
    active: bool = False
    relayed: int = 0


class SOCKS5(protocol.Protocol):
    """One connection: greeting, CONNECT request, wait for activation, relay."""

    log = Logger()

    def __init__(self, relay: Relay) -> None:
        self.relay = relay
        self.state = "greeting"
        self.buffer = b""
        self.stream: Stream | None = None
        self.peer: SOCKS5 | None = None
        self._timer: Any = None

    def connectionMade(self) -> None:
        if not self.relay.admit(self):
            self.state = "closed"
            self.transport.loseConnection()
            return
        self._timer = self.relay.clock.callLater(self.relay.timeout, self._expired)

    def _expired(self) -> None:
        self._timer = None
        self.log.info("SOCKS5 bytestream not activated within {s} s: closed",
                      s=self.relay.timeout)
        self.transport.loseConnection()

    def dataReceived(self, data: bytes) -> None:
        if self.state == "relaying":
            return self.relay.forward(self, data)
        if self.state != "greeting" and self.state != "request":
            return None  # waiting for activation (§8: ignore), or closing
        self.buffer += data
        if self.state == "greeting":
            self._greeting()
        if self.state == "request":
            self._request()
        return None

    def _greeting(self) -> None:
        """RFC 1928 §3: VER NMETHODS METHODS; only X'00' (no authentication) is taken."""
        if self.buffer[:1] != b"\x05":
            return self._close(b"")  # not SOCKS5
        if len(self.buffer) < 2 or len(self.buffer) < 2 + self.buffer[1]:
            return None
        end = 2 + self.buffer[1]
        methods, self.buffer = self.buffer[2:end], self.buffer[end:]
        if 0 not in methods:
            return self._close(b"\x05\xff")  # no acceptable method
        self.transport.write(b"\x05\x00")
        self.state = "request"
        return None

    def _close(self, last: bytes) -> None:
        self.transport.write(last)
        self.state = "closed"
        self.transport.loseConnection()

    def _request(self) -> None:
        """RFC 1928 §4 as XEP-0065 §8 fixes it: VER 5, CMD 1, RSV, ATYP 3, the hash (DST.PORT
        is echoed, §6.3.3: BND.ADDR and BND.PORT are DST.ADDR and DST.PORT)."""
        if len(self.buffer) < 5:
            return
        version, command, _, atyp, length = self.buffer[:5]
        if atyp == 3 and len(self.buffer) < 7 + length:
            return
        address, port = self.buffer[5:5 + length], self.buffer[5 + length:7 + length]
        self.buffer = b""
        if version != 5:
            return self._reply(GENERAL_FAILURE)
        if command != 1:
            return self._reply(COMMAND_NOT_SUPPORTED)
        if atyp != 3:
            return self._reply(ADDRESS_TYPE_NOT_SUPPORTED)
        if not SHA1_HEX.fullmatch(address):
            return self._reply(NOT_ALLOWED)
        refusal = self.relay.pair(self, address.decode().lower())
        if refusal is not None:
            return self._reply(refusal)
        self.state = "waiting"
        self.transport.write(b"\x05\x00\x00\x03" + bytes([length]) + address + port)
        return None

    def _reply(self, code: int) -> None:
        """A refusal (RFC 1928 §6), then the connection is closed."""
        self._close(struct.pack("!BBBB", 5, code, 0, 1) + b"\x00" * 6)

    def activated(self, peer: SOCKS5) -> None:
        """Relay from now on, each side pausing the other when its buffer fills."""
        self.cancel_timer()
        self.state, self.peer = "relaying", peer
        peer.transport.registerProducer(self.transport, True)

    def cancel_timer(self) -> None:
        if self._timer is not None and self._timer.active():
            self._timer.cancel()
        self._timer = None

    def connectionLost(self, reason: Any) -> None:
        self.cancel_timer()
        self.state = "closed"
        self.relay.lost(self)


class Relay(protocol.ServerFactory):
    """Every bytestream of the proxy, by hash, and the limits they are kept within."""

    noisy = False
    log = Logger()

    def __init__(self, clock: Any, max_streams: int, max_bytes: int, timeout: int) -> None:
        self.clock = clock
        self.max_streams = max_streams
        self.max_bytes = max_bytes
        self.timeout = timeout
        self.streams: dict[str, Stream] = {}
        self.connections: set[SOCKS5] = set()

    def buildProtocol(self, addr: Any) -> SOCKS5:
        return SOCKS5(self)

    def admit(self, conn: SOCKS5) -> bool:
        """Two connections per bytestream at most, so ``2 x --proxy65-max-streams``."""
        if len(self.connections) >= 2 * self.max_streams:
            self.log.info("SOCKS5 connection refused: {n} open (--proxy65-max-streams)",
                          n=len(self.connections))
            return False
        self.connections.add(conn)
        return True

    def pair(self, conn: SOCKS5, digest: str) -> int | None:
        """The target's connection opens a bytestream, the requester's joins it; the reply
        code of a refusal, else None."""
        stream = self.streams.get(digest)
        if stream is None:
            if len(self.streams) >= self.max_streams:
                return NOT_ALLOWED
            stream = self.streams[digest] = Stream(digest, target=conn)
        elif stream.requester is None and not stream.active:
            stream.requester = conn
        else:
            return NOT_ALLOWED  # §8: one target per bytestream
        conn.stream = stream
        return None

    def activate(self, digest: str) -> None:
        """§6.3.5: relay between the two connections; :class:`ActivationError` with the
        condition when there is no such bytestream or one party is missing."""
        stream = self.streams.get(digest)
        if stream is None:
            raise ActivationError("item-not-found", "no bytestream with that hash is "
                                  "connected (SID, requester and target JIDs)")
        if stream.active:
            raise ActivationError("not-allowed", "the bytestream is active already")
        if stream.target is None or stream.requester is None:
            raise ActivationError("not-allowed", "only one party is connected")
        stream.active = True
        stream.target.activated(stream.requester)
        stream.requester.activated(stream.target)

    def forward(self, conn: SOCKS5, data: bytes) -> None:
        stream, peer = conn.stream, conn.peer
        assert stream is not None and peer is not None
        stream.relayed += len(data)
        if self.max_bytes and stream.relayed > self.max_bytes:
            self.log.info("SOCKS5 bytestream closed after {n} bytes (--proxy65-max-bytes)",
                          n=self.max_bytes)
            conn.transport.loseConnection()
            peer.transport.loseConnection()
            return
        peer.transport.write(data)

    def lost(self, conn: SOCKS5) -> None:
        """A connection is gone: its bytestream ends, and the other side is closed once
        what it was sent is written."""
        self.connections.discard(conn)
        stream = conn.stream
        if stream is None:
            return
        if self.streams.get(stream.hash) is stream:
            del self.streams[stream.hash]
        for other in (stream.target, stream.requester):
            if other is not None and other is not conn and other.transport is not None:
                other.transport.unregisterProducer()
                other.transport.loseConnection()

    def close_all(self) -> None:
        """Shutdown: every connection goes."""
        for conn in list(self.connections):
            conn.transport.abortConnection()
