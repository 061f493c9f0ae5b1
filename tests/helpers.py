"""Test helpers: real slixmpp clients over loopback (and what ends them after a test), one
barrier for them and for the raw client of tests/raw.py, push and HTTP helpers."""

from __future__ import annotations

import asyncio
import logging
import ssl
from pathlib import Path
from typing import Any

import slixmpp
from slixmpp.xmlstream import XMLStream
from twisted.internet.defer import Deferred

from tests.raw import Raw
from tests.xmlassert import as_element, mismatch, show

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


#: Every slixmpp stream a test starts (:class:`Client`, :class:`Component`): the autouse
#: fixture in tests/conftest.py ends those still open when the test is over.
streams: list[XMLStream] = []


class Client(slixmpp.ClientXMPP):
    """slixmpp client that records what it receives."""

    def __init__(self, jid: str, password: str, **kw: Any) -> None:
        super().__init__(jid, password, **kw)
        streams.append(self)
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


class Component(slixmpp.ComponentXMPP):
    """An XEP-0114 component on slixmpp (an external App Server, a fake MUC service)."""

    def __init__(self, jid: str, secret: str, port: int) -> None:
        super().__init__(jid, secret, "127.0.0.1", port)
        streams.append(self)

    async def start(self, timeout: float = 5) -> None:
        """Connect and wait until the server accepted the handshake."""
        started = asyncio.ensure_future(self.wait_until("session_start", timeout))
        self.connect()
        await started


def slixmpp_tasks() -> list[asyncio.Task]:
    """The asyncio tasks running slixmpp code (send queues, event handlers) not done yet."""
    return [task for task in asyncio.all_tasks(asyncio.get_event_loop())
            if not task.done() and "/slixmpp/" in getattr(
                getattr(task.get_coro(), "cr_code", None), "co_filename", "")]


async def end_streams() -> None:
    """End every slixmpp stream the test started, then let slixmpp's tasks end.

    slixmpp starts a task per stream in ``connect()`` (``XMLStream.run_filters``, the send
    queue) that only ``XMLStream.__del__`` cancels, and runs each coroutine event handler
    as a task of its own (one may still wait for an IQ answer): a client dropped without
    this is garbage-collected with such a task pending ("Task was destroyed but it is
    pending!"). Here each stream is closed (politely, aborted after 0.5 s), then every
    slixmpp task left is cancelled and awaited."""
    ending = []
    while streams:
        stream = streams.pop()
        stream.cancel_connection_attempt()
        if stream.transport is not None:
            ending.append(stream.disconnect(wait=0.5))
    if ending:
        await asyncio.gather(*ending, return_exceptions=True)
    left = slixmpp_tasks()
    for task in left:
        task.cancel()
    if left:
        await asyncio.gather(*left, return_exceptions=True)


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


_barriers = iter(range(1, 1 << 62))


async def barrier(client: Client | Raw, timeout: float = 5) -> None:
    """An IQ ping (XEP-0199) round trip to the server on ``client``'s stream: a slixmpp
    :class:`Client`, or a bound :class:`Raw` client (whose pong is taken; what came
    before it stays in ``pending``).

    The server handles one stream's stanzas in order, and routing, delivery, push policy
    and the in-process App Server all run in the reactor turn that handles a stanza:
    once the pong is back, everything ``client`` sent before was fully handled. A
    barrier on a receiver's stream then proves that nothing more is on its way to it
    (TCP keeps the order), which is how a test shows that something did *not* happen.
    """
    if isinstance(client, Raw):
        n = next(_barriers)
        client.send(f"<iq type='get' id='barrier-{n}' to='{client.domain}'>"
                    "<ping xmlns='urn:xmpp:ping'/></iq>")
        pong = await client.next(f"<iq id='barrier-{n}'/>", timeout=timeout)
        if mismatch(pong, as_element("<iq type='result'/>")) is not None:
            raise AssertionError(f"the barrier's ping failed: {show(pong)}")
        return
    import xml.etree.ElementTree as ET

    iq = client.make_iq_get(ito=client.boundjid.domain)
    iq.xml.append(ET.Element("{urn:xmpp:ping}ping"))
    await iq.send(timeout=timeout)


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
