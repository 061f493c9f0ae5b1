"""XEP-0357 push with the AWAY/XA extension, end to end (push-rules.md, rule by rule)."""

from __future__ import annotations

import pytest
import pytest_twisted

from tests.helpers import (
    Raw,
    aio,
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


@pytest_twisted.ensureDeferred
async def test_account_disco_shows_push_features_to_the_account_itself(server) -> None:
    alice = await aio(login(server, "alice"))
    bob = await aio(login(server, "bob"))
    for c in (alice, bob):
        c.register_plugin("xep_0030")
    info = (await aio(alice["xep_0030"].get_info(jid="alice@localhost")))["disco_info"]
    assert ("account", "registered", None, None) in info["identities"]
    assert {"urn:xmpp:push:0", "tigase:push:away:0", "urn:xmpp:mam:2", "urn:xmpp:sid:0"} <= set(
        info["features"])
    other = (await aio(bob["xep_0030"].get_info(jid="alice@localhost")))["disco_info"]
    assert "urn:xmpp:push:0" not in other["features"]
    app = (await aio(alice["xep_0030"].get_info(jid="push.localhost")))["disco_info"]
    assert any(i[0] == "pubsub" and i[1] == "push" for i in app["identities"])
    items = (await aio(alice["xep_0030"].get_items(jid="localhost")))["disco_items"]
    assert "push.localhost" in {i[0] for i in items["items"]}
    await aio(close(alice, bob))


@pytest_twisted.ensureDeferred
async def test_offline_message_gives_exactly_one_notification(server) -> None:
    await aio(offline_alice_with_push(server, "yxs32uqsflafdk3iuqo", secret="eruio234vzxc2kla"))
    bob = await aio(login(server, "bob", resource="desk"))
    bob.send_message(mto="alice@localhost", mbody="Hi", mtype="chat")
    n = await aio(wait_push(server, account="alice"))
    assert n.node == "yxs32uqsflafdk3iuqo"
    assert n.fields == {"message-count": "1", "last-message-sender": "bob@localhost/desk",
                        "last-message-body": "Hi"}
    assert n.publish_options == {"secret": "eruio234vzxc2kla"}
    assert n.sender == "localhost"
    await aio(barrier(bob))
    assert len(server.appserver.find(account="alice")) == 1
    # A second message: a second notification, with the count going up.
    bob.send_message(mto="alice@localhost", mbody="Still there?", mtype="chat")
    second = await aio(wait_push(server, account="alice", since=n.seq))
    assert second.fields["message-count"] == "2"
    # Back online: both messages arrive from offline storage with <delay>.
    alice = await aio(login(server, "alice", resource="phone", presence=False))
    alice.send_presence()
    first = await aio(alice.next_message())
    delay = first.xml.find("{urn:xmpp:delay}delay")
    assert first["body"] == "Hi" and delay is not None and delay.get("from") == "localhost"
    assert delay.get("stamp", "").endswith("Z") and first["from"].full == "bob@localhost/desk"
    assert (await aio(alice.next_message()))["body"] == "Still there?"
    assert server.offline_store.count("alice") == 0
    await aio(close(alice, bob))


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
@pytest_twisted.ensureDeferred
async def test_away_table_with_away_true(server, state: str, pushed: bool) -> None:
    await aio(offline_alice_with_push(server, "phone-node", away=True))
    desktop = await aio(login(server, "alice", resource="desktop",
                              presence=state != "no presence",
                              show=None if state in ("available", "no presence") else state))
    bob = await aio(login(server, "bob"))
    bob.send_message(mto="alice@localhost", mbody="ping", mtype="chat")
    if state != "no presence":
        assert (await aio(desktop.next_message()))["body"] == "ping"
    await aio(barrier(bob))
    assert len(server.appserver.find(account="alice")) == (1 if pushed else 0)
    await aio(close(desktop, bob))


@pytest.mark.parametrize("state", ["away", "xa", "dnd", "available"])
@pytest_twisted.ensureDeferred
async def test_without_away_no_push_while_a_resource_is_online(server, state: str) -> None:
    await aio(offline_alice_with_push(server, "phone-node"))
    desktop = await aio(login(server, "alice", resource="desktop",
                              presence=state != "no presence",
                              show=None if state in ("available", "no presence") else state))
    bob = await aio(login(server, "bob"))
    bob.send_message(mto="alice@localhost", mbody="ping", mtype="chat")
    await aio(barrier(bob))
    assert server.appserver.find(account="alice") == []
    # Positive control: with the desktop gone, the next message pushes.
    await aio(close(desktop))
    await aio(eventually(lambda: not server.sessions.of("alice")))
    bob.send_message(mto="alice@localhost", mbody="now?", mtype="chat")
    assert (await aio(wait_push(server, account="alice"))).fields["last-message-body"] == \
        "now?"
    await aio(close(bob))


@pytest_twisted.ensureDeferred
async def test_connected_resource_without_presence_is_not_available(server) -> None:
    """RFC 6121 §8.5.2.2: no available resource, so the message is stored offline, and
    rule 1 pushes even without away='true'."""
    await aio(offline_alice_with_push(server, "phone-node"))
    silent = await aio(login(server, "alice", resource="silent", presence=False))
    bob = await aio(login(server, "bob"))
    bob.send_message(mto="alice@localhost", mbody="anyone?", mtype="chat")
    n = await aio(wait_push(server, account="alice"))
    assert n.fields["last-message-body"] == "anyone?"
    assert server.offline_store.count("alice") == 1 and silent.messages == []
    await aio(close(silent, bob))


@pytest_twisted.ensureDeferred
async def test_enabling_resource_online_with_xa_gets_message_and_push(server) -> None:
    phone = await aio(login(server, "alice", resource="phone", show="xa"))
    await aio(enable_push(phone, "phone-node", away=True))
    bob = await aio(login(server, "bob"))
    bob.send_message(mto="alice@localhost", mbody="wake up", mtype="chat")
    assert (await aio(phone.next_message()))["body"] == "wake up"
    n = await aio(wait_push(server, account="alice"))
    assert n.fields["last-message-body"] == "wake up"
    # Plainly available again: no more pushes.
    phone.send_presence()
    await aio(barrier(phone))
    bob.send_message(mto="alice@localhost", mbody="seen?", mtype="chat")
    await aio(phone.next_message())
    await aio(barrier(bob))
    assert len(server.appserver.find(account="alice")) == 1
    await aio(close(phone, bob))


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
@pytest_twisted.ensureDeferred
async def test_not_push_worthy_messages_give_no_push(server, stanza: str) -> None:
    from tests.helpers import raw_barrier, raw_login

    await aio(offline_alice_with_push(server))
    bob = await aio(raw_login(server, "bob"))
    bob.send(stanza)
    await aio(raw_barrier(bob))
    assert server.appserver.find(account="alice") == []
    # Positive control: a chat message with a body on the same path pushes.
    bob.send("<message to='alice@localhost' type='chat'><body>push me</body></message>")
    assert (await aio(wait_push(server, account="alice"))).fields["last-message-body"] == \
        "push me"
    bob.close()


@pytest_twisted.ensureDeferred
async def test_own_messages_give_no_push(server) -> None:
    phone = await aio(login(server, "alice", resource="phone", show="xa"))
    await aio(enable_push(phone, "n", away=True))
    laptop = await aio(login(server, "alice", resource="laptop", presence=False))
    laptop.send_message(mto="alice@localhost", mbody="note to self", mtype="chat")
    assert (await aio(phone.next_message()))["body"] == "note to self"
    await aio(barrier(laptop))
    assert server.appserver.find(account="alice") == []
    # Positive control: someone else's message to the same account pushes.
    bob = await aio(login(server, "bob"))
    bob.send_message(mto="alice@localhost", mbody="from bob", mtype="chat")
    assert (await aio(phone.next_message()))["body"] == "from bob"
    assert (await aio(wait_push(server, account="alice"))).fields["last-message-body"] == \
        "from bob"
    await aio(close(phone, laptop, bob))


@pytest_twisted.ensureDeferred
async def test_disable_one_node_then_all(server) -> None:
    alice = await aio(login(server, "alice", resource="phone"))
    await aio(enable_push(alice, "n1"))
    await aio(enable_push(alice, "n2"))
    await aio(enable_push(alice, "n3", jid="push2.example"))
    await aio(disable_push(alice, "n1"))
    assert [r.node for r in server.push_store.registrations("alice")] == ["n2", "n3"]
    await aio(disable_push(alice, "no-such-node"))  # no match: still a result
    await aio(disable_push(alice))  # every node of push.localhost
    assert [r.node for r in server.push_store.registrations("alice")] == ["n3"]
    await aio(disable_push(alice, jid="push2.example"))
    await aio(close(alice))
    bob = await aio(login(server, "bob"))
    bob.send_message(mto="alice@localhost", mbody="hello", mtype="chat")
    await aio(barrier(bob))
    assert server.appserver.find(account="alice") == []
    assert server.offline_store.count("alice") == 1  # positive control: it was handled
    await aio(close(bob))


@pytest_twisted.ensureDeferred
async def test_re_enable_without_away_turns_away_off(server) -> None:
    phone = await aio(login(server, "alice", resource="phone"))
    await aio(enable_push(phone, "n", away=True))
    await aio(enable_push(phone, "n"))
    [registration] = server.push_store.registrations("alice")
    assert registration.away is False
    await aio(close(phone))
    desktop = await aio(login(server, "alice", resource="desktop", show="xa"))
    bob = await aio(login(server, "bob"))
    bob.send_message(mto="alice@localhost", mbody="hi", mtype="chat")
    await aio(desktop.next_message())
    await aio(barrier(bob))
    assert server.appserver.find(account="alice") == []
    await aio(close(desktop, bob))


@pytest.mark.server_options(push_max_registrations=2)
@pytest_twisted.ensureDeferred
async def test_per_account_limit_drops_the_oldest(server) -> None:
    alice = await aio(login(server, "alice"))
    for node in ("a", "b", "c"):
        await aio(enable_push(alice, node))
    assert [r.node for r in server.push_store.registrations("alice")] == ["b", "c"]
    await aio(close(alice))


@pytest_twisted.ensureDeferred
async def test_bad_enable_requests(server) -> None:
    alice = await aio(login(server, "alice"))
    assert await aio(iq_error(push_iq(alice, "enable", jid=None, node="n"))) == "bad-request"
    assert await aio(iq_error(push_iq(alice, "enable", jid="not a jid@@", node="n"))
                     ) == "bad-request"
    assert await aio(iq_error(push_iq(alice, "enable", node="n", iq_type="get"))
                     ) == "bad-request"
    assert await aio(iq_error(push_iq(alice, "enable", node="n", secret="s",
                                      form_type="urn:example:wrong"))) == "bad-request"
    assert await aio(iq_error(push_iq(alice, "enable", node="n", to="bob@localhost"))
                     ) == "forbidden"
    assert await aio(iq_error(push_iq(alice, "disable", jid=None))) == "bad-request"
    assert await aio(iq_error(push_iq(alice, "disable", node="n", to="bob@localhost"))
                     ) == "forbidden"
    assert server.push_store.registrations("alice") == []
    assert server.push_store.registrations("bob") == []
    # A missing node is accepted by default (XEP-0357 says SHOULD).
    await aio(enable_push(alice, None))
    assert [r.node for r in server.push_store.registrations("alice")] == [None]
    await aio(close(alice))


@pytest.mark.server_options(push_strict=True)
@pytest_twisted.ensureDeferred
async def test_push_strict_requires_node(server) -> None:
    alice = await aio(login(server, "alice"))
    assert await aio(iq_error(push_iq(alice, "enable", node=None))) == "bad-request"
    await aio(close(alice))


@pytest_twisted.ensureDeferred
async def test_enable_before_authentication_is_refused(server) -> None:
    raw = await aio(Raw.connect(server))
    await aio(raw.open_stream())
    raw.send("<iq type='set' id='e'><enable xmlns='urn:xmpp:push:0' jid='push.localhost' "
             "node='n'/></iq>")
    assert "<not-authorized xmlns='urn:ietf:params:xml:ns:xmpp-streams'/>" in await aio(
        raw.read_to_close())
    assert server.push_store.users() == []


@pytest.mark.server_options(push_privacy=True)
@pytest_twisted.ensureDeferred
async def test_privacy_mode_leaves_out_sender_and_body(server) -> None:
    await aio(offline_alice_with_push(server))
    bob = await aio(login(server, "bob"))
    bob.send_message(mto="alice@localhost", mbody="secret stuff", mtype="chat")
    n = await aio(wait_push(server, account="alice"))
    assert n.fields == {"message-count": "1", "last-message-body": "New message"}
    await aio(close(bob))


@pytest_twisted.ensureDeferred
async def test_permanent_error_removes_registration_at_once(server) -> None:
    await aio(offline_alice_with_push(server, "bad-node"))
    server.appserver.fail("bad-node", "item-not-found")
    bob = await aio(login(server, "bob"))
    bob.send_message(mto="alice@localhost", mbody="1", mtype="chat")
    await aio(eventually(lambda: server.push_store.registrations("alice") == []))
    await aio(close(bob))


@pytest.mark.server_options(push_max_errors=3)
@pytest_twisted.ensureDeferred
async def test_transient_errors_remove_registration_after_the_count(server) -> None:
    await aio(offline_alice_with_push(server, "flaky"))
    server.appserver.fail("flaky", "internal-server-error", type="wait")
    bob = await aio(login(server, "bob"))
    for i in range(2):
        bob.send_message(mto="alice@localhost", mbody=str(i), mtype="chat")
        await aio(eventually(lambda i=i: server.push_store.registrations("alice")[0].errors
                             == i + 1))
    # A success in between resets the count.
    server.appserver.recover("flaky")
    bob.send_message(mto="alice@localhost", mbody="ok", mtype="chat")
    await aio(wait_push(server, account="alice"))
    await aio(eventually(lambda: server.push_store.registrations("alice")[0].errors == 0))
    server.appserver.fail("flaky", "service-unavailable")
    for i in range(3):
        bob.send_message(mto="alice@localhost", mbody=str(i), mtype="chat")
        await aio(barrier(bob))
    await aio(eventually(lambda: server.push_store.registrations("alice") == []))
    await aio(close(bob))


@pytest.mark.server_options(push_timeout=1, push_max_errors=2)
@pytest_twisted.ensureDeferred
async def test_no_reply_takes_the_timeout_path(server) -> None:
    await aio(offline_alice_with_push(server, "silent"))
    server.appserver.fail("silent", None)
    bob = await aio(login(server, "bob"))
    bob.send_message(mto="alice@localhost", mbody="1", mtype="chat")
    await aio(eventually(lambda: server.push_store.registrations("alice")[0].last_error
                         == "timeout", timeout=3))
    bob.send_message(mto="alice@localhost", mbody="2", mtype="chat")
    await aio(eventually(lambda: server.push_store.registrations("alice") == [], timeout=3))
    # Message delivery never waited for the App Server.
    assert server.offline_store.count("alice") == 2
    await aio(close(bob))


@pytest.mark.server_options(max_offline=2)
@pytest_twisted.ensureDeferred
async def test_offline_overflow_bounces_service_unavailable(server) -> None:
    bob = await aio(login(server, "bob"))
    for i in range(3):
        bob.send_message(mto="alice@localhost", mbody=str(i), mtype="chat")
    err = await aio(bob.next_message())
    assert err["type"] == "error" and err["error"]["condition"] == "service-unavailable"
    assert err["body"] == "2"
    assert server.offline_store.count("alice") == 2
    await aio(close(bob))


@pytest_twisted.ensureDeferred
async def test_summary_counts_pending_subscription_requests(server) -> None:
    await aio(offline_alice_with_push(server))
    carol = await aio(login(server, "carol"))
    carol.send_presence(pto="alice@localhost", ptype="subscribe")
    await aio(barrier(carol))
    bob = await aio(login(server, "bob"))
    bob.send_message(mto="alice@localhost", mbody="hi", mtype="chat")
    n = await aio(wait_push(server, account="alice"))
    assert n.fields["pending-subscription-count"] == "1"
    await aio(close(carol, bob))


@pytest_twisted.ensureDeferred
async def test_encrypted_message_without_body_pushes_with_placeholder(server) -> None:
    from tests.helpers import raw_login

    await aio(offline_alice_with_push(server))
    bob = await aio(raw_login(server, "bob", resource="desk"))
    bob.send("<message to='alice@localhost' type='chat'><encrypted "
             "xmlns='eu.siacs.conversations.axolotl'><header sid='1'/><payload>AAAA</payload>"
             "</encrypted></message>")
    n = await aio(wait_push(server, account="alice"))
    assert n.fields["last-message-body"] == "New message"
    assert n.fields["last-message-sender"] == "bob@localhost/desk"
    bob.close()
