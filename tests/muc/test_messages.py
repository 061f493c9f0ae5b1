"""Messages and IQs in a room: groupchat to all occupants (§7.4) with stanza ids
(XEP-0359) and occupant ids (XEP-0421), the rate limit, private messages (§7.5), IQs to
another occupant forwarded and answered, and self-ping (XEP-0410)."""

from __future__ import annotations

import pytest
from slixmpp.exceptions import IqError

from minixmpp import ns
from tests.helpers import close
from tests.muc.helpers import (
    ROOM,
    SUBJECT,
    create,
    join,
    muc_login,
    next_error,
    next_groupchat,
    submit_config,
)
from tests.raw import raw_login, stanza_error
from tests.xmlassert import assert_xml


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


@pytest.mark.server_options(muc_rate=2)
async def test_message_rate_per_occupant(server):
    """A raw client: slixmpp does not know RFC 6120's policy-violation."""
    server.muc.clock = lambda: 1000.0  # a frozen clock: no tokens come back
    raw = await raw_login(server, "alice")
    raw.send(f"<presence to='{ROOM}/Al'/>")
    await raw.next(SUBJECT)
    for i in range(3):
        raw.send(f"<message to='{ROOM}' type='groupchat' id='g{i}'><body>m{i}</body></message>")
    assert_xml(await raw.next("<message id='g2' type='error'/>"),
               stanza_error("message", "policy-violation", "wait"))
    assert [m.with_jid for m in server.storage.room_archive.messages("lounge")] == \
        [f"{ROOM}/Al"] * 2
    raw.close()


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


async def test_disco_to_an_occupant_is_answered_by_its_client_not_the_room(server):
    """Disco is an IQ like the others (as Prosody): the component's DiscoHandler must not
    answer it for the occupant."""
    alice = await muc_login(server, "alice")
    bob = await muc_login(server, "bob")
    await create(alice)
    await join(bob, ROOM, "Bob")
    info = await alice["xep_0030"].get_info(jid=f"{ROOM}/Bob", timeout=5)
    assert info["from"].full == f"{ROOM}/Bob"
    assert ("conference", "text") not in [i[:2] for i in info["disco_info"]["identities"]]
    assert "urn:xmpp:ping" in info["disco_info"]["features"]  # bob's slixmpp plugins
    await close(alice, bob)
