"""The MUC service as a whole: options, limits, the status API, disco of the domain."""

from __future__ import annotations

import re

import pytest
from slixmpp.exceptions import PresenceError

from minixmpp.config import ConfigError, Settings
from tests.helpers import close, http, raw_login
from tests.muc_helpers import ROOM, create, join, muc_login


@pytest.mark.server_options(http="tcp:0")
async def test_state_api_lists_rooms_and_occupants(server):
    alice = await muc_login(server, "alice")
    await create(alice, nick="Al", roomname="Lounge")
    status, state = await http("GET", f"http://127.0.0.1:{server.ports().http}"
                                          "/api/state")
    assert status == 200 and state["muc_jid"] == "conference.localhost"
    [room] = state["rooms"]
    assert room["jid"] == ROOM and room["name"] == "Lounge"
    assert room["occupants"] == [{"nick": "Al", "jid": "alice@localhost", "role": "moderator",
                                  "affiliation": "owner",
                                  "sessions": ["alice@localhost/test"]}]
    await close(alice)


@pytest.mark.server_options(muc_max_rooms=1)
async def test_room_limit(server):
    alice = await muc_login(server, "alice")
    await create(alice)
    try:
        await join(alice, "second@conference.localhost", "Al")
        raise AssertionError("a second room was created")
    except PresenceError as e:
        assert e.condition == "not-allowed"
    await close(alice)


@pytest.mark.server_options(muc_max_occupants=1)
async def test_occupant_limit(server):
    alice = await muc_login(server, "alice")
    bob = await muc_login(server, "bob")
    await create(alice)
    try:
        await join(bob, ROOM, "Bob")
        raise AssertionError("joined a full room")
    except PresenceError as e:
        assert e.condition == "service-unavailable"
    await close(alice, bob)


@pytest.mark.server_options(muc_rate=2)
async def test_message_rate_per_occupant(server):
    """A raw client: slixmpp does not know RFC 6120's policy-violation."""
    server.muc.clock = lambda: 1000.0  # a frozen clock: no tokens come back
    raw = await raw_login(server, "alice")
    raw.send(f"<presence to='{ROOM}/Al'/>")
    await raw.read_until("<subject")
    for i in range(3):
        raw.send(f"<message to='{ROOM}' type='groupchat' id='g{i}'><body>m{i}</body></message>")
    text = await raw.read_until("id='g2'[^>]*type='error'.*</message>")
    assert re.search("<error type='wait'[^>]*><policy-violation", text), text[-400:]
    assert [m.with_jid for m in server.storage.room_archive.messages("lounge")] == \
        [f"{ROOM}/Al"] * 2
    raw.close()


@pytest.mark.server_options(muc_max_history=2)
async def test_history_limit(server):
    alice = await muc_login(server, "alice")
    await create(alice, historylength="10")
    for i in range(4):
        alice.send_message(mto=ROOM, mbody=f"m{i}", mtype="groupchat")
    await alice["xep_0199"].ping(jid="localhost", timeout=5)
    bob = await muc_login(server, "bob")
    _, _, _, history = await join(bob, ROOM, "Bob")
    assert [m["body"] for m in history] == ["m2", "m3"]
    await close(alice, bob)


@pytest.mark.server_options(no_muc=True)
async def test_no_muc(server):
    assert server.muc is None
    raw = await raw_login(server, "alice")
    raw.send("<iq type='get' id='d1' to='localhost'>"
             "<query xmlns='http://jabber.org/protocol/disco#items'/></iq>")
    text = await raw.read_until("id='d1'.*</iq>")
    assert "conference.localhost" not in text and "push.localhost" in text
    raw.send("<presence to='lounge@conference.localhost/Al'><x xmlns='http://jabber.org/"
             "protocol/muc'/></presence>")
    text = await raw.read_until("remote-server-not-found")
    assert "type='error'" in text
    raw.close()


@pytest.mark.server_options(muc_jid="chat.localhost")
async def test_muc_jid(server):
    alice = await muc_login(server, "alice")
    items = await alice["xep_0030"].get_items(jid="localhost")
    assert "chat.localhost" in [i[0] for i in items["disco_items"]["items"]]
    pres, *_ = await join(alice, "room@chat.localhost", "Al")
    assert pres["from"].full == "room@chat.localhost/Al"
    await close(alice)


def test_muc_options_are_validated():
    assert Settings.build({}).muc_jid == "conference.localhost"
    assert Settings.build({"domain": "example.org"}).muc_jid == "conference.example.org"
    for bad in ({"muc_jid": "a@b"}, {"muc_jid": "localhost"}, {"muc_max_rooms": 0},
                {"muc_rate": -1}, {"component": ("conference.localhost:s",)}):
        with pytest.raises(ConfigError):
            Settings.build(bad)
    assert Settings.build({"no_muc": True, "component": ("conference.localhost:s",)})


