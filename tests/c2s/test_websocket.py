"""XMPP over WebSocket (RFC 7395) with a raw WebSocket client (aiohttp), message by
message: the framing, SASL, bind, stanzas to and from a slixmpp client, close."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from twisted.words.xish import domish

from tests.helpers import close, enable_push, eventually, login, wait_push
from tests.raw import BIND, SASL, STREAM_ERRORS, element, plain
from tests.xmlassert import STREAMS, as_element, assert_xml, find, matches

FRAMING = "urn:ietf:params:xml:ns:xmpp-framing"


class WS:
    """A raw RFC 7395 client: one element per message each way. ``messages`` keeps the
    text of every message received (for the checks of the framing itself); ``next``
    waits for the first received element that matches a pattern, as :class:`Raw` does."""

    def __init__(self, session: Any, ws: Any) -> None:
        self.session = session
        self.ws = ws
        self.messages: list[str] = []
        self.pending: list[domish.Element] = []
        self.header: domish.Element | None = None  # the server's last <open/>
        self.closed = False  # the WebSocket itself closed

    @classmethod
    async def connect(cls, server: Any, protocols: tuple[str, ...] = ("xmpp",),
                      headers: dict[str, str] | None = None) -> WS:
        import aiohttp

        session = aiohttp.ClientSession()
        try:
            ws = await session.ws_connect(
                f"ws://127.0.0.1:{server.ports().http}/xmpp-websocket",
                protocols=protocols, headers=headers or {})
        except Exception:
            await session.close()
            raise
        return cls(session, ws)

    def send(self, text: str) -> Any:
        return self.ws.send_str(text)

    async def recv(self, timeout: float = 5) -> str:
        """One message: its text, parsed (alone: each is a complete element, §3.3.3)
        into ``pending``; ``<CLOSE>`` and the like for a frame that is not text."""
        import aiohttp

        msg = await asyncio.wait_for(self.ws.receive(), timeout)
        if msg.type != aiohttp.WSMsgType.TEXT:
            self.closed = True
            return f"<{msg.type.name}>"
        self.messages.append(msg.data)
        got = element(msg.data)
        if got.name == "open" and got.uri == FRAMING:
            self.header = got
        else:
            self.pending.append(got)
        return msg.data

    async def next(self, *patterns: str, timeout: float = 5) -> domish.Element:
        """The first element received and not yet taken that matches one of
        ``patterns``; fails with what did arrive."""
        wanted = [as_element(p) for p in patterns]
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            for i, got in enumerate(self.pending):
                if any(matches(got, want) for want in wanted):
                    return self.pending.pop(i)
            if self.closed or loop.time() > deadline:
                listed = "".join(f"\n  {m[:300]}" for m in self.messages[-20:])
                raise AssertionError(f"expected {' or '.join(patterns)}; received:{listed}")
            try:
                await self.recv(max(0.0, deadline - loop.time()))
            except TimeoutError:
                pass

    async def until_closed(self, timeout: float = 5) -> list[domish.Element]:
        """Read until the WebSocket closes; the elements not taken."""
        while not self.closed:
            await self.recv(timeout)
        return self.pending

    async def open(self) -> domish.Element:
        """A new stream (§3.4, and §3.5 after SASL): the server's <stream:features/>."""
        await self.send(f"<open xmlns='{FRAMING}' to='localhost' version='1.0'/>")
        return await self.next("<stream:features/>")

    async def login(self, user: str, resource: str = "web") -> None:
        await self.open()
        await self.send(f"<auth xmlns='{SASL}' mechanism='PLAIN'>{plain(user, user)}</auth>")
        await self.next(f"<success xmlns='{SASL}'/>")
        await self.open()
        await self.send("<iq type='set' id='b1' xmlns='jabber:client'><bind "
                        f"xmlns='{BIND}'><resource>{resource}</resource></bind></iq>")
        await self.next(f"<iq type='result' id='b1'><bind xmlns='{BIND}'><jid/></bind></iq>")

    async def aclose(self) -> None:
        await self.ws.close()
        await self.session.close()


