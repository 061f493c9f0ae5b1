"""Moderator, admin and owner use cases (XEP-0045 §8–§10): kick and ban, affiliation
lists, members-only rooms, the configuration form with its status codes, destruction."""

from __future__ import annotations

from slixmpp.exceptions import IqError, PresenceError

from minixmpp import ns
from tests.helpers import close
from tests.muc.helpers import (
    ROOM,
    codes,
    create,
    expect,
    join,
    muc_login,
    offline_event,
    submit_config,
)


def item_reason(presence):
    return presence.xml.findtext("{%s}x/{%s}item/{%s}reason" % ((ns.MUC_USER,) * 3))


async def test_kick_307_and_ban_301(server):
    alice = await muc_login(server, "alice")
    bob = await muc_login(server, "bob")
    carol = await muc_login(server, "carol")
    await create(alice)
    await join(bob, ROOM, "Bob")
    await join(carol, ROOM, "Carol")
    # a participant may not kick
    try:
        await bob["xep_0045"].set_role(ROOM, "Carol", "none")
        raise AssertionError("a participant kicked")
    except IqError as e:
        assert e.condition == "forbidden"
    kicked, seen = expect(bob, offline_event()), expect(carol, offline_event())
    await alice["xep_0045"].set_role(ROOM, "Bob", "none", reason="out")
    kicked, seen = await kicked, await seen
    assert {110, 307} <= codes(kicked) and item_reason(kicked) == "out"
    assert 307 in codes(seen) and 110 not in codes(seen) and seen["from"].resource == "Bob"
    await join(bob, ROOM, "Bob")  # a kick is not a ban
    banned = expect(bob, offline_event())
    await alice["xep_0045"].set_affiliation(ROOM, "outcast", jid="bob@localhost",
                                                reason="spam")
    banned = await banned
    assert {110, 301} <= codes(banned)
    try:
        await join(bob, ROOM, "Bob")
        raise AssertionError("a banned user joined")
    except PresenceError as e:
        assert e.condition == "forbidden"
    assert await alice["xep_0045"].get_affiliation_list(ROOM, "outcast") == \
        ["bob@localhost"]
    # an owner cannot be kicked
    await alice["xep_0045"].set_affiliation(ROOM, "admin", jid="carol@localhost")
    try:
        await carol["xep_0045"].set_role(ROOM, "owner", "none")
        raise AssertionError("an admin kicked the owner")
    except IqError as e:
        assert e.condition == "not-allowed"
    await close(alice, bob, carol)


async def test_members_only_room_with_affiliation_list_then_join(server):
    alice = await muc_login(server, "alice")
    bob = await muc_login(server, "bob")
    await create(alice, membersonly=True, persistentroom=True, roomname="Inner circle")
    await alice["xep_0045"].set_affiliation(ROOM, "member", jid="bob@localhost")
    members = await alice["xep_0045"].get_affiliation_list(ROOM, "member")
    assert members == ["bob@localhost"]
    pres, *_ = await join(bob, ROOM, "Bob")
    assert pres["muc"]["affiliation"] == "member" and pres["muc"]["role"] == "participant"
    # §9.4/§9.3: revoking membership removes the occupant with 321
    alice.presences.clear()
    bob.presences.clear()
    gone = expect(bob, offline_event())
    await alice["xep_0045"].set_affiliation(ROOM, "none", jid="bob@localhost")
    gone = await gone
    assert gone["type"] == "unavailable" and {110, 321} <= codes(gone)
    await close(alice, bob)


async def test_becoming_members_only_removes_non_members_with_322(server):
    alice = await muc_login(server, "alice")
    bob = await muc_login(server, "bob")
    carol = await muc_login(server, "carol")
    await create(alice)
    await alice["xep_0045"].set_affiliation(ROOM, "member", jid="carol@localhost")
    await join(bob, ROOM, "Bob")
    await join(carol, ROOM, "Carol")
    gone = expect(bob, offline_event())
    await submit_config(alice, ROOM, membersonly=True)
    gone = await gone
    assert gone["from"].resource == "Bob" and {110, 322} <= codes(gone)
    room = server.muc.rooms["lounge"]
    assert set(room.occupants) == {"owner", "Carol"}  # the member stays
    await close(alice, bob, carol)


async def test_configuration_form_round_trip_and_status_codes(server):
    alice = await muc_login(server, "alice")
    bob = await muc_login(server, "bob")
    await create(alice)
    form = await alice["xep_0045"].get_room_config(ROOM)
    fields = form.get_fields()
    for var in ("roomname", "roomdesc", "persistentroom", "publicroom", "membersonly",
                "moderatedroom", "passwordprotectedroom", "roomsecret", "maxusers",
                "whois", "allowpm", "changesubject", "historylength"):
        assert f"muc#roomconfig_{var}" in fields, var
    await join(bob, ROOM, "Bob")
    try:
        await bob["xep_0045"].get_room_config(ROOM)
        raise AssertionError("a participant got the form")
    except IqError as e:
        assert e.condition == "forbidden"
    note = expect(bob, "groupchat_config_status")
    await submit_config(alice, ROOM, roomname="Lounge", whois="anyone")
    assert {104, 172} <= codes(await note)
    form = await alice["xep_0045"].get_room_config(ROOM)
    assert form.get_fields()["muc#roomconfig_roomname"]["value"] == "Lounge"
    assert form.get_fields()["muc#roomconfig_whois"]["value"] == "anyone"
    # non-anonymous now: a new occupant sees real JIDs and gets 100
    carol = await muc_login(server, "carol")
    pres, _, occupants, _ = await join(carol, ROOM, "Carol")
    assert 100 in codes(pres)
    assert {o["muc"]["jid"].bare for o in occupants} >= {"alice@localhost", "bob@localhost"}
    try:
        await submit_config(alice, ROOM, whois="everybody")
        raise AssertionError("a bad value was taken")
    except IqError as e:
        assert e.condition == "not-acceptable"
    await close(alice, bob, carol)


async def test_destroy_with_alternate_venue(server):
    alice = await muc_login(server, "alice")
    bob = await muc_login(server, "bob")
    await create(alice, persistentroom=True)
    await join(bob, ROOM, "Bob")
    try:
        await bob["xep_0045"].destroy(ROOM)
        raise AssertionError("a participant destroyed the room")
    except IqError as e:
        assert e.condition == "forbidden"
    gone = expect(bob, offline_event())
    await alice["xep_0045"].destroy(ROOM, reason="moved",
                                        altroom="attic@conference.localhost")
    gone = await gone
    destroy = gone.xml.find("{%s}x/{%s}destroy" % (ns.MUC_USER, ns.MUC_USER))
    assert destroy.get("jid") == "attic@conference.localhost"
    assert destroy.findtext("{%s}reason" % ns.MUC_USER) == "moved"
    assert not server.muc.rooms and server.storage.rooms.get("lounge") is None
    try:
        await bob["xep_0030"].get_info(jid=ROOM)
        raise AssertionError("the room is still there")
    except IqError as e:
        assert e.condition == "item-not-found"
    await close(alice, bob)
