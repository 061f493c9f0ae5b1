"""XEP-0357 push with the AWAY/XA extension, end to end (push-rules.md, rule by rule):
what pushes and what does not."""

from __future__ import annotations

import pytest

from tests.helpers import (
    barrier,
    close,
    enable_push,
    eventually,
    login,
    wait_push,
)
from tests.push.helpers import offline_alice_with_push


async def test_offline_message_gives_exactly_one_notification(server) -> None:
    await offline_alice_with_push(server, "yxs32uqsflafdk3iuqo", secret="eruio234vzxc2kla")
    bob = await login(server, "bob", resource="desk")
    bob.send_message(mto="alice@localhost", mbody="Hi", mtype="chat")
    n = await wait_push(server, account="alice")
    assert n.node == "yxs32uqsflafdk3iuqo"
    assert n.fields == {"message-count": "1", "last-message-sender": "bob@localhost/desk",
                        "last-message-body": "Hi"}
    assert n.publish_options == {"secret": "eruio234vzxc2kla"}
    assert n.sender == "localhost"
    await barrier(bob)
    assert len(server.appserver.find(account="alice")) == 1
    # A second message: a second notification, with the count going up.
    bob.send_message(mto="alice@localhost", mbody="Still there?", mtype="chat")
    second = await wait_push(server, account="alice", since=n.seq)
    assert second.fields["message-count"] == "2"
    # Back online: both messages arrive from offline storage with <delay>.
    alice = await login(server, "alice", resource="phone", presence=False)
    alice.send_presence()
    first = await alice.next_message()
    delay = first.xml.find("{urn:xmpp:delay}delay")
    assert first["body"] == "Hi" and delay is not None and delay.get("from") == "localhost"
    assert delay.get("stamp", "").endswith("Z") and first["from"].full == "bob@localhost/desk"
    assert (await alice.next_message())["body"] == "Still there?"
    assert server.storage.offline.count("alice") == 0
    await close(alice, bob)


OTHER_PRESENCE = [
    # (how the other resource is, push with away='true'?)
    ("no presence", True),
    ("away", True),
    ("xa", True),
    ("dnd", True),
    ("chat", False),
    ("available", False),
]


@pytest.mark.parametrize("state, pushed", OTHER_PRESENCE)
async def test_away_table_with_away_true(server, state: str, pushed: bool) -> None:
    await offline_alice_with_push(server, "phone-node", away=True)
    desktop = await login(server, "alice", resource="desktop",
                              presence=state != "no presence",
                              show=None if state in ("available", "no presence") else state)
    bob = await login(server, "bob")
    bob.send_message(mto="alice@localhost", mbody="ping", mtype="chat")
    if state != "no presence":
        assert (await desktop.next_message())["body"] == "ping"
    await barrier(bob)
    assert len(server.appserver.find(account="alice")) == (1 if pushed else 0)
    await close(desktop, bob)


@pytest.mark.parametrize("state", ["away", "xa", "dnd", "available"])
async def test_without_away_no_push_while_a_resource_is_online(server, state: str) -> None:
    await offline_alice_with_push(server, "phone-node")
    desktop = await login(server, "alice", resource="desktop",
                              presence=state != "no presence",
                              show=None if state in ("available", "no presence") else state)
    bob = await login(server, "bob")
    bob.send_message(mto="alice@localhost", mbody="ping", mtype="chat")
    await barrier(bob)
    assert server.appserver.find(account="alice") == []
    # Positive control: with the desktop gone, the next message pushes.
    await close(desktop)
    await eventually(lambda: not server.sessions.of("alice"))
    bob.send_message(mto="alice@localhost", mbody="now?", mtype="chat")
    assert (await wait_push(server, account="alice")).fields["last-message-body"] == \
        "now?"
    await close(bob)


async def test_connected_resource_without_presence_is_not_available(server) -> None:
    """RFC 6121 §8.5.2.2: no available resource, so the message is stored offline, and
    rule 1 pushes even without away='true'."""
    await offline_alice_with_push(server, "phone-node")
    silent = await login(server, "alice", resource="silent", presence=False)
    bob = await login(server, "bob")
    bob.send_message(mto="alice@localhost", mbody="anyone?", mtype="chat")
    n = await wait_push(server, account="alice")
    assert n.fields["last-message-body"] == "anyone?"
    assert server.storage.offline.count("alice") == 1 and silent.messages == []
    await close(silent, bob)


