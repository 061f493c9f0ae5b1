"""XEP-0357 push with the AWAY/XA extension, end to end (push-rules.md, rule by rule)."""

from __future__ import annotations

import pytest

from tests.helpers import (
    Raw,
    barrier,
    close,
    disable_push,
    enable_push,
    eventually,
    iq_error,
    login,
    push_iq,
    wait_push,
)


async def offline_alice_with_push(server, node="node-1", **kw):
    alice = await login(server, "alice", resource="phone")
    await enable_push(alice, node, **kw)
    await close(alice)
    await eventually(lambda: not server.sessions.of("alice"))


async def test_account_disco_shows_push_features_to_the_account_itself(server) -> None:
    alice = await login(server, "alice")
    bob = await login(server, "bob")
    for c in (alice, bob):
        c.register_plugin("xep_0030")
    info = (await alice["xep_0030"].get_info(jid="alice@localhost"))["disco_info"]
    assert ("account", "registered", None, None) in info["identities"]
    assert {"urn:xmpp:push:0", "tigase:push:away:0", "urn:xmpp:mam:2", "urn:xmpp:sid:0"} <= set(
        info["features"])
    other = (await bob["xep_0030"].get_info(jid="alice@localhost"))["disco_info"]
    assert "urn:xmpp:push:0" not in other["features"]
    app = (await alice["xep_0030"].get_info(jid="push.localhost"))["disco_info"]
    assert any(i[0] == "pubsub" and i[1] == "push" for i in app["identities"])
    items = (await alice["xep_0030"].get_items(jid="localhost"))["disco_items"]
    assert "push.localhost" in {i[0] for i in items["items"]}
    await close(alice, bob)


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
    from tests.helpers import raw_barrier, raw_login

    await offline_alice_with_push(server)
    bob = await raw_login(server, "bob")
    bob.send(stanza)
    await raw_barrier(bob)
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


async def test_disable_one_node_then_all(server) -> None:
    alice = await login(server, "alice", resource="phone")
    await enable_push(alice, "n1")
    await enable_push(alice, "n2")
    await enable_push(alice, "n3", jid="push2.example")
    await disable_push(alice, "n1")
    assert [r.node for r in server.storage.push.registrations("alice")] == ["n2", "n3"]
    await disable_push(alice, "no-such-node")  # no match: still a result
    await disable_push(alice)  # every node of push.localhost
    assert [r.node for r in server.storage.push.registrations("alice")] == ["n3"]
    await disable_push(alice, jid="push2.example")
    await close(alice)
    bob = await login(server, "bob")
    bob.send_message(mto="alice@localhost", mbody="hello", mtype="chat")
    await barrier(bob)
    assert server.appserver.find(account="alice") == []
    assert server.storage.offline.count("alice") == 1  # positive control: it was handled
    await close(bob)


async def test_re_enable_without_away_turns_away_off(server) -> None:
    phone = await login(server, "alice", resource="phone")
    await enable_push(phone, "n", away=True)
    await enable_push(phone, "n")
    [registration] = server.storage.push.registrations("alice")
    assert registration.away is False
    await close(phone)
    desktop = await login(server, "alice", resource="desktop", show="xa")
    bob = await login(server, "bob")
    bob.send_message(mto="alice@localhost", mbody="hi", mtype="chat")
    await desktop.next_message()
    await barrier(bob)
    assert server.appserver.find(account="alice") == []
    await close(desktop, bob)


@pytest.mark.server_options(push_max_registrations=2)
async def test_per_account_limit_drops_the_oldest(server) -> None:
    alice = await login(server, "alice")
    for node in ("a", "b", "c"):
        await enable_push(alice, node)
    assert [r.node for r in server.storage.push.registrations("alice")] == ["b", "c"]
    await close(alice)


async def test_bad_enable_requests(server) -> None:
    alice = await login(server, "alice")
    assert await iq_error(push_iq(alice, "enable", jid=None, node="n")) == "bad-request"
    assert await iq_error(push_iq(alice, "enable", jid="not a jid@@", node="n")) == "bad-request"
    assert await iq_error(push_iq(alice, "enable", node="n", iq_type="get")) == "bad-request"
    assert await iq_error(push_iq(alice, "enable", node="n", secret="s",
                                      form_type="urn:example:wrong")) == "bad-request"
    assert await iq_error(push_iq(alice, "enable", node="n", to="bob@localhost")) == "forbidden"
    assert await iq_error(push_iq(alice, "disable", jid=None)) == "bad-request"
    assert await iq_error(push_iq(alice, "disable", node="n", to="bob@localhost")) == "forbidden"
    assert server.storage.push.registrations("alice") == []
    assert server.storage.push.registrations("bob") == []
    # A missing node is accepted by default (XEP-0357 says SHOULD).
    await enable_push(alice, None)
    assert [r.node for r in server.storage.push.registrations("alice")] == [None]
    await close(alice)


