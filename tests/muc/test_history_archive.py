"""History and subject on join (XEP-0045 §7.2.13–§7.2.15), changing the subject
(§8.1), the room archive (XEP-0313 on a room) and moderation (XEP-0425, both wire
formats)."""

from __future__ import annotations

import datetime

import pytest
from slixmpp import JID
from slixmpp.exceptions import IqError

from minixmpp import ns
from tests.helpers import barrier, close
from tests.muc.helpers import (
    ROOM,
    SUBJECT,
    create,
    expect,
    join,
    muc_login,
    next_error,
    next_groupchat,
    room_archive,
    submit_config,
    talk,
)
from tests.raw import raw_login
from tests.xmlassert import assert_xml, find


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


@pytest.mark.server_options(muc_max_history=2)
async def test_history_limit(server):
    alice = await muc_login(server, "alice")
    await create(alice, historylength="10")
    for i in range(4):
        alice.send_message(mto=ROOM, mbody=f"m{i}", mtype="groupchat")
    await barrier(alice)
    bob = await muc_login(server, "bob")
    _, _, _, history = await join(bob, ROOM, "Bob")
    assert [m["body"] for m in history] == ["m2", "m3"]
    await close(alice, bob)


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


async def test_moderation_in_the_older_wire_format(server):
    """XEP-0425 0.2 (``moderate:0`` inside a fastening ``apply-to``), raw XML."""
    raw = await raw_login(server, "alice")
    raw.send(f"<presence to='{ROOM}/Al'/>")
    await raw.next(SUBJECT)
    raw.send(f"<message to='{ROOM}' type='groupchat' id='g1'><body>oops</body></message>")
    echo = await raw.next("<message id='g1'/>")
    sid = find(echo, "<stanza-id xmlns='urn:xmpp:sid:0' id='*'/>")["id"]
    raw.send(f"<iq type='set' id='m0' to='{ROOM}'><apply-to xmlns='urn:xmpp:fasten:0' "
             f"id='{sid}'><moderate xmlns='urn:xmpp:message-moderate:0'><retract xmlns="
             "'urn:xmpp:message-retract:0'/><reason>typo</reason></moderate></apply-to></iq>")
    assert_xml(await raw.next("<iq id='m0'/>"), "<iq type='result' id='m0'/>")
    # the room tells its occupants, in both wire formats
    assert_xml(await raw.next("<message id='*'><body/></message>"), f"""
        <message type='groupchat' from='{ROOM}'>
          <retract xmlns='urn:xmpp:message-retract:1' id='{sid}'>
            <moderated xmlns='urn:xmpp:message-moderate:1'/></retract>
          <apply-to xmlns='urn:xmpp:fasten:0' id='{sid}'><moderated
            xmlns='urn:xmpp:message-moderate:0'><retract xmlns='urn:xmpp:message-retract:0'/>
          </moderated></apply-to>
        </message>""")
    assert "oops" not in server.storage.room_archive.messages("lounge")[0].xml
    raw.close()
