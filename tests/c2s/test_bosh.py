"""BOSH (XEP-0124/0206) over raw HTTP: session creation, SASL, restart, bind, messages
both ways with a slixmpp client, held requests, rid rules, terminate."""

from __future__ import annotations

import asyncio

from tests.c2s.bosh import HTTPBIND, Bosh, post
from tests.helpers import close, eventually, login
from tests.raw import BIND, SASL, element
from tests.xmlassert import STREAMS, assert_xml

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
    assert_xml(await bosh.auth("alice"),
               f"<body xmlns='{HTTPBIND}'><success xmlns='{SASL}'/></body>")
    restarted = await bosh.send_text(xmpp_restart="true", to="localhost")
    assert_xml(element(restarted), f"<body xmlns='{HTTPBIND}'><stream:features>"
                                    f"<bind xmlns='{BIND}'/></stream:features></body>")
    assert f"xmlns:stream='{STREAMS}'" in restarted  # declared in the body (bytes: framing)
    assert_xml(await bosh.bind("bosh"),
               f"<body xmlns='{HTTPBIND}'><iq xmlns='jabber:client' type='result'>"
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
