"""The text-reading raw client, for the tests not yet moved to :mod:`tests.raw`'s
element-reading one: it sends exactly what a test says and waits for a regex over what
came back (``read_until``). New tests use :class:`tests.raw.Raw` (whole elements,
structural assertions)."""

from __future__ import annotations

import asyncio
import base64
import itertools
import re
from typing import Any

from tests.raw import plain

__all__ = ["Raw", "plain", "raw_authenticated", "raw_barrier", "raw_login", "scram_login"]

_barriers = itertools.count(1)


class Raw:
    """A byte-level client: send exactly what a test says, read what comes back."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader = reader
        self.writer = writer
        self.buffer = b""

    @classmethod
    async def connect(cls, server: Any) -> Raw:
        reader, writer = await asyncio.open_connection("127.0.0.1", server.port)
        return cls(reader, writer)

    def send(self, data: str | bytes) -> None:
        self.writer.write(data.encode() if isinstance(data, str) else data)

    async def _more(self) -> bool:
        try:
            chunk = await self.reader.read(65536)
        except ConnectionError:
            chunk = b""
        self.buffer += chunk
        return bool(chunk)

    async def read_until(self, pattern: str, timeout: float = 5) -> str:
        """Read until the regex ``pattern`` matches what was received so far (or the
        connection closes); everything received."""
        async def loop() -> str:
            while not re.search(pattern, self.buffer.decode(errors="replace"), re.S):
                if not await self._more():
                    break
            return self.buffer.decode(errors="replace")
        return await asyncio.wait_for(loop(), timeout)

    async def read_to_close(self, timeout: float = 5) -> str:
        """Everything until the server closes the connection."""
        async def loop() -> str:
            while await self._more():
                pass
            return self.buffer.decode(errors="replace")
        return await asyncio.wait_for(loop(), timeout)

    async def open_stream(self, to: str = "localhost") -> str:
        """Send a stream header; return the server's header and features."""
        self.buffer = b""
        self.send(f"<?xml version='1.0'?><stream:stream xmlns='jabber:client' "
                  f"xmlns:stream='http://etherx.jabber.org/streams' to='{to}' version='1.0'>")
        return await self.read_until("</stream:features>")

    def close(self) -> None:
        self.writer.close()


async def scram_login(raw: Raw, mech: str, user: str, password: str) -> str:
    """Run a SCRAM exchange (RFC 5802) on a raw stream; everything the server said."""
    from scramp import ScramClient

    client = ScramClient([mech], user, password)
    first = base64.b64encode(client.get_client_first().encode()).decode()
    raw.send(f"<auth xmlns='urn:ietf:params:xml:ns:xmpp-sasl' mechanism='{mech}'>{first}</auth>")
    text = await raw.read_until("</challenge>|</failure>")
    if "<challenge" not in text:
        return text
    challenge = text.split("<challenge", 1)[1].split(">", 1)[1].split("</challenge>")[0]
    client.set_server_first(base64.b64decode(challenge).decode())
    final = base64.b64encode(client.get_client_final().encode()).decode()
    raw.send(f"<response xmlns='urn:ietf:params:xml:ns:xmpp-sasl'>{final}</response>")
    return await raw.read_until("</failure>|</success>|<success[^>]*/>")


async def raw_authenticated(server: Any, user: str) -> tuple[Raw, str]:
    """A raw client authenticated with PLAIN (no TLS), stream restarted, not bound; it
    and the features offered after authentication."""
    raw = await Raw.connect(server)
    await raw.open_stream()
    raw.send(f"<auth xmlns='urn:ietf:params:xml:ns:xmpp-sasl' mechanism='PLAIN'>"
             f"{plain(user, user)}</auth>")
    await raw.read_until("<success")
    return raw, await raw.open_stream()


async def raw_login(server: Any, user: str, resource: str = "raw") -> Raw:
    """A raw client authenticated with PLAIN and bound (no TLS)."""
    raw, _ = await raw_authenticated(server, user)
    raw.send(f"<iq type='set' id='b1'><bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'>"
             f"<resource>{resource}</resource></bind></iq>")
    await raw.read_until("</iq>")
    raw.buffer = b""
    return raw


async def raw_barrier(raw: Raw, timeout: float = 5) -> str:
    """An IQ ping round trip on a bound :class:`Raw`; what it read so far."""
    n = next(_barriers)
    raw.send(f"<iq type='get' id='barrier-{n}' to='localhost'>"
             "<ping xmlns='urn:xmpp:ping'/></iq>")
    return await raw.read_until(f"id='barrier-{n}'", timeout)