async def test_websocket_framing_login_and_messages_with_a_tcp_client(server) -> None:
    ws = await WS.connect(server)
    assert ws.ws.protocol == "xmpp"
    features = await ws.open()
    # each message a complete element on its own (§3.3.3): the <open/> first
    assert_xml(element(ws.messages[0]), f"<open xmlns='{FRAMING}' from='localhost' "
                                        "version='1.0' id='*'/>")
    # the framing: a message declares its namespaces itself
    assert ws.messages[1].startswith(f"<stream:features xmlns:stream='{STREAMS}'>")
    assert_xml(features, f"<stream:features><mechanisms xmlns='{SASL}'>"
                         "<mechanism>PLAIN</mechanism></mechanisms></stream:features>")
    assert find(features, "<starttls xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>") is None, \
        "TLS is the HTTP layer's"
    await ws.send(f"<auth xmlns='{SASL}' mechanism='PLAIN'>{plain('alice', 'alice')}</auth>")
    await ws.next(f"<success xmlns='{SASL}'/>")
    restarted = await ws.open()  # §3.5: a new <open/> after SASL
    assert_xml(restarted, f"<stream:features><bind xmlns='{BIND}'/></stream:features>")
    await ws.send("<iq type='set' id='b1' xmlns='jabber:client'><bind "
                  f"xmlns='{BIND}'><resource>web</resource></bind></iq>")
    assert_xml(await ws.next("<iq id='b1'/>"), f"<iq type='result'><bind xmlns='{BIND}'>"
                                               "<jid>alice@localhost/web</jid></bind></iq>")
    await ws.send("<presence xmlns='jabber:client'/>")
    bob = await login(server, "bob")
    bob.send_message(mto="alice@localhost/web", mbody="to the browser", mtype="chat")
    got = await ws.next("<message><body>to the browser</body></message>")
    assert got.uri == "jabber:client"  # declared in the message itself
    await ws.send("<message xmlns='jabber:client' to='bob@localhost' type='chat'>"
                  "<body>from the browser</body></message>")
    reply = await bob.next_message()
    assert reply["body"] == "from the browser"
    assert reply["from"].full == "alice@localhost/web"
    await ws.send(f"<close xmlns='{FRAMING}'/>")
    await ws.next(f"<close xmlns='{FRAMING}'/>")
    assert ws.messages[-1] == f"<close xmlns='{FRAMING}'/>"  # the framing, byte for byte
    await ws.aclose()
    await close(bob)


async def test_websocket_without_the_xmpp_subprotocol_is_refused(server) -> None:
    import aiohttp

    try:
        ws = await WS.connect(server, protocols=("chat",))
    except aiohttp.WSServerHandshakeError as e:
        assert e.status == 400
    else:
        await ws.aclose()
        raise AssertionError("the handshake should have been refused")


async def test_websocket_stream_error_then_close(server) -> None:
    ws = await WS.connect(server)
    await ws.send(f"<open xmlns='{FRAMING}' to='elsewhere.example' version='1.0'/>")
    await ws.next(f"<stream:error><host-unknown xmlns='{STREAM_ERRORS}'/></stream:error>")
    await ws.next(f"<close xmlns='{FRAMING}'/>")
    await ws.aclose()


async def test_websocket_session_gets_push_like_tcp(server) -> None:
    """Same stream implementation: push enable over WebSocket, then away."""
    ws = await WS.connect(server)
    await ws.login("alice")
    await ws.send("<iq type='set' id='p1' xmlns='jabber:client'><enable "
                      "xmlns='urn:xmpp:push:0' jid='push.localhost' node='ws-node' "
                      "away='true'/></iq>")
    assert_xml(await ws.next("<iq id='p1'/>"), "<iq type='result' id='p1'/>")
    await ws.send("<presence xmlns='jabber:client'><show>away</show></presence>")
    bob = await login(server, "bob")
    bob.send_message(mto="alice@localhost", mbody="while away", mtype="chat")
    n = await wait_push(server, account="alice")
    assert n.node == "ws-node" and n.fields["last-message-body"] == "while away"
    await ws.aclose()
    await close(bob)
    assert enable_push  # the TCP helper speaks the same protocol


