"""Test helpers: a real slixmpp client and a raw byte-level client, both over loopback."""

from __future__ import annotations

import asyncio
import logging
import re
import ssl
from pathlib import Path
from typing import Any

import slixmpp
from twisted.internet.defer import Deferred

logging.getLogger("slixmpp").setLevel(logging.CRITICAL)

TESTS = Path(__file__).resolve().parent
ROOT = TESTS.parent  # the repository


def future(d: Deferred) -> asyncio.Future:
    """A Deferred of the server's (Twisted) side as something an ``async def`` test awaits:
    tests run as asyncio tasks on the loop the asyncio reactor drives (tests/conftest.py)."""
    return d.asFuture(asyncio.get_event_loop())


def block(awaitable: Any) -> Any:
    """Run ``awaitable`` to its end from synchronous code (a fixture, the test hook in
    tests/conftest.py): started inside the reactor as an asyncio task, waited for on
    pytest-twisted's greenlet."""
    import pytest_twisted
    from twisted.internet import reactor

    done: Deferred = Deferred()

    def start() -> None:
        inner = awaitable if isinstance(awaitable, Deferred) else Deferred.fromFuture(
            asyncio.ensure_future(awaitable))
        inner.chainDeferred(done)

    reactor.callLater(0, start)
    return pytest_twisted.blockon(done)


class Remote:
    """What :func:`login` and :class:`Raw` need, for a server in another process."""

    def __init__(self, port: int, domain: str = "localhost", cert_pem: bytes | None = None
                 ) -> None:
        self.port = port
        self.tls = type("TLS", (), {"cert_pem": cert_pem})() if cert_pem else None
        self.settings = type("Settings", (), {"domain": domain})()


def client_ssl_context(server: Any) -> ssl.SSLContext:
    """Trust exactly the server's (self-signed) certificate."""
    context = ssl.create_default_context(cadata=server.tls.cert_pem.decode())
    return context


class Client(slixmpp.ClientXMPP):
    """slixmpp client that records what it receives."""

    def __init__(self, jid: str, password: str, **kw: Any) -> None:
        super().__init__(jid, password, **kw)
        self.messages: list[Any] = []
        self.presences: list[Any] = []
        self.stream_errors: list[str] = []
        self.add_event_handler("message", self.messages.append)
        self.add_event_handler("presence", self.presences.append)
        self.add_event_handler("stream_error", lambda e: self.stream_errors.append(
            e["condition"]))

    async def next(self, event: str, timeout: float = 5) -> Any:
        return await self.wait_until(event, timeout)

    async def next_message(self, timeout: float = 5) -> Any:
        if self.messages:
            return self.messages.pop(0)
        await self.wait_until("message", timeout)
        return self.messages.pop(0)


async def login(server: Any, user: str, password: str | None = None, resource: str = "test",
                *, tls: bool = False, mech: str | None = None, presence: bool = True,
                roster: bool = True, priority: int | None = None, show: str | None = None,
                timeout: float = 5, plugins: tuple[str, ...] = ()) -> Client:
    """Connect, authenticate and bind a real slixmpp client; wait for session_start."""
    domain = server.settings.domain
    c = Client(f"{user}@{domain}/{resource}", password or user,
               ssl_context=client_ssl_context(server) if server.tls else None)
    c.enable_direct_tls = False
    c.enable_starttls = tls
    c.enable_plaintext = not tls
    for plugin in plugins:
        c.register_plugin(plugin)
    mechanisms = c["feature_mechanisms"]
    mechanisms.unencrypted_plain = True
    mechanisms.unencrypted_scram = True
    if mech:
        mechanisms.use_mech = mech
    started: asyncio.Future = asyncio.get_event_loop().create_future()

    def session_start(_: Any) -> None:
        if not started.done():
            started.set_result(True)

    def failed(_: Any) -> None:
        if not started.done():
            started.set_exception(AssertionError("authentication failed"))

    c.add_event_handler("session_start", session_start)
    c.add_event_handler("failed_all_auth", failed)
    c.connect("127.0.0.1", server.port)
    await asyncio.wait_for(started, timeout)
    if roster:
        await c.get_roster()
    if presence:
        kw: dict[str, Any] = {}
        if priority is not None:
            kw["ppriority"] = priority
        if show is not None:
            kw["pshow"] = show
        c.send_presence(**kw)
        await barrier(c)  # the presence was handled: the resource is available
    return c


