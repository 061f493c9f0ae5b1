"""A raw XMPP client for tests: it sends exactly what a test says and reads what comes
back as whole elements (the stream header, then each stanza or nonza), as Prosody's
scansion transcripts read a stream; the same reading for blocking sockets, and the
namespaces and patterns such a test speaks in."""

from __future__ import annotations

import asyncio
from typing import Any

from twisted.words.xish import domish

from tests.xmlassert import STREAMS, as_element, find, mismatch, show

SASL = "urn:ietf:params:xml:ns:xmpp-sasl"
TLS = "urn:ietf:params:xml:ns:xmpp-tls"
BIND = "urn:ietf:params:xml:ns:xmpp-bind"
STREAM_ERRORS = "urn:ietf:params:xml:ns:xmpp-streams"
STANZA_ERRORS = "urn:ietf:params:xml:ns:xmpp-stanzas"
HEADER = ("<?xml version='1.0'?><stream:stream xmlns='jabber:client' "
          f"xmlns:stream='{STREAMS}' to='{{to}}' version='1.0'>")


class Received:
    """What a server sent on one XML stream, parsed as it arrives: the stream header, then
    each top-level element whole (a stanza, ``<stream:features/>``, ``<success/>``...),
    kept in ``pending`` until a test takes it."""

    def __init__(self) -> None:
        self.header: domish.Element | None = None
        self.pending: list[domish.Element] = []
        self.ended = False  # </stream:stream> arrived
        self.not_xml: str | None = None  # why the parser stopped, if the bytes were not XML
        self._parser = domish.elementStream()
        self._parser.DocumentStartEvent = self._start
        self._parser.ElementEvent = self.pending.append
        self._parser.DocumentEndEvent = self._end

    def _start(self, root: domish.Element) -> None:
        self.header = root

    def _end(self) -> None:
        self.ended = True

    def feed(self, data: bytes) -> None:
        if self.not_xml is None and not self.ended:
            try:
                self._parser.parse(data)
            except domish.ParserError as e:
                self.not_xml = str(e)

    def take(self, *patterns: str | domish.Element) -> domish.Element | None:
        """The first pending element that matches one of ``patterns``, taken out."""
        wanted = [as_element(p) for p in patterns]
        for i, element in enumerate(self.pending):
            if any(mismatch(element, want) is None for want in wanted):
                return self.pending.pop(i)
        return None

    def describe(self) -> str:
        lines = [f"  header: {show(self.header) if self.header is not None else None}"]
        lines += [f"  {show(e)[:300]}" for e in self.pending[-20:]]
        if self.ended:
            lines.append("  </stream:stream>")
        if self.not_xml:
            lines.append(f"  (not XML: {self.not_xml})")
        return "\n".join(lines)


class Raw:
    """A byte-level client: it sends exactly what a test says, and reads what comes back
    as whole elements, as a scansion transcript reads a stream::

        raw.send("<iq type='get' id='p' to='localhost'><ping xmlns='urn:xmpp:ping'/></iq>")
        assert_xml(await raw.next("<iq id='p'/>"), "<iq type='result' from='localhost'/>")

    ``next`` waits (bounded) for the first received element that matches a pattern, and
    fails with what did arrive; elements it passes over stay in ``pending``.
    """

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter,
                 domain: str = "localhost") -> None:
        self.reader = reader
        self.writer = writer
        self.domain = domain
        self.received = Received()
        self.eof = False  # the server closed the connection

    @classmethod
    async def connect(cls, server: Any) -> Raw:
        reader, writer = await asyncio.open_connection("127.0.0.1", server.port)
        return cls(reader, writer, server.settings.domain)

    @property
    def header(self) -> domish.Element | None:
        """The server's stream header (``<stream:stream>``), once it came."""
        return self.received.header

    @property
    def pending(self) -> list[domish.Element]:
        """Elements received and not taken by :meth:`next`, in order."""
        return self.received.pending

    @property
    def ended(self) -> bool:
        """The server closed its stream (``</stream:stream>``)."""
        return self.received.ended

    def send(self, data: str | bytes) -> None:
        self.writer.write(data.encode() if isinstance(data, str) else data)

    async def _read(self) -> None:
        try:
            chunk = await self.reader.read(65536)
        except ConnectionError:
            chunk = b""
        if not chunk:
            self.eof = True
        self.received.feed(chunk)

    async def next(self, *patterns: str | domish.Element, timeout: float = 5
                   ) -> domish.Element:
        """The first element received and not yet taken that matches one of ``patterns``
        (``assert_xml`` patterns); waits up to ``timeout`` seconds for it."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while (found := self.received.take(*patterns)) is None:
            if self.eof or loop.time() > deadline:
                why = "the connection closed" if self.eof else f"nothing in {timeout}s"
                raise AssertionError(f"expected {' or '.join(map(str, patterns))}, but "
                                     f"{why}; received:\n{self.received.describe()}")
            try:
                await asyncio.wait_for(self._read(), max(0.0, deadline - loop.time()))
            except TimeoutError:
                pass
        return found

    async def closed(self, timeout: float = 5) -> list[domish.Element]:
        """Read until the server closes the connection; the elements not taken."""
        async def to_the_end() -> None:
            while not self.eof:
                await self._read()
        try:
            await asyncio.wait_for(to_the_end(), timeout)
        except TimeoutError:
            raise AssertionError(f"the server did not close the connection in {timeout}s; "
                                 f"received:\n{self.received.describe()}") from None
        return self.pending

    async def stream_error(self, condition: str, timeout: float = 5) -> domish.Element:
        """Read to the end: the ``<stream:error/>`` with ``condition`` (RFC 6120 §4.9) that
        the server closed the stream with."""
        rest = await self.closed(timeout)
        error = find(rest, f"<stream:error><{condition} xmlns='{STREAM_ERRORS}'/>"
                           "</stream:error>")
        if error is None or not self.ended:
            raise AssertionError(f"expected a <{condition}/> stream error and "
                                 f"</stream:stream>; received:\n{self.received.describe()}")
        return error

    async def open_stream(self, to: str | None = None) -> domish.Element:
        """Send a stream header (a new stream: at the start, after STARTTLS or SASL);
        return the server's ``<stream:features/>`` (its header is :attr:`header`)."""
        self.received = Received()
        self.send(HEADER.format(to=to or self.domain))
        return await self.next("<stream:features/>")

    def close(self) -> None:
        self.writer.close()


