"""Entering, changing nick and leaving a room (XEP-0045 §7.1–§7.3, §7.6, §7.14), the
join checks of §7.2.5–§7.2.10, the room lock of §10.1.1 as a join sees it, and occupants
removed by their own delivery errors (Prosody's kickable errors, status 333)."""

from __future__ import annotations

import pytest
from slixmpp.exceptions import PresenceError

from tests.helpers import close, eventually
from tests.muc.helpers import (
    MUC_USER,
    ROOM,
    SUBJECT,
    codes,
    create,
    expect,
    join,
    muc_login,
    next_groupchat,
    offline_event,
    submit_config,
)
from tests.raw import raw_login, stanza_error
from tests.xmlassert import assert_xml


async def test_join_creates_a_locked_room_with_201_and_instant_config_opens_it(server):
    alice = await muc_login(server, "alice")
    bob = await muc_login(server, "bob")
    pres, subject, occupants, history = await join(alice, ROOM, "Alice")
    assert {110, 201, 170} <= codes(pres)
    assert pres["muc"]["affiliation"] == "owner" and pres["muc"]["role"] == "moderator"
    assert pres["from"].full == f"{ROOM}/Alice" and history == []
    assert [o["from"].resource for o in occupants] == ["Alice"]  # slixmpp counts itself
    assert subject["type"] == "groupchat" and not subject["subject"]  # §7.2.15: always sent
    # §10.1.1: locked until configured
    try:
        await join(bob, ROOM, "Bob")
        raise AssertionError("joined a locked room")
    except PresenceError as e:
        assert e.condition == "item-not-found"
    await submit_config(alice, ROOM)
    pres, _, occupants, _ = await join(bob, ROOM, "Bob")
    assert codes(pres) >= {110} and 201 not in codes(pres)
    assert pres["muc"]["role"] == "participant" and pres["muc"]["affiliation"] == "none"
    assert [o["from"].resource for o in occupants] == ["Alice", "Bob"]
    assert occupants[0]["muc"]["jid"].full == ""  # semi-anonymous: no real JID for Bob
    await close(alice, bob)


async def test_join_errors_conflict_password_members_only_banned_full(server):
    alice = await muc_login(server, "alice")
    bob = await muc_login(server, "bob")
    carol = await muc_login(server, "carol")
    await create(alice, passwordprotectedroom=True, roomsecret="s3cret", maxusers="2")

    async def refused(client, nick, **kw):
        try:
            await join(client, ROOM, nick, **kw)
        except PresenceError as e:
            return e.condition
        raise AssertionError("joined")

    assert await refused(bob, "Bob") == "not-authorized"
    assert await refused(bob, "Bob", password="wrong") == "not-authorized"
    assert await refused(bob, "owner", password="s3cret") == "conflict"
    await join(bob, ROOM, "Bob", password="s3cret")
    assert await refused(carol, "Carol", password="s3cret") == "service-unavailable"  # full
    await submit_config(alice, ROOM, membersonly=True, maxusers="0",
                            passwordprotectedroom=False)
    assert await refused(carol, "Carol") == "registration-required"
    await alice["xep_0045"].set_affiliation(ROOM, "outcast", jid="carol@localhost")
    assert await refused(carol, "Carol") == "forbidden"
    await close(alice, bob, carol)


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


async def test_second_resource_joins_under_the_same_nick(server):
    alice = await muc_login(server, "alice")
    bob = await muc_login(server, "bob", resource="desk")
    bob2 = await muc_login(server, "bob", resource="phone")
    await create(alice)
    await join(bob, ROOM, "Bob")
    alice.muc_presences.clear()
    pres, *_ = await join(bob2, ROOM, "Bob")
    assert 110 in codes(pres)
    alice.send_message(mto=ROOM, mbody="both?", mtype="groupchat")
    for c in (bob, bob2):
        assert (await next_groupchat(c))["body"] == "both?"
    bob2["xep_0045"].leave_muc(ROOM, "Bob")
    await eventually(lambda: any(p["type"] == "unavailable" and 110 in codes(p)
                                     for p in bob2.muc_presences))
    alice.send_message(mto=ROOM, mbody="still here", mtype="groupchat")
    assert (await next_groupchat(bob))["body"] == "still here"
    await next_groupchat(alice)
    # bob is still one occupant to alice: no unavailable presence reached her
    assert not [p for p in alice.muc_presences if p["type"] == "unavailable"]
    await close(alice, bob, bob2)


