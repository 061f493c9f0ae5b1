"""RFC 6121 messages with real clients: delivery, routing by priority, bounces, stamped
'from', namespaces kept."""

from __future__ import annotations

from tests.helpers import barrier, close, login
from tests.raw import raw_login
from tests.xmlassert import assert_xml


async def test_two_clients_exchange_messages(server) -> None:
    alice = await login(server, "alice", resource="desk")
    bob = await login(server, "bob", resource="phone")
    alice.send_message(mto="bob@localhost", mbody="Hi Bob", mtype="chat")
    got = await bob.next_message()
    assert got["body"] == "Hi Bob" and got["from"].full == "alice@localhost/desk"
    bob.send_message(mto=got["from"], mbody="Hi Alice", mtype="chat")
    back = await alice.next_message()
    assert back["body"] == "Hi Alice" and back["from"].full == "bob@localhost/phone"
    await close(alice, bob)


async def test_bare_jid_goes_to_highest_priority_full_jid_to_that_resource(server) -> None:
    high = await login(server, "bob", resource="high", priority=10)
    low = await login(server, "bob", resource="low", priority=1)
    negative = await login(server, "bob", resource="neg", priority=-1)
    alice = await login(server, "alice")
    alice.send_message(mto="bob@localhost", mbody="to bare", mtype="chat")
    assert (await high.next_message())["body"] == "to bare"
    alice.send_message(mto="bob@localhost/low", mbody="to low", mtype="chat")
    assert (await low.next_message())["body"] == "to low"
    alice.send_message(mto="bob@localhost/neg", mbody="to neg", mtype="chat")
    assert (await negative.next_message())["body"] == "to neg"
    for c in (alice, high, low, negative):
        await barrier(c)
    assert high.messages == [] and low.messages == [] and negative.messages == []
    # An equal top priority: every one of them gets it (RFC 6121 §8.5.2.1.1).
    low.send_presence(ppriority=10)
    await barrier(low)
    alice.send_message(mto="bob@localhost", mbody="tie", mtype="chat")
    assert (await high.next_message())["body"] == "tie"
    assert (await low.next_message())["body"] == "tie"
    await close(high, low, negative, alice)


async def test_message_to_gone_resource_falls_back_to_bare_jid(server) -> None:
    bob = await login(server, "bob", resource="phone")
    alice = await login(server, "alice")
    alice.send_message(mto="bob@localhost/laptop", mbody="where are you", mtype="chat")
    got = await bob.next_message()
    assert got["body"] == "where are you" and got["to"].full == "bob@localhost/laptop"
    await close(bob, alice)


async def test_message_to_unknown_account_bounces_service_unavailable(server) -> None:
    alice = await login(server, "alice")
    alice.send_message(mto="nobody@localhost", mbody="hello?", mtype="chat")
    err = await alice.next_message()
    assert err["type"] == "error" and err["error"]["condition"] == "service-unavailable"
    assert err["from"].full == "nobody@localhost"
    await close(alice)


async def test_message_to_remote_domain_bounces_remote_server_not_found(server) -> None:
    alice = await login(server, "alice")
    alice.send_message(mto="someone@example.org", mbody="hello?", mtype="chat")
    err = await alice.next_message()
    assert err["type"] == "error" and err["error"]["condition"] == "remote-server-not-found"
    await close(alice)


async def test_spoofed_from_never_reaches_the_recipient(server) -> None:
    bob = await login(server, "bob")
    mallory = await raw_login(server, "carol")
    mallory.send("<message from='alice@localhost/desk' to='bob@localhost' type='chat'>"
                 "<body>I am alice</body></message>")
    await mallory.stream_error("invalid-from")
    await barrier(bob)
    assert bob.messages == []
    # Without a from, the server stamps the real one.
    carol = await raw_login(server, "carol", resource="honest")
    carol.send("<message to='bob@localhost' type='chat'><body>it's carol</body></message>")
    got = await bob.next_message()
    assert got["from"].full == "carol@localhost/honest"
    await close(bob)


async def test_nested_namespaces_survive_delivery(server) -> None:
    """The server makes a stanza namespace-neutral only down to the first element of
    another namespace: a jabber:client stanza nested under one keeps its namespace."""
    bob = await raw_login(server, "bob")
    bob.send("<presence/>")
    await bob.next("<presence/>")
    carol = await raw_login(server, "carol")
    carol.send("<message to='bob@localhost' type='chat'><body>outer</body>"
               "<x xmlns='urn:example:wrap'><message xmlns='jabber:client'>"
               "<body>inner</body><thread>t1</thread></message></x>"
               "<y xmlns='urn:example:other'><body>not a body</body></y></message>")
    got = await bob.next("<message from='carol@localhost/raw'/>")
    assert_xml(got, """
        <message type='chat'>
          <body>outer</body>
          <x xmlns='urn:example:wrap'>
            <message xmlns='jabber:client'><body>inner</body><thread>t1</thread></message>
          </x>
          <y xmlns='urn:example:other'><body>not a body</body></y>
        </message>""")
    assert got.x.message.uri == "jabber:client"  # not urn:example:wrap, as a neutral one
    bob.close()
    carol.close()


