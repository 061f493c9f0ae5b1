"""BOSH (XEP-0124/0206) over raw HTTP: session creation, SASL, restart, bind, messages
both ways with a slixmpp client, held requests, rid rules, terminate."""

from __future__ import annotations

import asyncio
from typing import Any

from twisted.words.xish import domish

from tests.helpers import close, eventually, login
from tests.raw import BIND, SASL, element, plain
from tests.xmlassert import STREAMS, assert_xml

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
    """A raw BOSH client: each answer is one ``<body/>`` element (``send_text`` keeps its
    bytes, for the checks that are about them)."""

    def __init__(self, server: Any) -> None:
        self.server = server
        self.rid = 1000
        self.sid = ""

    def body(self, inner: str = "", **attrs: str) -> str:
        self.rid += 1
        extra = "".join(f" {k.replace('_', ':')}='{v}'" for k, v in attrs.items())
        return (f"<body xmlns='{HTTPBIND}' rid='{self.rid}' sid='{self.sid}' "
                f"xmlns:xmpp='urn:xmpp:xbosh'{extra}>{inner}</body>")

    async def send_text(self, inner: str = "", **attrs: str) -> str:
        status, text = await post(self.server, self.body(inner, **attrs))
        assert status == 200, text
        return text

    async def send(self, inner: str = "", **attrs: str) -> domish.Element:
        return element(await self.send_text(inner, **attrs))

    async def create(self) -> domish.Element:
        self.rid += 1
        status, text = await post(self.server, (
            f"<body xmlns='{HTTPBIND}' rid='{self.rid}' to='localhost' wait='5' hold='1' "
            "ver='1.11' xml:lang='en' xmpp:version='1.0' xmlns:xmpp='urn:xmpp:xbosh'/>"))
        assert status == 200, text
        created = element(text)
        self.sid = created["sid"]
        return created

    async def login(self, user: str, resource: str = "bosh") -> None:
        await self.create()
        assert_xml(await self.send(f"<auth xmlns='{SASL}' mechanism='PLAIN'>"
                                   f"{plain(user, user)}</auth>"),
                   f"<body xmlns='{HTTPBIND}'><success xmlns='{SASL}'/></body>")
        assert_xml(await self.send(xmpp_restart="true", to="localhost"),
                   f"<body xmlns='{HTTPBIND}'><stream:features><bind xmlns='{BIND}'/>"
                   "</stream:features></body>")
        bound = await self.send("<iq xmlns='jabber:client' type='set' id='b1'><bind "
                                f"xmlns='{BIND}'><resource>{resource}</resource></bind></iq>")
        assert_xml(bound, f"<body xmlns='{HTTPBIND}'><iq xmlns='jabber:client' "
                          f"type='result'><bind xmlns='{BIND}'><jid>{user}@localhost/"
                          f"{resource}</jid></bind></iq></body>")


EMPTY = f"<body xmlns='{HTTPBIND}'/>"  # with exact=True: no attributes, no children


