"""Group chat as modern clients use it: the room archive (XEP-0313) with stanza ids,
self-ping (XEP-0410), occupant ids (XEP-0421), moderation (XEP-0425), members' copies
for push, durability under --data-dir, and three different clients in one room."""

from __future__ import annotations

import re

import pytest
from slixmpp import JID
from slixmpp.exceptions import IqError

from minixmpp import ns
from tests.helpers import close, future, raw_login
from tests.muc_helpers import ROOM, create, expect, join, muc_login, next_groupchat


async def talk(client, *bodies):
    ids = []
    for body in bodies:
        client.send_message(mto=ROOM, mbody=body, mtype="groupchat")
        ids.append((await next_groupchat(client))["stanza_id"]["id"])
    return ids


async def room_archive(client, **kw):
    got = []
    async for message in client["xep_0313"].iterate(jid=ROOM, **kw):
        got.append(message)
    return got


async def test_room_archive_with_stanza_ids_and_paging(server):
    alice = await muc_login(server, "alice")
    await create(alice)
    ids = await talk(alice, *[f"m{i}" for i in range(7)])
    bob = await muc_login(server, "bob")  # not in the room: an open room's archive
    got = await room_archive(bob, rsm={"max": 3})
    assert [m["mam_result"]["forwarded"]["stanza"]["body"] for m in got] == \
        [f"m{i}" for i in range(7)]
    assert [m["mam_result"]["id"] for m in got] == ids
    assert all(m["from"].full == ROOM for m in got)
    assert got[0]["mam_result"]["forwarded"]["stanza"]["from"].full == f"{ROOM}/owner"
    # the sender filter on occupant JIDs
    got = await room_archive(bob, with_jid=f"{ROOM}/owner")
    assert len(got) == 7
    got = await room_archive(bob, with_jid=f"{ROOM}/nobody")
    assert got == []
    await close(alice, bob)


async def test_members_only_archive_is_forbidden_to_others(server):
    alice = await muc_login(server, "alice")
    bob = await muc_login(server, "bob")
    await create(alice, membersonly=True)
    await talk(alice, "secret")
    try:
        await bob["xep_0313"].retrieve(jid=ROOM)
        raise AssertionError("a non-member read a members-only archive")
    except IqError as e:
        assert e.condition == "forbidden"
    assert len(await room_archive(alice)) == 1  # positive control
    await close(alice, bob)


async def test_self_ping(server):
    alice = await muc_login(server, "alice")
    bob = await muc_login(server, "bob")
    await create(alice)
    await alice["xep_0199"].ping(jid=f"{ROOM}/owner", timeout=5)  # joined: result
    try:
        await bob["xep_0199"].ping(jid=f"{ROOM}/owner", timeout=5)
        raise AssertionError("a non-occupant's self-ping succeeded")
    except IqError as e:
        assert e.condition == "not-acceptable"  # XEP-0410 §4: not joined
    await close(alice, bob)


async def test_iq_to_another_occupant_is_forwarded_and_answered(server):
    alice = await muc_login(server, "alice")
    bob = await muc_login(server, "bob")
    await create(alice)
    await join(bob, ROOM, "Bob")
    await alice["xep_0199"].ping(jid=f"{ROOM}/Bob", timeout=5)  # bob's client answers
    await close(alice, bob)