async def test_enabling_resource_online_with_xa_gets_message_and_push(server) -> None:
    phone = await login(server, "alice", resource="phone", show="xa")
    await enable_push(phone, "phone-node", away=True)
    bob = await login(server, "bob")
    bob.send_message(mto="alice@localhost", mbody="wake up", mtype="chat")
    assert (await phone.next_message())["body"] == "wake up"
    n = await wait_push(server, account="alice")
    assert n.fields["last-message-body"] == "wake up"
    # Plainly available again: no more pushes.
    phone.send_presence()
    await barrier(phone)
    bob.send_message(mto="alice@localhost", mbody="seen?", mtype="chat")
    await phone.next_message()
    await barrier(bob)
    assert len(server.appserver.find(account="alice")) == 1
    await close(phone, bob)


NOT_PUSH_WORTHY = [
    "<message to='alice@localhost' type='chat'><active "
    "xmlns='http://jabber.org/protocol/chatstates'/></message>",
    "<message to='alice@localhost' type='chat'><received xmlns='urn:xmpp:receipts' "
    "id='abc'/></message>",
    "<message to='alice@localhost' type='headline'><body>news</body></message>",
    "<message to='alice@localhost' type='groupchat'><body>room</body></message>",
    "<message to='alice@localhost' type='error'><body>x</body><error type='cancel'>"
    "<item-not-found xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/></error></message>",
]


@pytest.mark.parametrize("stanza", NOT_PUSH_WORTHY,
                         ids=["chat-state", "receipt", "headline", "groupchat", "error"])
async def test_not_push_worthy_messages_give_no_push(server, stanza: str) -> None:
    from tests.raw import raw_login

    await offline_alice_with_push(server)
    bob = await raw_login(server, "bob")
    bob.send(stanza)
    await barrier(bob)
    assert server.appserver.find(account="alice") == []
    # Positive control: a chat message with a body on the same path pushes.
    bob.send("<message to='alice@localhost' type='chat'><body>push me</body></message>")
    assert (await wait_push(server, account="alice")).fields["last-message-body"] == \
        "push me"
    bob.close()


async def test_own_messages_give_no_push(server) -> None:
    phone = await login(server, "alice", resource="phone", show="xa")
    await enable_push(phone, "n", away=True)
    laptop = await login(server, "alice", resource="laptop", presence=False)
    laptop.send_message(mto="alice@localhost", mbody="note to self", mtype="chat")
    assert (await phone.next_message())["body"] == "note to self"
    await barrier(laptop)
    assert server.appserver.find(account="alice") == []
    # Positive control: someone else's message to the same account pushes.
    bob = await login(server, "bob")
    bob.send_message(mto="alice@localhost", mbody="from bob", mtype="chat")
    assert (await phone.next_message())["body"] == "from bob"
    assert (await wait_push(server, account="alice")).fields["last-message-body"] == \
        "from bob"
    await close(phone, laptop, bob)


@pytest.mark.parametrize("on", [False, True], ids=["default", "push-on-archive"])
async def test_push_on_archive_notifies_an_offline_phone_while_desktop_is_online(
        server_factory, on: bool) -> None:
    server = server_factory(push_on_archive=on)
    phone = await login(server, "alice", resource="phone")
    await enable_push(phone, "phone-node")
    await close(phone)
    desktop = await login(server, "alice", resource="desktop")  # plainly available
    bob = await login(server, "bob")
    for body in ("one", "two"):
        bob.send_message(mto="alice@localhost", mbody=body, mtype="chat")
        assert (await desktop.next_message())["body"] == body
    bob.send_message(mto="alice@localhost", mtype="chat", mbody="")  # not archived
    await barrier(bob)
    found = server.appserver.find(account="alice")
    if on:
        assert [n.fields["last-message-body"] for n in found] == ["one", "two"]
        await wait_push(server, account="alice")
    else:
        assert found == []
    await close(desktop, bob)