async def test_bosh_login_and_message_exchange(server) -> None:
    bosh = Bosh(server)
    created = await bosh.create()
    assert_xml(created, f"""
        <body xmlns='{HTTPBIND}' xmlns:xmpp='urn:xmpp:xbosh' wait='5' hold='1' requests='2'
              xmpp:version='1.0' inactivity='*' maxpause='*'>
          <stream:features><mechanisms xmlns='{SASL}'><mechanism>PLAIN</mechanism>
          </mechanisms></stream:features>
        </body>""")  # the features come along
    text = await bosh.send(f"<auth xmlns='{SASL}' mechanism='PLAIN'>"
                           f"{plain('alice', 'alice')}</auth>")
    assert_xml(text, f"<body xmlns='{HTTPBIND}'><success xmlns='{SASL}'/></body>")
    restarted = await bosh.send_text(xmpp_restart="true", to="localhost")
    assert_xml(element(restarted), f"<body xmlns='{HTTPBIND}'><stream:features>"
                                    f"<bind xmlns='{BIND}'/></stream:features></body>")
    assert f"xmlns:stream='{STREAMS}'" in restarted  # declared in the body (bytes: framing)
    bound = await bosh.send("<iq xmlns='jabber:client' type='set' id='b1'><bind "
                            f"xmlns='{BIND}'><resource>bosh</resource></bind></iq>")
    assert_xml(bound, f"<body xmlns='{HTTPBIND}'><iq xmlns='jabber:client' type='result'>"
                      f"<bind xmlns='{BIND}'><jid>alice@localhost/bosh</jid></bind></iq></body>")
    own = await bosh.send("<presence xmlns='jabber:client'/>")
    assert_xml(own, f"<body xmlns='{HTTPBIND}'><presence xmlns='jabber:client' "
                    "from='alice@localhost/bosh'/></body>")  # RFC 6121 §4.2.2
    # nothing to answer with: the request is held (hold=1, wait=5) until a second
    # request releases it, empty (§8)
    held = asyncio.ensure_future(bosh.send())
    waiting = asyncio.ensure_future(bosh.send())
    assert_xml(await held, EMPTY, exact=True)
    bob = await login(server, "bob")
    # the held request is answered as soon as bob's message arrives
    bob.send_message(mto="alice@localhost/bosh", mbody="over BOSH", mtype="chat")
    got = await waiting
    assert_xml(got, f"<body xmlns='{HTTPBIND}'><message xmlns='jabber:client'>"
                    "<body>over BOSH</body></message></body>")
    assert got.firstChildElement().uri == "jabber:client"  # declared, not inherited
    sending = asyncio.ensure_future(bosh.send(
        "<message xmlns='jabber:client' to='bob@localhost' type='chat'>"
        "<body>from BOSH</body></message>"))
    reply = await bob.next_message()
    assert reply["body"] == "from BOSH" and reply["from"].full == "alice@localhost/bosh"
    ended = await bosh.send(type="terminate")
    assert_xml(ended, f"<body xmlns='{HTTPBIND}' type='terminate'/>")
    await sending  # answered when the session ended
    assert_xml(await bosh.send(), f"<body xmlns='{HTTPBIND}' type='terminate' "
                                  "condition='item-not-found'/>")  # the session is gone
    await close(bob)


async def test_bosh_held_request_is_answered_empty_after_wait_and_rid_rules(server) -> None:
    bosh = Bosh(server)
    await bosh.login("alice")
    server.service("bosh").sessions[bosh.sid].wait = 0  # answer held requests at once
    empty = await bosh.send_text()
    assert_xml(element(empty), EMPTY, exact=True)
    # a resent request gets the same answer, byte for byte (§14.3)
    bosh.rid -= 1
    assert await bosh.send_text() == empty
    # a rid far outside the window ends the session
    bosh.rid += 10
    assert_xml(await bosh.send(), f"<body xmlns='{HTTPBIND}' type='terminate' "
                                  "condition='item-not-found'/>")
    assert bosh.sid not in server.service("bosh").sessions


async def test_bosh_bad_body_is_bad_request(server) -> None:
    status, text = await post(server, "<notbody/>")
    assert status == 400
    assert_xml(element(text), f"<body xmlns='{HTTPBIND}' type='terminate' "
                              "condition='bad-request'/>")
    status, text = await post(server, "<!DOCTYPE x><body xmlns='http://jabber.org/"
                                      "protocol/httpbind' rid='1'/>")
    assert status == 400
    status, text = await post(server, f"<body xmlns='{HTTPBIND}' rid='1' sid='nope'/>")
    assert status == 200
    assert_xml(element(text), f"<body xmlns='{HTTPBIND}' condition='item-not-found'/>")


async def test_bosh_pause_answers_held_requests_and_the_session_then_ends(server) -> None:
    bosh = Bosh(server)
    await bosh.login("alice")
    held = asyncio.ensure_future(bosh.send())  # held (wait=5)
    await eventually(lambda: server.service("bosh").sessions[bosh.sid].held)  # it arrived first
    paused = await bosh.send(pause="1")  # §10: answer everything, then 1 s allowed
    assert_xml(paused, EMPTY, exact=True)
    assert_xml(await held, EMPTY, exact=True)
    assert bosh.sid in server.service("bosh").sessions
    # no request comes back within the pause: the session ends, alice goes offline
    await eventually(lambda: bosh.sid not in server.service("bosh").sessions)
    await eventually(lambda: not server.sessions.of("alice"))
    status, text = await post(server, bosh.body(pause="100000"))
    assert_xml(element(text), f"<body xmlns='{HTTPBIND}' condition='item-not-found'/>")
