"""RFC 6121 with real clients: messages, routing by priority, roster, subscriptions, presence."""

from __future__ import annotations

import xml.etree.ElementTree as ET

from tests.helpers import barrier, close, eventually, iq_error, login, raw_login


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


async def test_iq_to_absent_resource_is_service_unavailable(server) -> None:
    alice = await login(server, "alice")
    await login(server, "bob", resource="here")
    iq = alice.make_iq_get(queryxmlns="jabber:iq:version", ito="bob@localhost/absent")
    assert await iq_error(iq) == "service-unavailable"
    await close(alice)


async def test_iq_to_present_full_jid_reaches_that_client(server) -> None:
    alice = await login(server, "alice")
    bob = await login(server, "bob", resource="here")
    bob.register_plugin("xep_0092")
    alice.register_plugin("xep_0092")
    version = await alice["xep_0092"].get_version("bob@localhost/here")
    assert version["software_version"]["name"] == "Slixmpp"
    await close(alice, bob)


async def test_unknown_namespace_iq_to_server_is_service_unavailable(server) -> None:
    alice = await login(server, "alice")
    iq = alice.make_iq_get(queryxmlns="urn:example:nothing", ito="localhost")
    assert await iq_error(iq) == "service-unavailable"
    await close(alice)


async def test_server_ping_version_and_disco(server) -> None:
    alice = await login(server, "alice")
    for plugin in ("xep_0199", "xep_0092", "xep_0030"):
        alice.register_plugin(plugin)
    await alice["xep_0199"].ping("localhost", timeout=5)
    version = await alice["xep_0092"].get_version("localhost")
    assert version["software_version"]["name"] == "minixmpp"
    info = await alice["xep_0030"].get_info(jid="localhost")
    features = info["disco_info"]["features"]
    assert "urn:xmpp:ping" in features and "jabber:iq:version" in features
    assert ("server", "im", None, "minixmpp") in info["disco_info"]["identities"]
    await close(alice)


async def test_spoofed_from_never_reaches_the_recipient(server) -> None:
    bob = await login(server, "bob")
    mallory = await raw_login(server, "carol")
    mallory.send("<message from='alice@localhost/desk' to='bob@localhost' type='chat'>"
                 "<body>I am alice</body></message>")
    text = await mallory.read_to_close()
    assert "<invalid-from xmlns='urn:ietf:params:xml:ns:xmpp-streams'/>" in text
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
    await bob.read_until("<presence")
    carol = await raw_login(server, "carol")
    carol.send("<message to='bob@localhost' type='chat'><body>outer</body>"
               "<x xmlns='urn:example:wrap'><message xmlns='jabber:client'>"
               "<body>inner</body><thread>t1</thread></message></x>"
               "<y xmlns='urn:example:other'><body>not a body</body></y></message>")
    text = await bob.read_until("</y>.*?</message>")
    start = text.index("<message")
    stanza = text[start:text.index("</message>", text.index("</y>", start)) + 10]
    got = ET.fromstring(f"<w xmlns='jabber:client'>{stanza}</w>")[0]
    client = "{jabber:client}"
    assert got.find(f"{client}body").text == "outer"
    inner = got.find("{urn:example:wrap}x/{jabber:client}message")
    assert inner is not None and inner.find(f"{client}body").text == "inner"
    assert inner.find(f"{client}thread").text == "t1"
    assert got.find("{urn:example:other}y/{urn:example:other}body").text == "not a body"
    bob.close()
    carol.close()


async def test_roster_set_get_remove_with_pushes_to_all_resources(server) -> None:
    desk = await login(server, "alice", resource="desk")
    phone = await login(server, "alice", resource="phone")
    pushes: list = []
    phone.add_event_handler("roster_update", pushes.append)
    await desk.update_roster("bob@localhost", name="Bob", groups=["Friends"])
    await eventually(lambda: "bob@localhost" in phone.client_roster)
    assert phone.client_roster["bob@localhost"]["name"] == "Bob"
    assert phone.client_roster["bob@localhost"]["groups"] == ["Friends"]
    # without a ver (RFC 6121 §2.6): the whole roster (slixmpp's get_roster sends its
    # current version and gets an empty result)
    roster = await desk.make_iq_get(queryxmlns="jabber:iq:roster").send()
    items = roster["roster"]["items"]
    assert items["bob@localhost"]["subscription"] == "none"
    await desk.del_roster_item("bob@localhost")
    await eventually(lambda: "bob@localhost" not in phone.client_roster.keys())
    assert pushes, "the other resource got roster pushes"
    await close(desk, phone)


