"""BOSH (XEP-0124/0206) over raw HTTP: session creation, SASL, restart, bind, messages
both ways with a slixmpp client, held requests, rid rules, terminate."""

from __future__ import annotations

import asyncio
import re
from typing import Any

from tests.helpers import close, eventually, login, plain

HTTPBIND = "http://jabber.org/protocol/httpbind"


async def post(server: Any, body: str, timeout: float = 30) -> tuple[int, str]:
    import aiohttp

    async with aiohttp.ClientSession() as session:
        async with session.post(f"http://127.0.0.1:{server.ports().http}/http-bind",
                                data=body.encode(),
                                headers={"Content-Type": "text/xml; charset=utf-8"},
                                timeout=aiohttp.ClientTimeout(total=timeout)) as r:
            return r.status, await r.text()


class Bosh:
    def __init__(self, server: Any) -> None:
        self.server = server
        self.rid = 1000
        self.sid = ""

    def body(self, inner: str = "", **attrs: str) -> str:
        self.rid += 1
        extra = "".join(f" {k.replace('_', ':')}='{v}'" for k, v in attrs.items())
        return (f"<body xmlns='{HTTPBIND}' rid='{self.rid}' sid='{self.sid}' "
                f"xmlns:xmpp='urn:xmpp:xbosh'{extra}>{inner}</body>")

    async def send(self, inner: str = "", **attrs: str) -> str:
        status, text = await post(self.server, self.body(inner, **attrs))
        assert status == 200, text
        return text

    async def create(self) -> str:
        self.rid += 1
        status, text = await post(self.server, (
            f"<body xmlns='{HTTPBIND}' rid='{self.rid}' to='localhost' wait='5' hold='1' "
            "ver='1.11' xml:lang='en' xmpp:version='1.0' xmlns:xmpp='urn:xmpp:xbosh'/>"))
        assert status == 200, text
        self.sid = re.search(r"sid='([^']+)'", text).group(1)
        return text

    async def login(self, user: str, resource: str = "bosh") -> None:
        await self.create()
        text = await self.send(f"<auth xmlns='urn:ietf:params:xml:ns:xmpp-sasl' "
                               f"mechanism='PLAIN'>{plain(user, user)}</auth>")
        assert "<success" in text, text
        assert "urn:ietf:params:xml:ns:xmpp-bind" in await self.send(
            xmpp_restart="true", to="localhost")
        text = await self.send("<iq xmlns='jabber:client' type='set' id='b1'><bind "
                               "xmlns='urn:ietf:params:xml:ns:xmpp-bind'><resource>"
                               f"{resource}</resource></bind></iq>")
        assert f"{user}@localhost/{resource}" in text, text


async def test_bosh_login_and_message_exchange(server) -> None:
    bosh = Bosh(server)
    created = await bosh.create()
    assert "wait='5'" in created and "hold='1'" in created and "requests='2'" in created
    assert "xmpp:version='1.0'" in created and "inactivity=" in created
    assert "maxpause=" in created and "PLAIN" in created  # the features come along
    text = await bosh.send(f"<auth xmlns='urn:ietf:params:xml:ns:xmpp-sasl' "
                               f"mechanism='PLAIN'>{plain('alice', 'alice')}</auth>")
    assert "<success" in text
    restarted = await bosh.send(xmpp_restart="true", to="localhost")
    assert "urn:ietf:params:xml:ns:xmpp-bind" in restarted
    assert "xmlns:stream='http://etherx.jabber.org/streams'" in restarted
    text = await bosh.send("<iq xmlns='jabber:client' type='set' id='b1'><bind "
                               "xmlns='urn:ietf:params:xml:ns:xmpp-bind'><resource>bosh"
                               "</resource></bind></iq>")
    assert "alice@localhost/bosh" in text
    own = await bosh.send("<presence xmlns='jabber:client'/>")
    assert "<presence" in own and "from='alice@localhost/bosh'" in own  # RFC 6121 §4.2.2
    # nothing to answer with: the request is held (hold=1, wait=5) until a second
    # request releases it, empty (§8)
    held = asyncio.ensure_future(bosh.send())
    waiting = asyncio.ensure_future(bosh.send())
    assert re.fullmatch(rf"<body xmlns='{HTTPBIND}'></body>", await held)
    bob = await login(server, "bob")
    # the held request is answered as soon as bob's message arrives
    bob.send_message(mto="alice@localhost/bosh", mbody="over BOSH", mtype="chat")
    got = await waiting
    assert "over BOSH" in got and "xmlns='jabber:client'" in got
    sending = asyncio.ensure_future(bosh.send(
        "<message xmlns='jabber:client' to='bob@localhost' type='chat'>"
        "<body>from BOSH</body></message>"))
    reply = await bob.next_message()
    assert reply["body"] == "from BOSH" and reply["from"].full == "alice@localhost/bosh"
    ended = await bosh.send(type="terminate")
    assert "type='terminate'" in ended
    await sending  # answered when the session ended
    assert (await bosh.send()).count("item-not-found") == 1  # the session is gone
    await close(bob)


async def test_bosh_held_request_is_answered_empty_after_wait_and_rid_rules(server) -> None:
    bosh = Bosh(server)
    await bosh.login("alice")
    server.service("bosh").sessions[bosh.sid].wait = 0  # answer held requests at once
    empty = await bosh.send()
    assert re.fullmatch(rf"<body xmlns='{HTTPBIND}'></body>", empty)
    # a resent request gets the same answer (§14.3)
    bosh.rid -= 1
    assert await bosh.send() == empty
    # a rid far outside the window ends the session
    bosh.rid += 10
    assert "item-not-found" in await bosh.send()
    assert bosh.sid not in server.service("bosh").sessions


async def test_bosh_bad_body_is_bad_request(server) -> None:
    status, text = await post(server, "<notbody/>")
    assert status == 400 and "bad-request" in text
    status, text = await post(server, "<!DOCTYPE x><body xmlns='http://jabber.org/"
                                          "protocol/httpbind' rid='1'/>")
    assert status == 400
    status, text = await post(server, f"<body xmlns='{HTTPBIND}' rid='1' sid='nope'/>")
    assert status == 200 and "item-not-found" in text


async def test_bosh_pause_answers_held_requests_and_the_session_then_ends(server) -> None:
    bosh = Bosh(server)
    await bosh.login("alice")
    held = asyncio.ensure_future(bosh.send())  # held (wait=5)
    await eventually(lambda: server.service("bosh").sessions[bosh.sid].held)  # it arrived first
    paused = await bosh.send(pause="1")  # §10: answer everything, then 1 s allowed
    assert re.fullmatch(rf"<body xmlns='{HTTPBIND}'></body>", paused)
    assert re.fullmatch(rf"<body xmlns='{HTTPBIND}'></body>", await held)
    assert bosh.sid in server.service("bosh").sessions
    # no request comes back within the pause: the session ends, alice goes offline
    await eventually(lambda: bosh.sid not in server.service("bosh").sessions)
    await eventually(lambda: not server.sessions.of("alice"))
    status, text = await post(server, bosh.body(pause="100000"))
    assert "item-not-found" in text
