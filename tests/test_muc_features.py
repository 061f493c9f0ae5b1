"""Group chat, part two: history, subject, private messages, invitations, destroy,
configuration, discovery, voice requests, over real streams."""

from __future__ import annotations

import datetime
import re

from slixmpp.exceptions import IqError
from slixmpp.xmlstream.handler import Callback
from slixmpp.xmlstream.matcher import StanzaPath

from minixmpp import ns
from tests.helpers import close, eventually, raw_login
from tests.muc_helpers import (
    ROOM,
    codes,
    create,
    expect,
    join,
    muc_login,
    next_error,
    next_groupchat,
    offline_event,
    submit_config,
)


async def test_history_on_join_then_subject_with_maxstanzas_and_since(server):
    alice = await muc_login(server, "alice")
    await create(alice, historylength="3")
    for i in range(5):
        alice.send_message(mto=ROOM, mbody=f"m{i}", mtype="groupchat")
        await next_groupchat(alice)
    alice["xep_0045"].set_subject(ROOM, "Today: tests")
    subject = await alice.next("groupchat_subject")
    assert subject["subject"] == "Today: tests" and subject["from"].resource == "owner"
    bob = await muc_login(server, "bob")
    _, subject, _, history = await join(bob, ROOM, "Bob")
    assert [m["body"] for m in history] == ["m2", "m3", "m4"]  # the room keeps 3 for joins
    assert all(m["delay"]["from"] == ROOM and m["delay"]["stamp"] for m in history)
    assert subject["subject"] == "Today: tests"  # after the history (§7.2.15)
    carol = await muc_login(server, "carol")
    _, _, _, history = await join(carol, ROOM, "Carol", maxstanzas=1)
    assert [m["body"] for m in history] == ["m4"]
    bob["xep_0045"].leave_muc(ROOM, "Bob")
    later = datetime.datetime.now(datetime.UTC) + datetime.timedelta(hours=1)
    _, _, _, history = await join(bob, ROOM, "Bob", since=later)
    assert history == []
    carol["xep_0045"].leave_muc(ROOM, "Carol")
    _, _, _, history = await join(carol, ROOM, "Carol", maxchars=0)
    assert history == []
    await close(alice, bob, carol)


async def test_participant_subject_change_forbidden_unless_configured(server):
    alice = await muc_login(server, "alice")
    bob = await muc_login(server, "bob")
    await create(alice)
    await join(bob, ROOM, "Bob")
    bob["xep_0045"].set_subject(ROOM, "mine")
    assert await next_error(bob) == "forbidden"
    await submit_config(alice, ROOM, changesubject=True)
    bob.messages.clear()
    got = expect(alice, "groupchat_subject")
    bob["xep_0045"].set_subject(ROOM, "mine")
    assert (await got)["subject"] == "mine"
    await close(alice, bob)


async def test_private_messages_between_occupants(server):
    alice = await muc_login(server, "alice")
    bob = await muc_login(server, "bob")
    await create(alice)
    await join(bob, ROOM, "Bob")
    alice.messages.clear()
    bob.messages.clear()
    bob.send_message(mto=f"{ROOM}/owner", mbody="psst", mtype="chat")
    pm = await alice.next_message()
    assert pm["type"] == "chat" and pm["body"] == "psst" and pm["from"].full == f"{ROOM}/Bob"
    assert pm.xml.find("{%s}x" % ns.MUC_USER) is not None and pm["occupant-id"]["id"]
    bob.send_message(mto=f"{ROOM}/nobody", mbody="?", mtype="chat")
    assert await next_error(bob) == "item-not-found"
    bob.send_message(mto=f"{ROOM}/owner", mbody="?", mtype="groupchat")
    assert await next_error(bob) == "bad-request"
    await submit_config(alice, ROOM, allowpm="none")
    bob.messages.clear()
    bob.send_message(mto=f"{ROOM}/owner", mbody="psst", mtype="chat")
    assert await next_error(bob) == "forbidden"
    await close(alice, bob)


