"""Group chat (XEP-0045): rooms, joining, messages, affiliations and roles, over real
streams with slixmpp's xep_0045 plugin and raw XML where it lacks a step."""

from __future__ import annotations

from slixmpp.exceptions import IqError, PresenceError

from minixmpp import ns
from tests.helpers import close, eventually
from tests.muc_helpers import (
    ROOM,
    codes,
    create,
    expect,
    join,
    muc_login,
    next_groupchat,
    offline_event,
    submit_config,
)


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


def item_reason(presence):
    return presence.xml.findtext("{%s}x/{%s}item/{%s}reason" % ((ns.MUC_USER,) * 3))



async def test_groupchat_is_reflected_to_everyone_with_stanza_id_and_occupant_id(server):
    alice = await muc_login(server, "alice")
    bob = await muc_login(server, "bob")
    await create(alice)
    await join(bob, ROOM, "Bob")
    alice.messages.clear()
    bob.messages.clear()
    bob.send_message(mto=ROOM, mbody="hello room", mtype="groupchat")
    got = [await next_groupchat(c) for c in (alice, bob)]
    for m in got:
        assert m["from"].full == f"{ROOM}/Bob" and m["body"] == "hello room"
        assert m["stanza_id"]["by"] == ROOM and m["stanza_id"]["id"]
        assert m["occupant-id"]["id"]
    assert got[0]["stanza_id"]["id"] == got[1]["stanza_id"]["id"]
    # the occupant id is stable and differs between occupants
    alice.send_message(mto=ROOM, mbody="hi bob", mtype="groupchat")
    mine = await next_groupchat(alice)
    assert mine["occupant-id"]["id"] != got[0]["occupant-id"]["id"]
    bob.send_message(mto=ROOM, mbody="again", mtype="groupchat")
    await next_groupchat(bob)  # alice's 'hi bob'
    again = await next_groupchat(bob)
    assert again["body"] == "again" and again["occupant-id"]["id"] == got[1]["occupant-id"]["id"]
    await close(alice, bob)


async def test_non_occupant_groupchat_is_not_acceptable_and_unknown_room_item_not_found(server):
    alice = await muc_login(server, "alice")
    bob = await muc_login(server, "bob")
    await create(alice)
    bob.send_message(mto=ROOM, mbody="sneaky", mtype="groupchat")
    error = await bob.next_message()
    assert error["type"] == "error" and error["error"]["condition"] == "not-acceptable"
    bob.send_message(mto="nowhere@conference.localhost", mbody="x", mtype="groupchat")
    error = await bob.next_message()
    assert error["error"]["condition"] == "item-not-found"
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
