"""The MUC service as a whole: options and limits, the status API, persistence across a
restart, account deletion and reset, the push nick lookup, bad input."""

from __future__ import annotations

import re

import pytest
from slixmpp.exceptions import PresenceError

from minixmpp.config import ConfigError, Settings
from tests.helpers import close, future, http
from tests.muc.helpers import (
    ROOM,
    SUBJECT,
    create,
    join,
    muc_login,
    room_archive,
    talk,
)
from tests.raw import raw_login, stanza_error
from tests.xmlassert import as_element, assert_xml, find


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


@pytest.mark.server_options(no_muc=True)
async def test_no_muc(server):
    assert server.muc is None
    raw = await raw_login(server, "alice")
    raw.send("<iq type='get' id='d1' to='localhost'>"
             "<query xmlns='http://jabber.org/protocol/disco#items'/></iq>")
    items = await raw.next("<iq id='d1'/>")
    assert_xml(items, "<iq type='result'><query xmlns='http://jabber.org/protocol/disco#items'>"
                      "<item jid='push.localhost'/></query></iq>")
    assert find(items.query, "<item xmlns='http://jabber.org/protocol/disco#items' "
                             "jid='conference.localhost'/>") is None
    raw.send("<presence to='lounge@conference.localhost/Al'><x xmlns='http://jabber.org/"
             "protocol/muc'/></presence>")
    assert_xml(await raw.next("<presence type='error'/>"),
               stanza_error("presence", "remote-server-not-found"))
    raw.close()


def test_muc_options_are_validated():
    assert Settings.build({}).muc_jid == "conference.localhost"
    assert Settings.build({"domain": "example.org"}).muc_jid == "conference.example.org"
    for bad in ({"muc_jid": "a@b"}, {"muc_jid": "localhost"}, {"muc_max_rooms": 0},
                {"muc_rate": -1}, {"component": ("conference.localhost:s",)}):
        with pytest.raises(ConfigError):
            Settings.build(bad)
    assert Settings.build({"no_muc": True, "component": ("conference.localhost:s",)})


def test_nick_lookup_for_push(server):
    from minixmpp.muc.room import Room

    room = Room("lounge", ROOM)
    room.set_affiliation("alice@localhost", "member", nick="Al")
    server.muc.rooms["lounge"] = room
    assert server.muc.nick(ROOM, "alice@localhost") == "Al"
    assert server.muc.account_nick("alice", ROOM) == "Al"  # push's NickLookup shape
    assert server.muc.nick(ROOM, "bob@localhost") is None
    assert server.muc.nick("nowhere@conference.localhost", "alice@localhost") is None
    assert server.muc.nick("lounge@elsewhere", "alice@localhost") is None
    assert re.fullmatch(r"[A-Za-z0-9+/=]+", room.occupant_id("alice@localhost"))


async def test_rooms_and_archive_survive_a_restart(server_factory, tmp_path):
    data = str(tmp_path / "data")
    first = server_factory(data_dir=data)
    alice = await muc_login(first, "alice")
    await create(alice, persistentroom=True, roomname="Kept", membersonly=True)
    await alice["xep_0045"].set_affiliation(ROOM, "member", jid="bob@localhost")
    alice["xep_0045"].set_subject(ROOM, "still here")
    await alice.next("groupchat_subject")
    await talk(alice, "before the restart")
    await create(alice, room="temp@conference.localhost")  # temporary: not kept
    await close(alice)
    await future(first.stopService())
    second = server_factory(data_dir=data)
    assert set(second.muc.rooms) == {"lounge"}
    bob = await muc_login(second, "bob")
    pres, subject, _, history = await join(bob, ROOM, "Bob")
    assert pres["muc"]["affiliation"] == "member"
    assert subject["subject"] == "still here"
    assert [m["body"] for m in history] == ["before the restart"]
    assert len(await room_archive(bob)) == 1
    await close(bob)


async def test_account_deletion_and_reset_forget_rooms(server):
    alice = await muc_login(server, "alice")
    await create(alice, persistentroom=True)
    await alice["xep_0045"].set_affiliation(ROOM, "member", jid="bob@localhost")
    server.accounts.delete("bob")
    server.forget_account("bob")
    assert "bob@localhost" not in server.muc.rooms["lounge"].affiliations
    assert "bob@localhost" not in server.storage.rooms.get("lounge").affiliations
    await talk(alice, "x")
    server.reset()
    assert not server.muc.rooms and server.storage.rooms.rooms() == []
    assert server.storage.room_archive.messages("lounge") == []
    await close(alice)


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
    ("<iq type='set' id='h11' to='lounge@conference.localhost'><vCard xmlns='vcard-temp'>"
     "<PHOTO><BINVAL>not base64!</BINVAL></PHOTO></vCard></iq>", "bad-request"),
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
        await raw.next(SUBJECT)
        for stanza, condition in BAD_INPUT:
            sent = as_element(stanza)
            raw.send(stanza)
            answer = await raw.next(f"<{sent.name} id='{sent['id']}'/>")
            assert_xml(answer, stanza_error(sent.name, condition, id=sent["id"]))
        raw.send("<iq type='get' id='alive' to='conference.localhost'><ping xmlns='urn:xmpp:"
                 "ping'/></iq>")
        assert_xml(await raw.next("<iq id='alive'/>"), "<iq type='result' id='alive'/>")
        raw.close()
    finally:
        globalLogPublisher.removeObserver(observe)
    assert failures == []


def test_build_gives_the_feature_the_server_assembles(server):
    """``minixmpp.muc.build(ctx)``: the component, the domain's disco item, the nick
    lookup push asks for, and forget/clear/describe by the Feature shape."""
    from minixmpp.feature import Context
    from minixmpp.muc import build
    from minixmpp.muc.room import Room

    ctx = Context(settings=server.settings, reactor=server.reactor, router=server.router,
                  domain="localhost", storage=server.storage, sessions=server.sessions,
                  local=server.local, messages=server.local.messages,
                  presence=server.local.presence, http_base_url=server.http_base_url,
                  provided=lambda name: None)
    feature = build(ctx)
    assert feature.name == "muc" and feature.service.jid == "conference.localhost"
    [item] = feature.items
    assert item.entity.full() == "conference.localhost" and item.name == "Chatrooms"
    [component] = feature.components
    assert component.domains == {"conference.localhost"}
    room = Room("lounge", ROOM)
    room.set_affiliation("alice@localhost", "member", nick="Al")
    feature.service.rooms["lounge"] = room
    assert feature.provides["nick"]("alice", ROOM) == "Al"
    assert feature.provides["nick"]("bob", ROOM) is None
    state = feature.describe()
    assert state["muc_jid"] == "conference.localhost"
    assert [r["jid"] for r in state["rooms"]] == [ROOM]
    feature.forget("alice")
    assert "alice@localhost" not in room.affiliations
    feature.clear()
    assert feature.service.rooms == {}