async def test_mediated_invitation_adds_member_and_decline_returns(server):
    alice = await muc_login(server, "alice")
    bob = await muc_login(server, "bob")
    await create(alice, membersonly=True)
    invited = expect(bob, "groupchat_invite")
    alice["xep_0045"].invite(ROOM, "bob@localhost", reason="join us")
    invite = await invited
    assert invite["from"].full == ROOM
    assert invite["muc"]["invite"]["from"] == "alice@localhost"
    assert invite["muc"]["invite"]["reason"] == "join us"
    pres, *_ = await join(bob, ROOM, "Bob")  # members-only: the invitation made him one
    assert pres["muc"]["affiliation"] == "member"
    carol = await muc_login(server, "carol")
    declines = []  # slixmpp's groupchat_decline never fires for a client: match it here
    alice.register_handler(Callback("decline", StanzaPath("message/muc/decline"),
                                    declines.append))
    carol["xep_0045"].decline(ROOM, "alice@localhost", reason="busy")
    await eventually(lambda: declines)
    decline = declines[0]
    assert decline["muc"]["decline"]["from"] == "carol@localhost"
    # a non-occupant may not invite
    carol["xep_0045"].invite(ROOM, "bob@localhost")
    assert await next_error(carol) == "not-acceptable"
    await close(alice, bob, carol)


async def test_direct_invitation_passes_through(server):
    alice = await muc_login(server, "alice")
    bob = await muc_login(server, "bob")
    await create(alice)
    got = expect(bob, "groupchat_direct_invite")
    alice["xep_0249"].send_invitation("bob@localhost/test", ROOM, reason="come")
    invite = await got
    assert invite["groupchat_invite"]["jid"] == ROOM and invite["from"].bare == \
        "alice@localhost"
    await close(alice, bob)


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


async def test_disco_of_service_and_room(server):
    alice = await muc_login(server, "alice")
    bob = await muc_login(server, "bob")
    items = await alice["xep_0030"].get_items(jid="localhost")
    assert "conference.localhost" in [i[0] for i in items["disco_items"]["items"]]
    info = await alice["xep_0030"].get_info(jid="conference.localhost")
    assert "http://jabber.org/protocol/muc" in info["disco_info"]["features"]
    assert ("conference", "text") in [i[:2] for i in info["disco_info"]["identities"]]
    await create(alice, roomname="The Lounge", roomdesc="for tests", moderatedroom=True)
    await create(alice, room="hidden@conference.localhost", publicroom=False)
    items = await bob["xep_0030"].get_items(jid="conference.localhost")
    assert [(i[0], i[2]) for i in items["disco_items"]["items"]] == [(ROOM, "The Lounge")]
    info = await bob["xep_0030"].get_info(jid=ROOM)
    features = info["disco_info"]["features"]
    for feature in ("http://jabber.org/protocol/muc", "muc_public", "muc_temporary",
                    "muc_open", "muc_moderated", "muc_semianonymous", "muc_unsecured",
                    "urn:xmpp:mam:2", "urn:xmpp:sid:0", "urn:xmpp:occupant-id:0",
                    "urn:xmpp:message-moderate:1"):
        assert feature in features, feature
    form = info["disco_info"]["form"].get_fields()
    assert form["FORM_TYPE"]["value"] in ("http://jabber.org/protocol/muc#roominfo",
                                          ["http://jabber.org/protocol/muc#roominfo"])
    assert form["muc#roominfo_description"]["value"] == "for tests"
    assert form["muc#roominfo_occupants"]["value"] == "1"
    occupants = await bob["xep_0030"].get_items(jid=ROOM)
    assert [i[0] for i in occupants["disco_items"]["items"]] == [f"{ROOM}/owner"]
    hidden = await bob["xep_0030"].get_items(jid="hidden@conference.localhost")
    assert not hidden["disco_items"]["items"]  # not public, bob not in it
    try:
        await bob["xep_0030"].get_info(jid="nothing@conference.localhost")
        raise AssertionError("info for a room that does not exist")
    except IqError as e:
        assert e.condition == "item-not-found"
    await close(alice, bob)