BAD_INPUT = [
    # (stanza, the error condition expected in the answer)
    ("<iq type='set' id='h1' to='lounge@conference.localhost'><query xmlns='http://jabber."
     "org/protocol/muc#admin'/></iq>", "bad-request"),
    ("<iq type='set' id='h2' to='lounge@conference.localhost'><query xmlns='http://jabber."
     "org/protocol/muc#admin'><item affiliation='member' jid='@@'/></query></iq>",
     "jid-malformed"),
    ("<iq type='set' id='h3' to='lounge@conference.localhost'><query xmlns='http://jabber."
     "org/protocol/muc#admin'><item affiliation='king' jid='bob@localhost'/></query></iq>",
     "bad-request"),
    ("<iq type='set' id='h4' to='lounge@conference.localhost'><query xmlns='http://jabber."
     "org/protocol/muc#admin'><item role='none' nick='ghost'/></query></iq>",
     "item-not-found"),
    ("<iq type='set' id='h5' to='lounge@conference.localhost'><query xmlns='http://jabber."
     "org/protocol/muc#owner'><x xmlns='jabber:x:data' type='submit'><field var='FORM_TYPE'>"
     "<value>urn:other</value></field></x></query></iq>", "bad-request"),
    ("<iq type='set' id='h6' to='lounge@conference.localhost'><query xmlns='http://jabber."
     "org/protocol/muc#owner'><x xmlns='jabber:x:data' type='submit'><field var='muc#"
     "roomconfig_maxusers'><value>many</value></field></x></query></iq>", "not-acceptable"),
    ("<iq type='set' id='h7' to='lounge@conference.localhost'><query xmlns='http://jabber."
     "org/protocol/muc#owner'/></iq>", "bad-request"),
    ("<iq type='set' id='h8' to='lounge@conference.localhost'><moderate xmlns='urn:xmpp:"
     "message-moderate:1'/></iq>", "bad-request"),
    ("<iq type='set' id='h9' to='lounge@conference.localhost'><query xmlns='urn:xmpp:mam:2'>"
     "<set xmlns='http://jabber.org/protocol/rsm'><max>x</max></set></query></iq>",
     "bad-request"),
    ("<iq type='get' id='h10' to='lounge@conference.localhost'><query xmlns='http://jabber."
     "org/protocol/muc#admin'><item affiliation='none'/></query></iq>", "bad-request"),
    ("<iq type='get' id='h11' to='lounge@conference.localhost'><vCard xmlns='vcard-temp'/>"
     "</iq>", "service-unavailable"),
    ("<message type='chat' id='h12' to='lounge@conference.localhost'><body>x</body></message>",
     "bad-request"),
    ("<message id='h13' to='lounge@conference.localhost'><x xmlns='http://jabber.org/"
     "protocol/muc#user'><invite to='@bad'/></x></message>", "jid-malformed"),
]


async def test_bad_input_gets_errors_not_tracebacks(server):
    from twisted.logger import globalLogPublisher

    failures = []

    def observe(event):
        if event.get("log_failure") is not None:
            failures.append(event)

    globalLogPublisher.addObserver(observe)
    try:
        raw = await raw_login(server, "alice")
        raw.send(f"<presence to='{ROOM}/Al'><x xmlns='http://jabber.org/protocol/muc'>"
                 "<history maxstanzas='lots' seconds='-5' since='yesterday'/></x></presence>")
        await raw.read_until("<subject")
        for stanza, condition in BAD_INPUT:
            raw.buffer = b""
            sid = re.search(r"id='(h\d+)'", stanza).group(1)
            raw.send(stanza)
            text = await raw.read_until(f"id='{sid}'.*?</(iq|message)>")
            assert f"<{condition} " in text, (sid, text[-300:])
        raw.send("<iq type='get' id='alive' to='conference.localhost'><ping xmlns='urn:xmpp:"
                 "ping'/></iq>")
        assert "type='result'" in await raw.read_until("id='alive'[^>]*>")
        raw.close()
    finally:
        globalLogPublisher.removeObserver(observe)
    assert failures == []


async def test_delivery_error_from_an_occupant_removes_it_with_333(server):
    alice = await muc_login(server, "alice")
    await create(alice)
    raw = await raw_login(server, "bob")
    raw.send(f"<presence to='{ROOM}/Bob'/>")
    await raw.read_until("<subject")
    raw.send(f"<message type='error' to='{ROOM}/owner' id='e1'><error type='cancel'>"
             "<not-acceptable xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/></error></message>")
    raw.send(f"<iq type='get' id='p1' to='{ROOM}/Bob'><ping xmlns='urn:xmpp:ping'/></iq>")
    assert "type='result'" in await raw.read_until("id='p1'[^>]*>")  # not kickable
    raw.buffer = b""
    raw.send(f"<message type='error' to='{ROOM}/owner' id='e2'><error type='cancel'>"
             "<service-unavailable xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/></error>"
             "</message>")
    text = await raw.read_until("code='333'.*</presence>")
    assert "type='unavailable'" in text and "Kicked: service unavailable" in text
    assert "Bob" not in server.muc.rooms["lounge"].occupants
    raw.close()
    await close(alice)


async def test_an_unconfigured_room_opens_after_five_minutes(server):
    now = [1000.0]
    server.muc.clock = lambda: now[0]
    alice = await muc_login(server, "alice")
    bob = await muc_login(server, "bob")
    await join(alice, ROOM, "Al")  # locked: never configured
    try:
        await join(bob, ROOM, "Bob")
        raise AssertionError("joined a locked room")
    except PresenceError as e:
        assert e.condition == "item-not-found"
    now[0] += 301
    pres, *_ = await join(bob, ROOM, "Bob")
    assert pres["muc"]["role"] == "participant"
    await close(alice, bob)
