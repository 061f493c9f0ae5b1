"""Presence and subscriptions (RFC 6121 §3-4): the handshake, requests waiting for an
offline contact, probes, directed presence, no leaks, pre-approval (§3.4)."""

from __future__ import annotations

from tests.helpers import barrier, close, eventually, login
from tests.raw import raw_authenticated
from tests.xmlassert import assert_xml


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


async def test_pre_approved_subscription_is_granted_without_asking(server) -> None:
    _, features = await raw_authenticated(server, "alice")
    assert_xml(features, "<stream:features><sub xmlns='urn:xmpp:features:pre-approval'/>"
                         "</stream:features>")
    alice = await login(server, "alice")
    bob = await login(server, "bob")
    try:
        alice.send_presence(pto="bob@localhost", ptype="subscribed")  # before any request
        await barrier(alice)  # her presence was handled
        item = server.storage.rosters.get("alice", "bob@localhost")
        assert item is not None and item.approved and item.subscription == "none"
        bob.send_presence(pto="alice@localhost", ptype="subscribe")
        subscribed = await bob.next("presence_subscribed")
        assert subscribed["from"].bare == "alice@localhost"
        item = server.storage.rosters.get("alice", "bob@localhost")
        assert item.subscription == "from" and not item.approved and not item.pending_in
        # alice was never asked (positive control: she does get presence from bob later)
        assert not [p for p in alice.presences if p["type"] == "subscribe"]
    finally:
        await close(alice, bob)