async def test_join_again_from_a_joined_session_replays_the_join(server):
    alice = await muc_login(server, "alice")
    await create(alice)
    alice.send_message(mto=ROOM, mbody="earlier", mtype="groupchat")
    await next_groupchat(alice)
    pres, _, _, history = await join(alice, ROOM, "owner")  # the same session again
    assert 110 in codes(pres) and 201 not in codes(pres)
    assert [m["body"] for m in history] == ["earlier"]
    assert len(server.muc.rooms["lounge"].occupants) == 1
    await close(alice)


async def test_gc10_presence_without_x_and_bad_nick_raw(server):
    """A raw client: presence without <x/> makes an instant room (§10.1.1 gc-1.0), a
    presence to the bare room JID is jid-malformed, errors carry <x xmlns=muc/>."""
    raw = await raw_login(server, "alice")
    raw.send("<presence to='lounge@conference.localhost'/>")
    error = await raw.next("<presence/>")
    assert_xml(error, stanza_error("presence", "jid-malformed"))
    assert_xml(error, "<presence><x xmlns='http://jabber.org/protocol/muc'/></presence>")
    raw.send("<presence to='lounge@conference.localhost/Al'/>")
    await raw.next(SUBJECT)
    assert_xml(await raw.next("<presence from='lounge@conference.localhost/Al'/>"),
               f"<presence><x xmlns='{MUC_USER}'><status code='110'/><status code='201'/>"
               "</x></presence>")
    assert not server.muc.rooms["lounge"].locked
    raw.send("<message to='conference.localhost' type='chat' id='s1'><body>x</body></message>")
    assert_xml(await raw.next("<message id='s1'/>"),
               stanza_error("message", "service-unavailable", id="s1"))
    raw.close()


async def test_nick_change_303_and_leave(server):
    alice = await muc_login(server, "alice")
    bob = await muc_login(server, "bob")
    await create(alice)
    await join(bob, ROOM, "Bob")
    alice.muc_presences.clear()
    bob.send_presence(pto=f"{ROOM}/Robert")
    await eventually(lambda: len(alice.muc_presences) >= 2)
    old, new = alice.muc_presences[:2]
    assert old["type"] == "unavailable" and 303 in codes(old)
    assert old["from"].resource == "Bob" and old["muc"]["item_nick"] == "Robert"
    assert new["from"].resource == "Robert" and new["type"] != "unavailable"
    refused = expect(bob, "muc::%s::presence-error" % ROOM)
    bob.send_presence(pto=f"{ROOM}/owner")  # taken (slixmpp's set_self_nick has no error path)
    assert (await refused)["error"]["condition"] == "conflict"
    left = expect(alice, offline_event())
    bob["xep_0045"].leave_muc(ROOM, "Robert", "bye")
    left = await left
    assert left["type"] == "unavailable" and left["from"].resource == "Robert"
    assert left["status"] == "bye" and left["muc"]["role"] == "none"
    await close(alice, bob)


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


async def test_delivery_error_from_an_occupant_removes_it_with_333(server):
    alice = await muc_login(server, "alice")
    await create(alice)
    raw = await raw_login(server, "bob")
    raw.send(f"<presence to='{ROOM}/Bob'/>")
    await raw.next(SUBJECT)
    raw.send(f"<message type='error' to='{ROOM}/owner' id='e1'><error type='cancel'>"
             "<not-acceptable xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/></error></message>")
    raw.send(f"<iq type='get' id='p1' to='{ROOM}/Bob'><ping xmlns='urn:xmpp:ping'/></iq>")
    assert_xml(await raw.next("<iq id='p1'/>"), "<iq type='result'/>")  # not kickable
    raw.send(f"<message type='error' to='{ROOM}/owner' id='e2'><error type='cancel'>"
             "<service-unavailable xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/></error>"
             "</message>")
    kicked = await raw.next(f"<presence><x xmlns='{MUC_USER}'><status code='333'/></x>"
                            "</presence>")
    assert_xml(kicked, "<presence type='unavailable'><status>Kicked: service unavailable"
                       "</status></presence>")
    assert "Bob" not in server.muc.rooms["lounge"].occupants
    raw.close()
    await close(alice)
