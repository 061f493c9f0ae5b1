"""XEP-0280 §6.2: the server advertises ``urn:xmpp:carbons:rules:0`` and so follows every
rule of §6.1: IM payloads without a body, invitations, errors answering copied messages
are copied; groupchat and a MUC participant's private messages are not. Alice's desk is a
raw client (it sends exactly what a test says), her phone a slixmpp client with carbons
on, Bob a raw client or a MUC occupant."""

from __future__ import annotations

import pytest

from tests.helpers import barrier, close, eventually, login
from tests.muc.helpers import ROOM, create, join, muc_login
from tests.rawtext import raw_barrier, raw_login

RULES = "urn:xmpp:carbons:rules:0"


async def phone_with_carbons(server):
    phone = await login(server, "alice", resource="phone", plugins=("xep_0280",))
    phone.received, phone.sent = [], []
    phone.add_event_handler("carbon_received", phone.received.append)
    phone.add_event_handler("carbon_sent", phone.sent.append)
    await phone["xep_0280"].enable()
    return phone


def inner(carbon, direction: str):
    return carbon[f"carbon_{direction}"]


async def test_the_server_advertises_the_rules_with_carbons(server) -> None:
    alice = await login(server, "alice", plugins=("xep_0030",))
    features = (await alice["xep_0030"].get_info(jid="localhost", timeout=5)
                )["disco_info"]["features"]
    assert "urn:xmpp:carbons:2" in features and RULES in features
    await close(alice)


@pytest.mark.server_options(disable=["carbons"])
async def test_without_carbons_no_rules_are_advertised(server) -> None:
    alice = await login(server, "alice", plugins=("xep_0030",))
    features = (await alice["xep_0030"].get_info(jid="localhost", timeout=5)
                )["disco_info"]["features"]
    assert RULES not in features and "urn:xmpp:ping" in features
    await close(alice)


async def test_im_payloads_without_a_body_are_copied_both_ways(server) -> None:
    desk = await raw_login(server, "alice", resource="desk")
    phone = await phone_with_carbons(server)
    bob = await raw_login(server, "bob", resource="pc")
    # received: a receipt, a chat state and a marker, each alone in a normal message
    for payload in ("<received xmlns='urn:xmpp:receipts' id='m1'/>",
                    "<paused xmlns='http://jabber.org/protocol/chatstates'/>",
                    "<displayed xmlns='urn:xmpp:chat-markers:0' id='m1'/>"):
        bob.send(f"<message to='alice@localhost/desk' id='p{len(phone.received)}'>"
                 f"{payload}</message>")
        count = len(phone.received) + 1
        await eventually(lambda count=count: len(phone.received) == count)
    assert [inner(c, "received")["from"].full for c in phone.received] == \
        ["bob@localhost/pc"] * 3
    # sent: the desk's own marker is copied as sent
    desk.send("<message to='bob@localhost/pc' id='s1'>"
              "<acknowledged xmlns='urn:xmpp:chat-markers:0' id='b1'/></message>")
    await eventually(lambda: phone.sent)
    assert inner(phone.sent[0], "sent")["to"].full == "bob@localhost/pc"
    # control: a normal message with neither body nor IM payload is not copied
    bob.send("<message to='alice@localhost/desk' id='x1'><x xmlns='urn:example:other'/>"
             "</message>")
    await raw_barrier(bob)
    await raw_barrier(desk)
    await barrier(phone)
    assert len(phone.received) == 3 and len(phone.sent) == 1
    desk.close()
    bob.close()
    await close(phone)


async def test_invitations_without_a_body_are_copied(server) -> None:
    desk = await raw_login(server, "alice", resource="desk")
    phone = await phone_with_carbons(server)
    bob = await raw_login(server, "bob", resource="pc")
    bob.send("<message to='alice@localhost/desk' id='d1'>"
             f"<x xmlns='jabber:x:conference' jid='{ROOM}'/></message>")  # XEP-0249
    bob.send("<message to='alice@localhost/desk' id='d2'>"  # XEP-0045 §7.8.2
             "<x xmlns='http://jabber.org/protocol/muc#user'>"
             "<invite from='bob@localhost/pc'/></x></message>")
    await eventually(lambda: len(phone.received) == 2)
    assert [inner(c, "received")["id"] for c in phone.received] == ["d1", "d2"]
    desk.close()
    bob.close()
    await close(phone)


async def test_a_participants_private_message_and_groupchat_are_not_copied(server) -> None:
    desk = await muc_login(server, "alice", resource="desk")
    phone = await phone_with_carbons(server)
    bob = await muc_login(server, "bob")
    await create(desk, ROOM, "Alice")
    await join(bob, ROOM, "Bob")
    desk.messages.clear()
    bob.send_message(mto=f"{ROOM}/Alice", mbody="psst", mtype="chat")
    bob.send_message(mto=ROOM, mbody="all of you", mtype="groupchat")
    got = [await desk.next_message(), await desk.next_message()]
    assert {m["type"] for m in got} == {"chat", "groupchat"}
    # the desk's own private message to a participant is an ordinary chat: copied
    desk.send_message(mto=f"{ROOM}/Bob", mbody="back", mtype="chat")
    await eventually(lambda: phone.sent)
    assert inner(phone.sent[0], "sent")["body"] == "back"
    await barrier(bob)
    await barrier(phone)
    assert phone.received == []  # neither the participant's PM nor the groupchat
    await close(desk, phone, bob)


async def test_errors_answering_copied_messages_are_copied(server) -> None:
    desk = await raw_login(server, "alice", resource="desk")
    phone = await phone_with_carbons(server)
    bob = await raw_login(server, "bob", resource="pc")
    # the desk writes to an account that does not exist: its chat is copied, and so is
    # the server's service-unavailable bounce answering it (RFC 6121 §8.5.1)
    desk.send("<message to='nobody@localhost' type='chat' id='lost1'><body>hi</body>"
              "</message>")
    await eventually(lambda: phone.sent and phone.received)
    error = inner(phone.received[0], "received")
    assert error["type"] == "error" and error["id"] == "lost1"
    assert error["error"]["condition"] == "service-unavailable"
    # the desk answers Bob's chat with an error: copied as sent
    bob.send("<message to='alice@localhost/desk' type='chat' id='c1'><body>?</body>"
             "</message>")
    await eventually(lambda: len(phone.received) == 2)  # Bob's chat itself
    desk.send("<message to='bob@localhost/pc' type='error' id='c1'><error type='cancel'>"
              "<not-acceptable xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/></error>"
              "</message>")
    await eventually(lambda: len(phone.sent) == 2)
    assert inner(phone.sent[1], "sent")["type"] == "error"
    # errors answering nothing that was copied are not
    bob.send("<message to='alice@localhost/desk' type='error' id='never'><error "
             "type='cancel'><gone xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/></error>"
             "</message>")
    desk.send("<message to='bob@localhost/pc' type='error' id='other'><error "
              "type='cancel'><gone xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/></error>"
              "</message>")
    await raw_barrier(bob)
    await raw_barrier(desk)
    await barrier(phone)
    assert len(phone.received) == 2 and len(phone.sent) == 2
    desk.close()
    bob.close()
    await close(phone)