async def test_websocket_session_hibernates_and_resumes_with_stream_management(server) -> None:
    """XEP-0198 over WebSocket: the same SM stage as TCP."""
    ws = await WS.connect(server)
    await ws.login("alice")
    await ws.send("<presence xmlns='jabber:client'/>")
    await ws.send("<enable xmlns='urn:xmpp:sm:3' resume='true'/>")
    enabled = await ws.next("<enabled xmlns='urn:xmpp:sm:3' id='*'/>")
    previd = enabled["id"]
    ws.ws._response.connection.transport.abort()  # the network goes away, no <close/>
    await ws.session.close()
    bob = await login(server, "bob")
    await eventually(lambda: any(s.hibernated for s in server.sessions.of("alice")))
    bob.send_message(mto="alice@localhost/web", mbody="while you slept", mtype="chat")
    again = await WS.connect(server)
    await again.open()
    await again.send(f"<auth xmlns='{SASL}' mechanism='PLAIN'>{plain('alice', 'alice')}</auth>")
    await again.next(f"<success xmlns='{SASL}'/>")
    await again.open()
    await again.send(f"<resume xmlns='urn:xmpp:sm:3' previd='{previd}' h='0'/>")
    await again.next(f"<resumed xmlns='urn:xmpp:sm:3' previd='{previd}'/>")
    await again.next("<message><body>while you slept</body></message>")
    await again.aclose()
    await close(bob)


@pytest.mark.server_options(http_origins=("http://app.example",))
async def test_websocket_from_an_origin_not_allowed_is_refused(server) -> None:
    import aiohttp

    try:
        ws = await WS.connect(server, headers={"Origin": "http://evil.example"})
    except aiohttp.WSServerHandshakeError as e:
        assert e.status == 403
    else:
        await ws.aclose()
        raise AssertionError("the handshake should have been refused")
    ws = await WS.connect(server, headers={"Origin": "http://app.example"})
    assert_xml(await ws.open(), f"<stream:features><mechanisms xmlns='{SASL}'><mechanism>"
                                "PLAIN</mechanism></mechanisms></stream:features>")  # control
    await ws.aclose()


@pytest.mark.parametrize("frame, condition", [
    ("<!-- a comment --><message xmlns='jabber:client'/>", "restricted-xml"),
    ("<message xmlns='jabber:client'><body>unclosed", None),
    ("not xml at all <<<", "not-well-formed"),
])
async def test_websocket_hostile_frames_get_stream_errors(server, frame, condition) -> None:
    ws = await WS.connect(server)
    await ws.login("alice")
    await ws.send(frame)
    if condition is None:  # an unfinished element: the stream waits for the rest
        await ws.send("</body></message>")
        await ws.send("<iq xmlns='jabber:client' type='get' id='p'><ping "
                          "xmlns='urn:xmpp:ping'/></iq>")
        await ws.next("<iq id='p'/>")  # still alive
    else:
        await ws.next(f"<stream:error><{condition} xmlns='{STREAM_ERRORS}'/></stream:error>")
    await ws.aclose()


async def test_websocket_binary_frame_is_bad_format(server) -> None:
    ws = await WS.connect(server)
    await ws.open()
    await ws.ws.send_bytes(b"<presence/>")
    await ws.next(f"<stream:error><bad-format xmlns='{STREAM_ERRORS}'/></stream:error>")
    await ws.aclose()


@pytest.mark.parametrize("size", [1, 125, 126, 4000, 70000], ids=lambda n: f"{n}B")
async def test_websocket_frames_of_every_length_class_arrive_intact(server, size) -> None:
    """RFC 6455 §5.2/§5.3: masked client frames with 7-bit, 16-bit and 64-bit lengths,
    below and above the size minixmpp unmasks itself, reach a TCP client byte for byte."""
    ws = await WS.connect(server)
    await ws.login("alice")
    bob = await login(server, "bob")
    body = ("x€" * size)[:size]
    await ws.send("<message xmlns='jabber:client' to='bob@localhost' type='chat'>"
                      f"<body>{body}</body></message>")
    got = await bob.next_message()
    assert got["body"] == body
    await ws.aclose()
    await close(bob)
