"""Blocking Command (XEP-0191) with slixmpp's xep_0191: the list, pushes, and what a
block does to messages, presence, IQs and push notifications."""

from __future__ import annotations

import pytest
from slixmpp.exceptions import IqError
from slixmpp.xmlstream import ET

from tests.helpers import barrier, close, eventually, iq_error, login, wait_push
from tests.push.helpers import offline_alice_with_push
from tests.xmlassert import matches

NS_BLOCKING_ERRORS = "urn:xmpp:blocking:errors"


async def test_block_list_get_block_unblock_with_pushes_to_every_resource(server) -> None:
    desk = await login(server, "alice", resource="desk", plugins=("xep_0191",))
    phone = await login(server, "alice", resource="phone", plugins=("xep_0191",))
    pushes: dict[str, list] = {"desk": [], "phone": []}
    for name, client in (("desk", desk), ("phone", phone)):
        for event in ("blocked", "unblocked"):
            client.add_event_handler(event, lambda iq, n=name, e=event: pushes[n].append(
                (e, {i.get("jid") for i in iq.xml.iter("{urn:xmpp:blocking}item")})))
    assert await desk.plugin["xep_0191"].get_blocked_jids() == set()
    assert await phone.plugin["xep_0191"].get_blocked_jids() == set()
    await desk.plugin["xep_0191"].block(["bob@localhost", "spam.example"])
    want = ("blocked", {"bob@localhost", "spam.example"})
    await eventually(lambda: pushes["desk"] == [want] and pushes["phone"] == [want])
    assert {str(j) for j in await phone.plugin["xep_0191"].get_blocked_jids()} == {
        "bob@localhost", "spam.example"}
    await phone.plugin["xep_0191"].unblock(["spam.example"])
    await eventually(lambda: pushes["desk"][-1:] == [("unblocked", {"spam.example"})])
    unblock_all = phone.make_iq_set()  # §3.5: unblock all (no items)
    ET.SubElement(unblock_all.xml, "{urn:xmpp:blocking}unblock")
    await unblock_all.send(timeout=5)
    await eventually(lambda: pushes["phone"][-1:] == [("unblocked", set())])
    assert await desk.plugin["xep_0191"].get_blocked_jids() == set()
    info = await desk.plugin["xep_0030"].get_info("localhost", timeout=5)
    assert "urn:xmpp:blocking" in info["disco_info"]["features"]
    await close(desk, phone)


async def test_block_without_items_or_with_bad_jid_is_an_error(server) -> None:
    alice = await login(server, "alice", plugins=("xep_0191",))
    with pytest.raises(IqError) as caught:
        await alice.plugin["xep_0191"].block([])
    assert caught.value.iq["error"]["condition"] == "bad-request"
    iq = alice.make_iq_set(ito="alice@localhost")
    block = ET.SubElement(iq.xml, "{urn:xmpp:blocking}block")
    ET.SubElement(block, "{urn:xmpp:blocking}item", {"jid": "@bad"})
    assert await iq_error(iq) == "jid-malformed"
    await close(alice)


async def test_blocked_sender_is_bounced_never_pushed_and_unblock_restores(server) -> None:
    await offline_alice_with_push(server, "node-b")
    bob = await login(server, "bob", resource="desk")
    # positive control: a message from bob gives a push
    bob.send_message(mto="alice@localhost", mbody="before", mtype="chat")
    first = await wait_push(server, account="alice")
    alice = await login(server, "alice", resource="desk", plugins=("xep_0191",),
                            presence=False)
    await alice.plugin["xep_0191"].block(["bob@localhost"])
    await close(alice)
    await eventually(lambda: not server.sessions.of("alice"))
    offline_before = server.storage.offline.count("alice")
    errors: list = []
    bob.add_event_handler("message_error", errors.append)
    bob.send_message(mto="alice@localhost", mbody="blocked", mtype="chat")
    await eventually(lambda: errors)
    assert errors[0]["error"]["condition"] == "service-unavailable"
    assert server.appserver.find(account="alice", since=first.seq) == []
    assert server.storage.offline.count("alice") == offline_before  # not stored
    assert not [m for m in server.storage.archive.messages("alice")
                if matches(m.xml, "<message><body>blocked</body></message>")]
    # an IQ from bob to alice's bare JID: service-unavailable; presence: nothing
    iq = bob.make_iq_get(ito="alice@localhost")
    iq.append(ET.Element("{jabber:iq:version}query"))
    assert await iq_error(iq) == "service-unavailable"
    # unblocking restores delivery (and pushes)
    alice = await login(server, "alice", resource="desk", plugins=("xep_0191",),
                            presence=False)
    await alice.plugin["xep_0191"].unblock(["bob@localhost"])
    await close(alice)
    await eventually(lambda: not server.sessions.of("alice"))
    bob.send_message(mto="alice@localhost", mbody="after", mtype="chat")
    again = await wait_push(server, account="alice", since=first.seq)
    assert again.fields["last-message-body"] == "after"
    await close(bob)


async def test_live_resource_gets_nothing_from_a_blocked_jid_and_cannot_write_to_it(
        server) -> None:
    alice = await login(server, "alice", plugins=("xep_0191",))
    bob = await login(server, "bob", plugins=("xep_0199",))
    await alice.plugin["xep_0191"].block(["bob@localhost/desk", "bob@localhost"])
    bob.send_message(mto="alice@localhost/test", mbody="to full jid", mtype="chat")
    bob.send_presence(pto="alice@localhost/test", pstatus="directed")
    # a barrier on bob's stream, then a message that must arrive
    await barrier(bob)
    carol = await login(server, "carol")
    carol.send_message(mto="alice@localhost/test", mbody="control", mtype="chat")
    got = await alice.next_message()
    assert got["body"] == "control"
    assert not any(p["from"].bare == "bob@localhost" and p["status"] == "directed"
                   for p in alice.presences)
    # alice writes to bob: not-acceptable + <blocked/>
    errors: list = []
    alice.add_event_handler("message_error", errors.append)
    alice.send_message(mto="bob@localhost", mbody="hello?", mtype="chat")
    await eventually(lambda: errors)
    assert errors[0]["error"]["condition"] == "not-acceptable"
    assert errors[0].xml.find(f".//{{{NS_BLOCKING_ERRORS}}}blocked") is not None
    assert [m["body"] for m in bob.messages if m["type"] != "error"] == []
    await close(alice, bob, carol)


async def test_blocking_a_subscribed_contact_sends_it_unavailable(server) -> None:
    alice = await login(server, "alice", plugins=("xep_0191",))
    bob = await login(server, "bob", plugins=("xep_0199",))
    alice.auto_authorize = None
    bob.send_presence(pto="alice@localhost", ptype="subscribe")
    await eventually(lambda: bob.client_roster["alice@localhost"]["pending_out"])
    alice.send_presence(pto="bob@localhost", ptype="subscribed")
    await eventually(lambda: "test" in bob.client_roster["alice@localhost"].resources)
    await alice.plugin["xep_0191"].block(["bob@localhost"])
    await eventually(lambda: not bob.client_roster["alice@localhost"].resources)
    seen = len(bob.presences)
    # alice's new status does not reach bob; unblocking sends her presence again, once
    alice.send_presence(pstatus="hidden from bob")
    await alice.plugin["xep_0191"].unblock(["bob@localhost"])
    await barrier(bob)
    new = [p for p in bob.presences[seen:] if p["from"].bare == "alice@localhost"]
    assert [(p["type"], p["status"]) for p in new] == [("available", "hidden from bob")]
    assert "test" in bob.client_roster["alice@localhost"].resources
    await close(alice, bob)