async def test_roster_of_another_account_is_forbidden(server) -> None:
    alice = await login(server, "alice")
    iq = alice.make_iq_get(queryxmlns="jabber:iq:roster", ito="bob@localhost")
    assert await iq_error(iq) == "forbidden"
    await close(alice)


async def test_subscription_handshake_updates_both_rosters_and_shares_presence(server) -> None:
    alice = await login(server, "alice", resource="desk")
    bob = await login(server, "bob", resource="phone")
    requests: list = []
    bob.add_event_handler("presence_subscribe", requests.append)
    bob.auto_authorize = None  # answer by hand
    alice.send_presence(pto="bob@localhost", ptype="subscribe")
    await eventually(lambda: requests)
    assert requests[0]["from"].full == "alice@localhost"
    await eventually(lambda: alice.client_roster["bob@localhost"]["pending_out"])
    bob.send_presence(pto="alice@localhost", ptype="subscribed")
    await eventually(lambda: alice.client_roster["bob@localhost"]["subscription"] == "to")
    await eventually(lambda: bob.client_roster["alice@localhost"]["subscription"] == "from")
    # Alice now sees Bob's presence; Bob's new status reaches her.
    await eventually(lambda: "phone" in alice.client_roster["bob@localhost"].resources)
    bob.send_presence(pshow="away", pstatus="lunch")
    await eventually(lambda: alice.client_roster["bob@localhost"].resources.get(
        "phone", {}).get("show") == "away")
    # Bob subscribes back: both.
    bob.send_presence(pto="alice@localhost", ptype="subscribe")
    await eventually(lambda: alice.client_roster["bob@localhost"]["subscription"] == "both")
    await eventually(lambda: bob.client_roster["alice@localhost"]["subscription"] == "both")
    # Bob goes away entirely: alice gets unavailable.
    await close(bob)
    await eventually(lambda: not alice.client_roster["bob@localhost"].resources)
    assert any(p["type"] == "unavailable" and p["from"].full == "bob@localhost/phone"
               for p in alice.presences)
    await close(alice)


async def test_subscription_request_waits_for_an_offline_contact(server) -> None:
    alice = await login(server, "alice")
    alice.send_presence(pto="bob@localhost", ptype="subscribe")
    await barrier(alice)
    bob = await login(server, "bob", presence=False)
    requests: list = []
    bob.add_event_handler("presence_subscribe", requests.append)
    bob.send_presence()
    await eventually(lambda: requests)
    assert requests[0]["from"].bare == "alice@localhost"
    await close(alice, bob)


async def test_presence_probe_on_login_and_broadcast_to_own_resources(server) -> None:
    bob = await login(server, "bob", resource="phone")
    alice = await login(server, "alice", resource="desk")
    alice.send_presence(pto="bob@localhost", ptype="subscribe")
    await eventually(lambda: bob.client_roster["alice@localhost"]["subscription"]
                         in ("from", "both"))
    await close(alice)
    # Alice logs in again: the server probes Bob for her and she learns his presence.
    alice2 = await login(server, "alice", resource="laptop")
    await eventually(lambda: "phone" in alice2.client_roster["bob@localhost"].resources)
    # Her second resource sees the first one's presence and vice versa.
    alice3 = await login(server, "alice", resource="tablet")
    await eventually(lambda: any(p["from"].full == "alice@localhost/laptop"
                                     for p in alice3.presences))
    await eventually(lambda: any(p["from"].full == "alice@localhost/tablet"
                                     for p in alice2.presences))
    await close(alice2, alice3, bob)


async def test_directed_presence_then_unavailable_on_disconnect(server) -> None:
    alice = await login(server, "alice", resource="desk")
    bob = await login(server, "bob", resource="phone")
    alice.send_presence(pto="bob@localhost/phone", pshow="chat")
    await eventually(lambda: any(p["from"].full == "alice@localhost/desk"
                                     and p["type"] == "chat" for p in bob.presences))
    await close(alice)
    await eventually(lambda: any(p["from"].full == "alice@localhost/desk"
                                     and p["type"] == "unavailable" for p in bob.presences))
    await close(bob)


async def test_no_presence_leaks_without_subscription(server) -> None:
    alice = await login(server, "alice", resource="desk")
    bob = await login(server, "bob", resource="phone")
    bob.send_presence(pshow="dnd")
    await barrier(bob)
    await barrier(alice)
    assert not any(p["from"].bare == "bob@localhost" for p in alice.presences)
    # Positive control: directed presence does reach alice.
    bob.send_presence(pto="alice@localhost/desk", pshow="dnd")
    await eventually(lambda: any(p["from"].bare == "bob@localhost"
                                     for p in alice.presences))
    await close(alice, bob)