async def barrier(client: Client, timeout: float = 5) -> None:
    """An IQ ping (XEP-0199) round trip to the server on ``client``'s stream.

    The server handles one stream's stanzas in order, and routing, delivery, push policy
    and the in-process App Server all run in the reactor turn that handles a stanza:
    once the pong is back, everything ``client`` sent before was fully handled. A
    barrier on a receiver's stream then proves that nothing more is on its way to it
    (TCP keeps the order), which is how a test shows that something did *not* happen.
    """
    import xml.etree.ElementTree as ET

    iq = client.make_iq_get(ito=client.boundjid.domain)
    iq.xml.append(ET.Element("{urn:xmpp:ping}ping"))
    await iq.send(timeout=timeout)


_barriers = iter(range(1, 1 << 62))


async def raw_barrier(raw: Raw, timeout: float = 5) -> str:
    """:func:`barrier` for a bound :class:`Raw` client; returns what it read so far."""
    n = next(_barriers)
    raw.send(f"<iq type='get' id='barrier-{n}' to='localhost'>"
             "<ping xmlns='urn:xmpp:ping'/></iq>")
    return await raw.read_until(f"id='barrier-{n}'", timeout)


async def close(*clients: Client) -> None:
    for c in clients:
        if c.transport is not None:
            await c.disconnect(wait=0.5)


async def start_session(c: Client, timeout: float = 5) -> None:
    """Reconnect an existing client and wait until its session (or resumption) is up."""
    done: asyncio.Future = asyncio.get_event_loop().create_future()
    for event in ("session_start", "session_resumed"):
        c.add_event_handler(event, lambda _, e=event: done.done() or done.set_result(e),
                            disposable=True)
    c.connect("127.0.0.1", c.custom_address[1])
    await asyncio.wait_for(done, timeout)


def kill_tcp(c: Client) -> None:
    """Lose the connection without closing the stream (a phone losing its network)."""
    c.transport.abort()


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

    async def read_until(self, pattern: str, timeout: float = 5) -> str:
        """Read until the regex ``pattern`` matches what was received so far."""
        async def loop() -> str:
            while True:
                text = self.buffer.decode(errors="replace")
                if re.search(pattern, text, re.S):
                    return text
                try:
                    chunk = await self.reader.read(65536)
                except ConnectionError:
                    chunk = b""
                if not chunk:
                    return text
                self.buffer += chunk
        return await asyncio.wait_for(loop(), timeout)

    async def read_to_close(self, timeout: float = 5) -> str:
        """Everything until the server closes the connection."""
        async def loop() -> str:
            while True:
                try:
                    chunk = await self.reader.read(65536)
                except ConnectionError:
                    chunk = b""
                if not chunk:
                    return self.buffer.decode(errors="replace")
                self.buffer += chunk
        return await asyncio.wait_for(loop(), timeout)

    async def open_stream(self, to: str = "localhost") -> str:
        """Send a stream header; return the server's header and features."""
        self.buffer = b""
        self.send(f"<?xml version='1.0'?><stream:stream xmlns='jabber:client' "
                  f"xmlns:stream='http://etherx.jabber.org/streams' to='{to}' version='1.0'>")
        return await self.read_until("</stream:features>")

    def close(self) -> None:
        self.writer.close()


def plain(user: str, password: str) -> str:
    import base64

    return base64.b64encode(f"\0{user}\0{password}".encode()).decode()


async def scram_login(raw: Raw, mech: str, user: str, password: str) -> str:
    """Run a SCRAM exchange on a raw stream; return everything the server said."""
    import base64

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
    """A raw client authenticated with PLAIN (no TLS), stream restarted, not bound;
    returns it and the features offered after authentication."""
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


