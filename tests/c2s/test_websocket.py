"""XMPP over WebSocket (RFC 7395) with a raw WebSocket client (aiohttp), message by
message: the framing, SASL, bind, stanzas to and from a slixmpp client, close."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from tests.helpers import close, enable_push, login, plain, wait_push

FRAMING = "urn:ietf:params:xml:ns:xmpp-framing"


class WS:
    """A raw RFC 7395 client: send one element per message, read messages."""

    def __init__(self, session: Any, ws: Any) -> None:
        self.session = session
        self.ws = ws

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
        import aiohttp

        msg = await asyncio.wait_for(self.ws.receive(), timeout)
        if msg.type != aiohttp.WSMsgType.TEXT:
            return f"<{msg.type.name}>"
        return msg.data

    async def until(self, needle: str) -> list[str]:
        got = []
        while True:
            text = await self.recv()
            got.append(text)
            if needle in text or text.startswith("<CLOSE"):
                return got

    async def open(self) -> list[str]:
        await self.send(f"<open xmlns='{FRAMING}' to='localhost' version='1.0'/>")
        return await self.until("</stream:features>")

    async def login(self, user: str, resource: str = "web") -> None:
        await self.open()
        await self.send(f"<auth xmlns='urn:ietf:params:xml:ns:xmpp-sasl' "
                        f"mechanism='PLAIN'>{plain(user, user)}</auth>")
        assert "<success" in (await self.until("success"))[-1]
        await self.open()
        await self.send("<iq type='set' id='b1' xmlns='jabber:client'><bind "
                        "xmlns='urn:ietf:params:xml:ns:xmpp-bind'><resource>"
                        f"{resource}</resource></bind></iq>")
        assert "<jid>" in (await self.until("</iq>"))[-1]

    async def aclose(self) -> None:
        await self.ws.close()
        await self.session.close()


async def test_websocket_framing_login_and_messages_with_a_tcp_client(server) -> None:
    ws = await WS.connect(server)
    assert ws.ws.protocol == "xmpp"
    first = await ws.open()
    from xml.etree import ElementTree as ET

    opened = ET.fromstring(first[0])  # a complete element on its own (§3.3.3)
    assert opened.tag == f"{{{FRAMING}}}open" and opened.get("from") == "localhost"
    assert opened.get("version") == "1.0" and opened.get("id")
    features = first[-1]
    assert features.startswith("<stream:features xmlns:stream='http://etherx.jabber.org/"
                               "streams'>")
    assert "PLAIN" in features and "starttls" not in features  # TLS is the HTTP layer's
    await ws.send(f"<auth xmlns='urn:ietf:params:xml:ns:xmpp-sasl' mechanism='PLAIN'>"
                      f"{plain('alice', 'alice')}</auth>")
    assert "<success" in (await ws.until("success"))[-1]
    restarted = await ws.open()  # §3.5: a new <open/> after SASL
    assert "urn:ietf:params:xml:ns:xmpp-bind" in restarted[-1]
    await ws.send("<iq type='set' id='b1' xmlns='jabber:client'><bind "
                      "xmlns='urn:ietf:params:xml:ns:xmpp-bind'><resource>web</resource>"
                      "</bind></iq>")
    assert "alice@localhost/web" in (await ws.until("</iq>"))[-1]
    await ws.send("<presence xmlns='jabber:client'/>")
    bob = await login(server, "bob")
    bob.send_message(mto="alice@localhost/web", mbody="to the browser", mtype="chat")
    got = await ws.until("to the browser")
    assert got[-1].startswith("<message") and "xmlns='jabber:client'" in got[-1]
    await ws.send("<message xmlns='jabber:client' to='bob@localhost' type='chat'>"
                      "<body>from the browser</body></message>")
    reply = await bob.next_message()
    assert reply["body"] == "from the browser"
    assert reply["from"].full == "alice@localhost/web"
    await ws.send(f"<close xmlns='{FRAMING}'/>")
    closing = await ws.until("close")
    assert closing[-1] == f"<close xmlns='{FRAMING}'/>"
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
    got = await ws.until("close")
    assert any("<stream:error xmlns:stream='http://etherx.jabber.org/streams'>" in g
               and "host-unknown" in g for g in got)
    await ws.aclose()


async def test_websocket_session_gets_push_like_tcp(server) -> None:
    """Same stream implementation: push enable over WebSocket, then away."""
    ws = await WS.connect(server)
    await ws.login("alice")
    await ws.send("<iq type='set' id='p1' xmlns='jabber:client'><enable "
                      "xmlns='urn:xmpp:push:0' jid='push.localhost' node='ws-node' "
                      "away='true'/></iq>")
    assert "type='result'" in (await ws.until("id='p1'"))[-1]
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
    import re

    ws = await WS.connect(server)
    await ws.login("alice")
    await ws.send("<presence xmlns='jabber:client'/>")
    await ws.send("<enable xmlns='urn:xmpp:sm:3' resume='true'/>")
    enabled = (await ws.until("enabled"))[-1]
    previd = re.search(r"id=['\"]([^'\"]+)", enabled).group(1)
    ws.ws._response.connection.transport.abort()  # the network goes away, no <close/>
    await ws.session.close()
    bob = await login(server, "bob")
    from tests.helpers import eventually

    await eventually(lambda: any(s.hibernated for s in server.sessions.of("alice")))
    bob.send_message(mto="alice@localhost/web", mbody="while you slept", mtype="chat")
    again = await WS.connect(server)
    await again.open()
    await again.send(f"<auth xmlns='urn:ietf:params:xml:ns:xmpp-sasl' "
                         f"mechanism='PLAIN'>{plain('alice', 'alice')}</auth>")
    await again.until("success")
    await again.open()
    await again.send(f"<resume xmlns='urn:xmpp:sm:3' previd='{previd}' h='0'/>")
    got = await again.until("while you slept")
    assert any("<resumed" in g for g in got)
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
    assert "PLAIN" in (await ws.open())[-1]  # positive control
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
        assert "id='p'" in (await ws.until("id='p'"))[-1]  # still alive
    else:
        got = await ws.until("close")
        assert any(condition in g and "<stream:error" in g for g in got), got
    await ws.aclose()


async def test_websocket_binary_frame_is_bad_format(server) -> None:
    ws = await WS.connect(server)
    await ws.open()
    await ws.ws.send_bytes(b"<presence/>")
    got = await ws.until("close")
    assert any("bad-format" in g for g in got), got
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