class BlockingStream:
    """:class:`Raw`'s reading side for a blocking socket in a thread (pyOpenSSL, a
    server in another process): ``recv`` is the subclass's."""

    received: Received
    eof: bool = False

    def recv(self, timeout: float) -> bytes | None:
        """At most ``timeout`` seconds for bytes; ``b""`` at the end, ``None`` if none came."""
        raise NotImplementedError

    def restart(self) -> None:
        """A new stream on the same connection (after STARTTLS or SASL)."""
        self.received = Received()

    def next(self, *patterns: str | domish.Element, timeout: float = 5) -> domish.Element:
        """As :meth:`Raw.next`."""
        import time

        deadline = time.monotonic() + timeout
        while (found := self.received.take(*patterns)) is None:
            if self.eof or time.monotonic() > deadline:
                why = "the connection closed" if self.eof else f"nothing in {timeout}s"
                raise AssertionError(f"expected {' or '.join(map(str, patterns))}, but "
                                     f"{why}; received:\n{self.received.describe()}")
            chunk = self.recv(max(0.01, deadline - time.monotonic()))
            if chunk == b"":
                self.eof = True
            elif chunk:
                self.received.feed(chunk)
        return found


def stanza_error(stanza: str, condition: str, error_type: str | None = None,
                 **attrs: str) -> str:
    """A pattern: a ``stanza`` (iq, message, presence) of type error with ``condition``
    (RFC 6120 §8.3): ``stanza_error("iq", "not-acceptable", id="r1")``."""
    given = "".join(f" {k}='{v}'" for k, v in attrs.items())
    kind = f" type='{error_type}'" if error_type else ""
    return (f"<{stanza} type='error'{given}><error{kind}><{condition} "
            f"xmlns='{STANZA_ERRORS}'/></error></{stanza}>")


def element(text: str | bytes) -> domish.Element:
    """One element from its text alone, with only the namespaces it declares itself (a
    WebSocket message, RFC 7395 §3.3.3; a BOSH body): it fails unless that is XML."""
    data = text.encode() if isinstance(text, str) else text
    received = Received()
    received.feed(b"<frame>" + data + b"</frame>")
    if received.not_xml or len(received.pending) != 1:
        raise AssertionError(f"not one XML element ({received.not_xml}): {data[:300]!r}")
    return received.pending[0]


def plain(user: str, password: str) -> str:
    import base64

    return base64.b64encode(f"\0{user}\0{password}".encode()).decode()


async def scram_login(raw: Raw, mech: str, user: str, password: str
                      ) -> list[domish.Element]:
    """Run a SCRAM exchange on a raw stream; the server's answers in order
    (``<challenge/>`` then ``<success/>`` or ``<failure/>``, or just ``<failure/>``)."""
    import base64

    from scramp import ScramClient

    client = ScramClient([mech], user, password)
    first = base64.b64encode(client.get_client_first().encode()).decode()
    raw.send(f"<auth xmlns='{SASL}' mechanism='{mech}'>{first}</auth>")
    answer = await raw.next(f"<challenge xmlns='{SASL}'/>", f"<failure xmlns='{SASL}'/>")
    if answer.name != "challenge":
        return [answer]
    client.set_server_first(base64.b64decode(str(answer)).decode())
    final = base64.b64encode(client.get_client_final().encode()).decode()
    raw.send(f"<response xmlns='{SASL}'>{final}</response>")
    return [answer, await raw.next(f"<success xmlns='{SASL}'/>", f"<failure xmlns='{SASL}'/>")]


async def raw_authenticated(server: Any, user: str) -> tuple[Raw, domish.Element]:
    """A raw client authenticated with PLAIN (no TLS), stream restarted, not bound;
    returns it and the features offered after authentication."""
    raw = await Raw.connect(server)
    await raw.open_stream()
    raw.send(f"<auth xmlns='{SASL}' mechanism='PLAIN'>{plain(user, user)}</auth>")
    await raw.next(f"<success xmlns='{SASL}'/>")
    return raw, await raw.open_stream()


async def raw_login(server: Any, user: str, resource: str = "raw") -> Raw:
    """A raw client authenticated with PLAIN and bound (no TLS)."""
    raw, _ = await raw_authenticated(server, user)
    raw.send(f"<iq type='set' id='b1'><bind xmlns='{BIND}'>"
             f"<resource>{resource}</resource></bind></iq>")
    await raw.next("<iq type='result' id='b1'/>")
    return raw