async def test_moderator_retracts_a_message_with_tombstone_in_archive(server):
    alice = await muc_login(server, "alice")
    bob = await muc_login(server, "bob")
    await create(alice)
    await join(bob, ROOM, "Bob")
    [bad] = await talk(bob, "something rude")
    await next_groupchat(alice)
    try:
        await bob["xep_0425"].moderate(JID(ROOM), bad, "no")
        raise AssertionError("a participant moderated")
    except IqError as e:
        assert e.condition == "forbidden"
    announced = expect(bob, "moderated_message")
    await alice["xep_0425"].moderate(JID(ROOM), bad, "be nice")
    announcement = await announced
    retract = announcement.xml.find("{%s}retract" % ns.RETRACT)
    assert retract.get("id") == bad and announcement["from"].full == ROOM
    assert announcement["retract"]["moderated"]["by"] == f"{ROOM}/owner"
    assert announcement["retract"]["reason"] == "be nice"
    [stored] = await room_archive(alice)
    tombstone = stored["mam_result"]["forwarded"]["stanza"]
    assert tombstone["body"] == "" and "something rude" not in str(tombstone)
    assert tombstone.xml.find("{%s}retracted" % ns.RETRACT) is not None
    try:
        await alice["xep_0425"].moderate(JID(ROOM), "no-such-id", "")
        raise AssertionError("moderated a message that does not exist")
    except IqError as e:
        assert e.condition == "item-not-found"
    # history on join shows the tombstone, not the message
    carol = await muc_login(server, "carol")
    _, _, _, history = await join(carol, ROOM, "Carol")
    assert all("something rude" not in str(m) for m in history)
    await close(alice, bob, carol)


async def test_members_without_occupant_get_the_message_at_their_bare_jid(server):
    """For push (Prosody's mod_muc_offline_delivery, Tigase): a groupchat copy goes to
    the bare JID of every member on our domain with no joined occupant."""
    seen = []

    class Spy:  # a delivery listener (im/message.py), as the push notifier is one
        def delivered(self, outcome):
            seen.append((outcome.user, outcome.stanza.toXml(), outcome.result))

    server.messages.listeners = (*server.messages.listeners, Spy())
    alice = await muc_login(server, "alice")
    bob = await muc_login(server, "bob")
    await create(alice, persistentroom=True)
    for member in ("bob@localhost", "carol@localhost", "dave@elsewhere.example"):
        await alice["xep_0045"].set_affiliation(ROOM, "member", jid=member,
                                                    nick=member[0].upper())
    await join(bob, ROOM, "Bob")  # bob is in the room: no copy for him
    seen.clear()
    await talk(alice, "hello Carol")
    await alice["xep_0199"].ping(jid="localhost", timeout=5)  # barrier
    copies = [(user, xml, result) for user, xml, result in seen
              if "to='carol@localhost'" in xml]
    assert len(copies) == 1 and "type='groupchat'" in copies[0][1]
    assert f"from='{ROOM}/owner'" in copies[0][1] and "hello Carol" in copies[0][1]
    assert "stanza-id" in copies[0][1]
    assert copies[0][2] == "bounced"  # RFC 6121 §8.5.2: the listeners (push) are told
    assert not [u for u, xml, _ in seen if u == "bob" and "to='bob@localhost'" in xml]
    assert [u for u, xml, _ in seen if u == "bob" and "to='bob@localhost/test'" in xml]
    assert server.muc.nick(ROOM, "carol@localhost") == "C"
    assert server.muc.nick(ROOM, "bob@localhost") == "Bob"  # joined: the nick in use
    await close(alice, bob)


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


async def test_moderation_in_the_older_wire_format(server):
    """XEP-0425 0.2 (``moderate:0`` inside a fastening ``apply-to``), raw XML."""
    raw = await raw_login(server, "alice")
    raw.send(f"<presence to='{ROOM}/Al'/>")
    await raw.read_until("<subject")
    raw.send(f"<message to='{ROOM}' type='groupchat' id='g1'><body>oops</body></message>")
    text = await raw.read_until("id='g1'.*?</message>")
    sid = re.search(r"<stanza-id [^>]*id='([^']+)'", text).group(1)
    raw.buffer = b""
    raw.send(f"<iq type='set' id='m0' to='{ROOM}'><apply-to xmlns='urn:xmpp:fasten:0' "
             f"id='{sid}'><moderate xmlns='urn:xmpp:message-moderate:0'><retract xmlns="
             "'urn:xmpp:message-retract:0'/><reason>typo</reason></moderate></apply-to></iq>")
    text = await raw.read_until("id='m0'[^>]*>")
    assert "type='result'" in text
    assert f"<apply-to xmlns='urn:xmpp:fasten:0' id='{sid}'>" in text
    assert f"<retract xmlns='urn:xmpp:message-retract:1' id='{sid}'>" in text
    assert "oops" not in server.storage.room_archive.messages("lounge")[0].xml
    raw.close()


