"""Explicit subscriptions and affiliations on PEP nodes (XEP-0163 §4, XEP-0060 §5.6, §5.7,
§6.1–§6.3, §8.8, §8.9), with slixmpp's xep_0060 as the independent client."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET

import pytest

from tests.helpers import barrier, close, eventually
from tests.pep.helpers import (
    friends,
    ids,
    notified,
    options,
    payload,
    pep_client,
    pubsub_error,
)
from tests.rawtext import raw_login

DEVICES = "urn:xmpp:omemo:2:devices"
OMEMO = "urn:xmpp:omemo:2"
NS = "urn:example:pep"
ALICE = "alice@localhost"
OPEN = {"pubsub#access_model": "open"}
WHITELIST = {"pubsub#access_model": "whitelist"}


def devices(*ids_: int) -> ET.Element:
    e = ET.Element(f"{{{OMEMO}}}devices")
    for i in ids_:
        ET.SubElement(e, f"{{{OMEMO}}}device", id=str(i))
    return e


def watch(c) -> list[str]:
    """The states of the subscription changes ``c`` is told of from now on (§8.8.4)."""
    states: list[str] = []
    c.add_event_handler("pubsub_subscription", lambda m: states.append(
        m["pubsub_event"]["subscription"]["subscription"]))
    return states


def published(c) -> list[list[str]]:
    """The device ids of each device-list notification ``c`` got, in order."""
    return [[d.get("id") for d in m["pubsub_event"]["items"]["item"]["payload"]]
            for e, m in c.events if e == "pubsub_publish"
            and m["pubsub_event"]["items"]["node"] == DEVICES]


async def test_a_stranger_subscribes_to_omemo_devices_and_hears_of_every_change(server
                                                                                ) -> None:
    alice = await pep_client(server, "alice")
    await alice["xep_0060"].publish(None, DEVICES, id="current", payload=devices(1),
                                    options=options(OPEN))
    carol = await pep_client(server, "carol")  # no roster item, no +notify
    result = await carol["xep_0060"].subscribe(ALICE, DEVICES)
    assert result["pubsub"]["subscription"]["subscription"] == "subscribed"
    assert result["pubsub"]["subscription"]["jid"] == "carol@localhost"
    await notified(carol)  # XEP-0163 §4.3.2: the last item on subscription
    await alice["xep_0060"].publish(None, DEVICES, id="current", payload=devices(1, 2),
                                    options=options(OPEN))
    await notified(carol, count=2)
    assert published(carol) == [["1"], ["1", "2"]]
    event = [m for e, m in carol.events if e == "pubsub_publish"][-1]
    assert event["from"] == ALICE and event["type"] == "headline"
    assert event.xml.find("{urn:xmpp:delay}delay") is None
    subs = await carol["xep_0060"].get_subscriptions(ALICE)
    assert [(s["node"], s["jid"]) for s in subs["pubsub"]["subscriptions"]] == [
        (DEVICES, "carol@localhost")]
    # Unsubscribed: nothing more.
    await carol["xep_0060"].unsubscribe(ALICE, DEVICES)
    await alice["xep_0060"].publish(None, DEVICES, id="current", payload=devices(3),
                                    options=options(OPEN))
    await barrier(alice)
    await barrier(carol)
    assert published(carol) == [["1"], ["1", "2"]]
    assert await pubsub_error(carol["xep_0060"].unsubscribe(ALICE, DEVICES)) == (
        "unexpected-request", "not-subscribed")
    await close(alice, carol)


async def test_a_subscribed_contact_with_notify_hears_each_change_once(server) -> None:
    friends(server, "alice", "bob")
    alice = await pep_client(server, "alice")
    await alice["xep_0060"].publish(None, DEVICES, id="current", payload=devices(1),
                                    options=options(OPEN))
    bob = await pep_client(server, "bob", interests=(DEVICES,))
    await notified(bob)  # on presence, through +notify
    await bob["xep_0060"].subscribe(ALICE, DEVICES)  # and explicitly, with a bare JID
    await alice["xep_0060"].publish(None, DEVICES, id="current", payload=devices(1, 2),
                                    options=options(OPEN))
    await notified(bob, count=2)
    await barrier(alice)
    await barrier(bob)
    assert published(bob)[-1] == ["1", "2"] and len(published(bob)) <= 3
    assert published(bob).count(["1", "2"]) == 1  # XEP-0163 §4.3.1: one per resource
    await close(alice, bob)


async def test_a_whitelist_node_is_read_by_members_only(server) -> None:
    alice = await pep_client(server, "alice")
    bob = await pep_client(server, "bob")
    carol = await pep_client(server, "carol")
    ps = alice["xep_0060"]
    await ps.publish(None, NS, id="secret", payload=payload(NS), options=options(WHITELIST))
    refused = ("not-allowed", "closed-node")
    assert await pubsub_error(bob["xep_0060"].get_items(ALICE, NS)) == refused
    await ps.modify_affiliations(None, NS, [("bob@localhost", "member")])
    assert ids(await bob["xep_0060"].get_items(ALICE, NS)) == ["secret"]
    assert await pubsub_error(carol["xep_0060"].get_items(ALICE, NS)) == refused
    affs = await ps.get_node_affiliations(None, NS)
    assert {(a["jid"], a["affiliation"]) for a in affs["pubsub_owner"]["affiliations"]} == {
        (ALICE, "owner"), ("bob@localhost", "member")}
    own = await bob["xep_0060"].get_affiliations(ALICE)
    assert [(a["node"], a["affiliation"]) for a in own["pubsub"]["affiliations"]] == [
        (NS, "member")]
    # disco#items lists the node to the member, not to the others
    listed = await bob["xep_0030"].get_items(jid=ALICE)
    assert [i[1] for i in listed["disco_items"]["items"]] == [NS]
    assert not (await carol["xep_0030"].get_items(jid=ALICE))["disco_items"]["items"]
    await ps.modify_affiliations(None, NS, [("bob@localhost", "none")])
    assert await pubsub_error(bob["xep_0060"].get_items(ALICE, NS)) == refused
    await close(alice, bob, carol)


async def test_subscribing_to_a_whitelist_node_takes_membership(server) -> None:
    alice = await pep_client(server, "alice")
    bob = await pep_client(server, "bob")
    carol = await pep_client(server, "carol")
    ps = alice["xep_0060"]
    await ps.publish(None, NS, id="1", payload=payload(NS), options=options(WHITELIST))
    assert await pubsub_error(carol["xep_0060"].subscribe(ALICE, NS)) == (
        "not-allowed", "closed-node")  # XEP-0060 §6.1.3.4
    await ps.modify_affiliations(None, NS, [("bob@localhost", "member")])
    await bob["xep_0060"].subscribe(ALICE, NS)
    subs = await ps.get_node_subscriptions(None, NS)
    assert [(s["jid"], s["subscription"]) for s in subs["pubsub_owner"]["subscriptions"]
            ] == [("bob@localhost", "subscribed")]
    # Made an outcast: the subscription is cancelled (and bob told), reading is forbidden.
    told = watch(bob)
    await ps.modify_affiliations(None, NS, [("bob@localhost", "outcast")])
    await eventually(lambda: told == ["none"])
    subs = await ps.get_node_subscriptions(None, NS)
    assert list(subs["pubsub_owner"]["subscriptions"]) == []
    assert (await pubsub_error(bob["xep_0060"].get_items(ALICE, NS)))[0] == "forbidden"
    assert (await pubsub_error(bob["xep_0060"].subscribe(ALICE, NS)))[0] == "forbidden"
    await close(alice, bob, carol)


async def test_only_the_owner_retracts_even_a_member_is_refused(server) -> None:
    alice = await pep_client(server, "alice")
    bob = await pep_client(server, "bob")
    ps = alice["xep_0060"]
    await ps.publish(None, NS, id="keep", payload=payload(NS), options=options(OPEN))
    await ps.modify_affiliations(None, NS, [("bob@localhost", "member")])
    assert (await pubsub_error(bob["xep_0060"].retract(ALICE, NS, "keep")))[0] == "forbidden"
    assert ids(await ps.get_items(None, NS)) == ["keep"]
    # XEP-0163 §3.2: one publisher per node, so no publisher affiliation
    assert await pubsub_error(ps.modify_affiliations(None, NS, [("bob@localhost",
                                                                   "publisher")])) == (
        "feature-not-implemented", "unsupported")
    assert (await pubsub_error(ps.modify_affiliations(None, NS, [(ALICE, "member")])))[
        0] == "not-acceptable"
    assert (await pubsub_error(bob["xep_0060"].get_node_affiliations(ALICE, NS)))[
        0] == "forbidden"
    await close(alice, bob)


async def test_presence_and_roster_nodes_take_a_presence_subscription(server) -> None:
    friends(server, "alice", "bob")
    alice = await pep_client(server, "alice")
    await alice["xep_0060"].publish(None, NS, id="1", payload=payload(NS))  # presence
    bob = await pep_client(server, "bob")
    carol = await pep_client(server, "carol")
    await bob["xep_0060"].subscribe(ALICE, NS)
    assert await pubsub_error(carol["xep_0060"].subscribe(ALICE, NS)) == (
        "not-authorized", "presence-subscription-required")
    assert await pubsub_error(carol["xep_0060"].subscribe(ALICE, "urn:example:none")) == (
        "item-not-found", None)
    assert await pubsub_error(carol["xep_0060"].subscribe(
        ALICE, NS, subscribee="bob@localhost")) == ("bad-request", "invalid-jid")
    # The roster changes: bob's subscription is cancelled at the next publish.
    server.storage.rosters.remove("alice", "bob@localhost")
    await alice["xep_0060"].publish(None, NS, id="2", payload=payload(NS))
    await barrier(alice)
    assert server.storage.pep_subscriptions.subscriptions(ALICE, NS) == []
    await close(alice, bob, carol)


async def test_subscription_options_stop_and_restart_delivery(server) -> None:
    alice = await pep_client(server, "alice")
    await alice["xep_0060"].publish(None, NS, id="1", payload=payload(NS),
                                    options=options({**OPEN, "pubsub#send_last_published_item":
                                                     "never"}))
    carol = await pep_client(server, "carol")
    off = options({"pubsub#deliver": "false"},
                  "http://jabber.org/protocol/pubsub#subscribe_options")
    result = await carol["xep_0060"].subscribe(ALICE, NS, options=off)
    assert result["pubsub"]["options"]["options"].get_values()["pubsub#deliver"] is False
    got = await carol["xep_0060"].get_subscription_options(ALICE, NS, "carol@localhost")
    assert got["pubsub"]["options"]["options"].get_values()["pubsub#deliver"] is False
    await alice["xep_0060"].publish(None, NS, id="2", payload=payload(NS))
    await barrier(alice)
    await barrier(carol)
    assert not [e for e, _ in carol.events if e == "pubsub_publish"]
    iq = carol.make_iq_set(ito=ALICE)  # (slixmpp's set_subscription_options sends a get)
    iq["pubsub"]["options"]["node"] = NS
    iq["pubsub"]["options"]["jid"] = "carol@localhost"
    iq["pubsub"]["options"].append(options(
        {"pubsub#deliver": "true"}, "http://jabber.org/protocol/pubsub#subscribe_options"))
    await iq.send(timeout=5)
    await alice["xep_0060"].publish(None, NS, id="3", payload=payload(NS))
    event = await notified(carol)
    assert event["pubsub_event"]["items"]["item"]["id"] == "3"
    bad = options({"pubsub#digest": "true"},
                  "http://jabber.org/protocol/pubsub#subscribe_options")
    assert await pubsub_error(carol["xep_0060"].subscribe(ALICE, NS, options=bad)) == (
        "bad-request", "invalid-options")
    await close(alice, carol)


@pytest.mark.server_options(pep_max_subscriptions=1)
async def test_subscriptions_per_node_are_bounded(server) -> None:
    alice = await pep_client(server, "alice")
    await alice["xep_0060"].publish(None, NS, id="1", payload=payload(NS),
                                    options=options(OPEN))
    bob = await pep_client(server, "bob")
    await bob["xep_0060"].subscribe(ALICE, NS)
    await bob["xep_0060"].subscribe(ALICE, NS)  # the same subscription again: no more
    carol = await raw_login(server, "carol")  # slixmpp does not know policy-violation
    carol.send(f"<iq type='set' id='s1' to='{ALICE}'><pubsub xmlns="
               f"'http://jabber.org/protocol/pubsub'><subscribe node='{NS}' "
               "jid='carol@localhost'/></pubsub></iq>")
    text = await carol.read_until("id=[\"']s1[\"'].*</iq>")
    assert re.search("<error type='wait'[^>]*><policy-violation", text), text
    assert "<too-many-subscriptions xmlns='http://jabber.org/protocol/pubsub#errors'/>" in text
    carol.close()
    await close(alice, bob)


async def test_the_owner_manages_subscriptions_and_deleting_the_node_tells_them(server
                                                                               ) -> None:
    alice = await pep_client(server, "alice")
    carol = await pep_client(server, "carol", resource="phone")
    ps = alice["xep_0060"]
    await ps.publish(None, NS, id="1", payload=payload(NS), options=options(OPEN))
    told = watch(carol)
    await ps.modify_subscriptions(None, NS, [("carol@localhost/phone", "subscribed")])
    await eventually(lambda: told == ["subscribed"])
    await ps.delete_node(None, NS)
    await notified(carol, "pubsub_delete")
    assert server.storage.pep_subscriptions.subscriptions(ALICE, NS) == []
    await close(alice, carol)


async def test_account_deletion_forgets_subscribers_and_subscriptions(server) -> None:
    alice = await pep_client(server, "alice")
    bob = await pep_client(server, "bob")
    await alice["xep_0060"].publish(None, NS, id="1", payload=payload(NS),
                                    options=options(OPEN))
    await bob["xep_0060"].publish(None, NS, id="1", payload=payload(NS),
                                  options=options(OPEN))
    await bob["xep_0060"].subscribe(ALICE, NS)
    await alice["xep_0060"].subscribe("bob@localhost", NS)
    await alice["xep_0060"].modify_affiliations(None, NS, [("bob@localhost", "member")])
    store = server.storage.pep_subscriptions
    assert store.subscriptions(ALICE, NS) and store.subscriptions("bob@localhost", NS)
    await close(alice, bob)
    server.admin.delete_account("alice")
    assert store.subscriptions(ALICE, NS) == [] and store.affiliations(ALICE, NS) == {}
    assert store.subscriptions("bob@localhost", NS) == []  # hers at bob's node too