async def eventually(condition: Any, timeout: float = 5, interval: float = 0.01) -> None:
    """Wait until ``condition()`` is true (bounded); fail with AssertionError otherwise."""
    loop = asyncio.get_event_loop()
    deadline = loop.time() + timeout
    while not condition():
        if loop.time() > deadline:
            raise AssertionError("condition not met within %.1fs" % timeout)
        await asyncio.sleep(interval)


NS_PUSH = "urn:xmpp:push:0"


def push_iq(client: Client, verb: str, jid: str | None = "push.localhost",
            node: str | None = None, *, away: bool = False, secret: str | None = None,
            form_type: str = "http://jabber.org/protocol/pubsub#publish-options",
            iq_type: str = "set", to: str | None = None) -> Any:
    """An XEP-0357 enable/disable IQ (slixmpp has no push plugin)."""
    import xml.etree.ElementTree as ET

    iq = client.make_iq(itype=iq_type, ito=to)
    element = ET.Element(f"{{{NS_PUSH}}}{verb}")
    if jid is not None:
        element.set("jid", jid)
    if node is not None:
        element.set("node", node)
    if away:
        element.set("away", "true")
    if secret is not None:
        form = ET.SubElement(element, "{jabber:x:data}x", type="submit")
        for var, value in (("FORM_TYPE", form_type), ("secret", secret)):
            field = ET.SubElement(form, "{jabber:x:data}field", var=var)
            ET.SubElement(field, "{jabber:x:data}value").text = value
    iq.xml.append(element)
    return iq


async def enable_push(client: Client, node: str | None, **kw: Any) -> Any:
    return await push_iq(client, "enable", node=node, **kw).send(timeout=5)


async def disable_push(client: Client, node: str | None = None, **kw: Any) -> Any:
    return await push_iq(client, "disable", node=node, **kw).send(timeout=5)


async def iq_error(iq: Any) -> str:
    """Send ``iq``; return the error condition it gets (fail if it succeeds)."""
    from slixmpp.exceptions import IqError

    try:
        await iq.send(timeout=5)
    except IqError as e:
        return e.iq["error"]["condition"]
    raise AssertionError("expected an IQ error, got a result")


def wait_push(server: Any, account: str | None = None, node: str | None = None,
              since: int = 0, timeout: float = 5) -> asyncio.Future:
    """The first notification for ``account``/``node`` after ``since`` (XEP-0357 §7)."""
    return future(server.appserver.wait_for(server.reactor, account=account, node=node,
                                            since=since, timeout=timeout))


async def http(method: str, url: str, body: Any = None, token: str | None = None,
               raw: bytes | None = None) -> tuple[int, Any]:
    """One HTTP request from a thread (the server keeps running); (status, JSON body)."""
    import json
    import urllib.error
    import urllib.request

    data = raw if raw is not None else (json.dumps(body).encode() if body is not None
                                        else None)
    request = urllib.request.Request(url, data=data, method=method)
    if token:
        request.add_header("Authorization", f"Bearer {token}")

    def call() -> tuple[int, Any]:
        try:
            with urllib.request.urlopen(request, timeout=30) as response:
                text = response.read()
                status = response.status
        except urllib.error.HTTPError as e:
            text, status = e.read(), e.code
        return status, (json.loads(text) if text.strip() else None)

    return await asyncio.to_thread(call)


async def raw_http(method: str, url: str, body: bytes | None = None,
                   headers: dict[str, str] | None = None) -> tuple[int, bytes, Any]:
    """One HTTP request from a thread; (status, body, headers)."""
    import asyncio
    import urllib.error
    import urllib.request

    request = urllib.request.Request(url, data=body, method=method, headers=headers or {})

    def call() -> tuple[int, bytes, Any]:
        try:
            with urllib.request.urlopen(request, timeout=30) as response:
                return response.status, response.read(), response.headers
        except urllib.error.HTTPError as e:
            return e.code, e.read(), e.headers

    return await asyncio.to_thread(call)