# -- push for group chats, end to end with the in-process MUC ------------------------------

async def offline_member_with_push(server, name="carol", **enable):
    """``name`` registers push, becomes a member of the room with the nick 'Caro', and
    goes offline (no session at all)."""
    from tests.helpers import enable_push, login

    client = await login(server, name, resource="phone")
    await enable_push(client, "node-" + name, **enable)
    await close(client)


@pytest.mark.server_options(push_groupchat="mentions")
async def test_offline_member_is_pushed_when_mentioned(server):
    from tests.helpers import barrier, wait_push

    await offline_member_with_push(server)
    alice = await muc_login(server, "alice")
    await create(alice, persistentroom=True)
    await alice["xep_0045"].set_affiliation(ROOM, "member", jid="carol@localhost",
                                                nick="Caro")
    await talk(alice, "nothing for her")
    await barrier(alice)
    assert server.appserver.find(account="carol") == []
    await talk(alice, "Caro: are you there?")  # the nick from MUC's lookup
    n = await wait_push(server, account="carol")
    assert n.fields["last-message-body"] == "Caro: are you there?"
    assert n.fields["last-message-sender"] == f"{ROOM}/owner"
    await close(alice)


@pytest.mark.server_options(push_groupchat="always")
async def test_offline_member_is_pushed_always_but_a_joined_one_is_not(server):
    from tests.helpers import barrier, wait_push

    await offline_member_with_push(server)
    await offline_member_with_push(server, "bob")
    alice = await muc_login(server, "alice")
    await create(alice, persistentroom=True)
    for member in ("carol@localhost", "bob@localhost"):
        await alice["xep_0045"].set_affiliation(ROOM, "member", jid=member)
    bob = await muc_login(server, "bob", resource="desk")
    await join(bob, ROOM, "Bob")  # bob is in the room, plainly available
    await talk(alice, "hello all")
    n = await wait_push(server, account="carol")
    assert n.fields["last-message-body"] == "hello all"
    await barrier(bob)
    assert server.appserver.find(account="bob") == []
    await close(alice, bob)


async def test_offline_member_tigase_filter_per_room(server):
    from tests.helpers import barrier, wait_push

    await offline_member_with_push(server)  # no filter, default never: control below
    from tests.helpers import login

    carol = await login(server, "carol", resource="phone2")
    iq = carol.make_iq_set()
    import xml.etree.ElementTree as ET
    enable = ET.fromstring(
        "<enable xmlns='urn:xmpp:push:0' jid='push.localhost' node='filtered'>"
        "<groupchat xmlns='tigase:push:filter:groupchat:0'>"
        f"<room jid='{ROOM}' allow='mentioned' nick='C4'/></groupchat></enable>")
    iq.xml.append(enable)
    await iq.send(timeout=5)
    await close(carol)
    alice = await muc_login(server, "alice")
    await create(alice, persistentroom=True)
    await alice["xep_0045"].set_affiliation(ROOM, "member", jid="carol@localhost",
                                                nick="Caro")
    await talk(alice, "Caro is not the filter's nick")
    await barrier(alice)
    assert server.appserver.find(account="carol") == []
    await talk(alice, "ping C4")
    n = await wait_push(server, account="carol", node="filtered")
    assert n.fields["last-message-body"] == "ping C4"
    assert server.appserver.find(account="carol", node="node-carol") == []  # default never
    await close(alice)