async def test_moderated_room_visitor_voice_request_and_grant(server):
    alice = await muc_login(server, "alice")
    bob = await muc_login(server, "bob")
    await create(alice, moderatedroom=True)
    pres, *_ = await join(bob, ROOM, "Bob")
    assert pres["muc"]["role"] == "visitor"
    bob.send_message(mto=ROOM, mbody="can I speak?", mtype="groupchat")
    assert await next_error(bob) == "forbidden"
    request = expect(alice, "message_xform")
    bob["xep_0045"].request_voice(ROOM, "participant")
    request = await request
    fields = request["form"].get_fields()
    assert fields["muc#roomnick"]["value"] == "Bob" and fields["muc#role"]["value"] == \
        "participant"
    answer = alice.make_message(mto=ROOM)
    form = alice["xep_0004"].make_form(ftype="submit")
    form.add_field(var="FORM_TYPE", value="http://jabber.org/protocol/muc#request")
    form.add_field(var="muc#role", value="participant")
    form.add_field(var="muc#roomnick", value="Bob")
    form.add_field(var="muc#request_allow", value="true")
    answer.append(form)
    bob.muc_presences.clear()
    answer.send()
    await eventually(lambda: any(p["muc"]["role"] == "participant"
                                     for p in bob.muc_presences))
    bob.messages.clear()
    bob.send_message(mto=ROOM, mbody="thanks", mtype="groupchat")
    assert (await next_groupchat(bob))["body"] == "thanks"
    await close(alice, bob)


async def test_gc10_presence_without_x_and_bad_nick_raw(server):
    """A raw client: presence without <x/> makes an instant room (§10.1.1 gc-1.0), a
    presence to the bare room JID is jid-malformed, errors carry <x xmlns=muc/>."""
    raw = await raw_login(server, "alice")
    raw.send("<presence to='lounge@conference.localhost'/>")
    text = await raw.read_until("</presence>")
    assert "type='error'" in text and "jid-malformed" in text
    assert "<x xmlns='http://jabber.org/protocol/muc'/>" in text
    raw.buffer = b""
    raw.send("<presence to='lounge@conference.localhost/Al'/>")
    text = await raw.read_until("<subject")
    assert "code='201'" in text and "code='110'" in text
    assert not server.muc.rooms["lounge"].locked
    raw.buffer = b""
    raw.send("<message to='conference.localhost' type='chat' id='s1'><body>x</body></message>")
    text = await raw.read_until("id='s1'.*</message>")
    assert "service-unavailable" in text
    raw.close()


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


async def test_registration_reserves_a_nick_and_makes_a_member(server):
    """§7.10 with raw XML (slixmpp's xep_0045 has no registration)."""
    alice = await muc_login(server, "alice")
    await create(alice, persistentroom=True)
    raw = await raw_login(server, "bob")
    raw.send(f"<iq type='get' id='r1' to='{ROOM}'><query xmlns='jabber:iq:register'/></iq>")
    text = await raw.read_until("id='r1'.*</iq>")
    assert "var='muc#register_roomnick'" in text and "<required/>" in text
    assert "{http://tigase.org/protocol/muc}offline" in text
    raw.buffer = b""
    raw.send(f"<iq type='set' id='r2' to='{ROOM}'><query xmlns='jabber:iq:register'>"
             "<x xmlns='jabber:x:data' type='submit'><field var='FORM_TYPE'><value>"
             "http://jabber.org/protocol/muc#register</value></field><field var='muc#"
             "register_roomnick'><value>owner</value></field></x></query></iq>")
    assert "<conflict " in await raw.read_until("id='r2'.*</iq>")  # alice's nick
    raw.buffer = b""
    raw.send(f"<iq type='set' id='r3' to='{ROOM}'><query xmlns='jabber:iq:register'>"
             "<x xmlns='jabber:x:data' type='submit'><field var='FORM_TYPE'><value>"
             "http://jabber.org/protocol/muc#register</value></field><field var='muc#"
             "register_roomnick'><value>Bobby</value></field></x></query></iq>")
    assert "type='result'" in await raw.read_until("id='r3'[^>]*>")
    assert server.muc.rooms["lounge"].affiliation("bob@localhost") == "member"
    assert server.muc.nick(ROOM, "bob@localhost") == "Bobby"
    assert server.storage.rooms.get("lounge").nicks["bob@localhost"] == "Bobby"
    raw.buffer = b""
    raw.send(f"<iq type='get' id='r4' to='{ROOM}'><query xmlns='jabber:iq:register'/></iq>")
    text = await raw.read_until("id='r4'.*</iq>")
    assert "<registered/>" in text and "<username>Bobby</username>" in text
    raw.buffer = b""
    raw.send(f"<iq type='set' id='r5' to='{ROOM}'><query xmlns='jabber:iq:register'>"
             "<remove/></query></iq>")
    assert "type='result'" in await raw.read_until("id='r5'[^>]*>")
    assert server.muc.rooms["lounge"].affiliation("bob@localhost") == "none"
    raw.close()
    await close(alice)