@pytest.mark.server_options(push_strict=True)
async def test_push_strict_requires_node(server) -> None:
    alice = await login(server, "alice")
    assert await iq_error(push_iq(alice, "enable", node=None)) == "bad-request"
    await close(alice)


async def test_enable_before_authentication_is_refused(server) -> None:
    raw = await Raw.connect(server)
    await raw.open_stream()
    raw.send("<iq type='set' id='e'><enable xmlns='urn:xmpp:push:0' jid='push.localhost' "
             "node='n'/></iq>")
    assert "<not-authorized xmlns='urn:ietf:params:xml:ns:xmpp-streams'/>" in (
        await raw.read_to_close())
    assert server.storage.push.users() == []


@pytest.mark.server_options(push_privacy=True)
async def test_privacy_mode_leaves_out_sender_and_body(server) -> None:
    await offline_alice_with_push(server)
    bob = await login(server, "bob")
    bob.send_message(mto="alice@localhost", mbody="secret stuff", mtype="chat")
    n = await wait_push(server, account="alice")
    assert n.fields == {"message-count": "1", "last-message-body": "New message"}
    await close(bob)


async def test_permanent_error_removes_registration_at_once(server) -> None:
    await offline_alice_with_push(server, "bad-node")
    server.appserver.fail("bad-node", "item-not-found")
    bob = await login(server, "bob")
    bob.send_message(mto="alice@localhost", mbody="1", mtype="chat")
    await eventually(lambda: server.storage.push.registrations("alice") == [])
    await close(bob)


@pytest.mark.server_options(push_max_errors=3)
async def test_transient_errors_remove_registration_after_the_count(server) -> None:
    await offline_alice_with_push(server, "flaky")
    server.appserver.fail("flaky", "internal-server-error", type="wait")
    bob = await login(server, "bob")
    for i in range(2):
        bob.send_message(mto="alice@localhost", mbody=str(i), mtype="chat")
        await eventually(lambda i=i: server.storage.push.registrations("alice")[0].errors
                             == i + 1)
    # A success in between resets the count.
    server.appserver.recover("flaky")
    bob.send_message(mto="alice@localhost", mbody="ok", mtype="chat")
    await wait_push(server, account="alice")
    await eventually(lambda: server.storage.push.registrations("alice")[0].errors == 0)
    server.appserver.fail("flaky", "service-unavailable")
    for i in range(3):
        bob.send_message(mto="alice@localhost", mbody=str(i), mtype="chat")
        await barrier(bob)
    await eventually(lambda: server.storage.push.registrations("alice") == [])
    await close(bob)


@pytest.mark.server_options(push_timeout=1, push_max_errors=2)
async def test_no_reply_takes_the_timeout_path(server) -> None:
    await offline_alice_with_push(server, "silent")
    server.appserver.fail("silent", None)
    bob = await login(server, "bob")
    bob.send_message(mto="alice@localhost", mbody="1", mtype="chat")
    await eventually(lambda: server.storage.push.registrations("alice")[0].last_error
                         == "timeout", timeout=3)
    bob.send_message(mto="alice@localhost", mbody="2", mtype="chat")
    await eventually(lambda: server.storage.push.registrations("alice") == [], timeout=3)
    # Message delivery never waited for the App Server.
    assert server.storage.offline.count("alice") == 2
    await close(bob)


@pytest.mark.server_options(max_offline=2)
async def test_offline_overflow_bounces_service_unavailable(server) -> None:
    bob = await login(server, "bob")
    for i in range(3):
        bob.send_message(mto="alice@localhost", mbody=str(i), mtype="chat")
    err = await bob.next_message()
    assert err["type"] == "error" and err["error"]["condition"] == "service-unavailable"
    assert err["body"] == "2"
    assert server.storage.offline.count("alice") == 2
    await close(bob)


async def test_summary_counts_pending_subscription_requests(server) -> None:
    await offline_alice_with_push(server)
    carol = await login(server, "carol")
    carol.send_presence(pto="alice@localhost", ptype="subscribe")
    await barrier(carol)
    bob = await login(server, "bob")
    bob.send_message(mto="alice@localhost", mbody="hi", mtype="chat")
    n = await wait_push(server, account="alice")
    assert n.fields["pending-subscription-count"] == "1"
    await close(carol, bob)


async def test_encrypted_message_without_body_pushes_with_placeholder(server) -> None:
    from tests.helpers import raw_login

    await offline_alice_with_push(server)
    bob = await raw_login(server, "bob", resource="desk")
    bob.send("<message to='alice@localhost' type='chat'><encrypted "
             "xmlns='eu.siacs.conversations.axolotl'><header sid='1'/><payload>AAAA</payload>"
             "</encrypted></message>")
    n = await wait_push(server, account="alice")
    assert n.fields["last-message-body"] == "New message"
    assert n.fields["last-message-sender"] == "bob@localhost/desk"
    bob.close()
