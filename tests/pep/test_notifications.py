"""PEP notifications: to interested resources the access model allows, the last item on
presence and subscription, retract/purge/delete, and never a push."""

from __future__ import annotations

from tests.helpers import barrier, close, enable_push, wait_push
from tests.pep.helpers import NS, TUNE, friends, notified, options, payload, pep_client


def published(c) -> list[tuple[str, str]]:
    """(node, item id) of the item notifications ``c`` received."""
    return [(m["pubsub_event"]["items"]["node"], m["pubsub_event"]["items"]["item"]["id"])
            for e, m in c.events if e == "pubsub_publish"]


async def test_notifications_go_to_interested_resources_allowed_by_the_access_model(
        server) -> None:
    friends(server, "alice", "bob")
    friends(server, "alice", "carol")
    alice = await pep_client(server, "alice", "desk", interests=(TUNE,))
    alice2 = await pep_client(server, "alice", "phone")  # no +notify
    bob = await pep_client(server, "bob", interests=(TUNE,))
    bob_other = await pep_client(server, "bob", "other")  # no +notify
    carol = await pep_client(server, "carol", interests=(TUNE,))
    # carol's subscription is gone: presence access model refuses her.
    from minixmpp.storage.interfaces import RosterItem

    server.storage.rosters.put("alice", RosterItem("carol@localhost", subscription="to"))
    await alice["xep_0060"].publish(None, TUNE, id="song1",
                                        payload=payload(TUNE, "tune"))
    got = await notified(bob, "pubsub_publish")
    assert got["from"].full == "alice@localhost" and got["type"] == "headline"
    assert got["pubsub_event"]["items"]["item"]["payload"].tag == f"{{{TUNE}}}tune"
    await notified(alice)
    assert published(alice) == [(TUNE, "song1")]  # the owner's interested resource too
    for c in (alice2, bob_other, carol):
        await barrier(c)
        assert published(c) == []
    await close(alice, alice2, bob, bob_other, carol)


async def test_open_node_notifies_contacts_without_presence_subscription_of_theirs(
        server) -> None:
    friends(server, "alice", "carol")
    from minixmpp.storage.interfaces import RosterItem

    alice = await pep_client(server, "alice")
    carol = await pep_client(server, "carol", interests=(TUNE,))
    server.storage.rosters.put("alice", RosterItem("carol@localhost", subscription="to"))
    await alice["xep_0060"].publish(None, TUNE, id="p", payload=payload(TUNE, "tune"))
    await barrier(carol)
    assert published(carol) == []
    cfg = options({"pubsub#access_model": "open"},
                  "http://jabber.org/protocol/pubsub#node_config")
    await alice["xep_0060"].set_node_config(None, TUNE, cfg)
    await alice["xep_0060"].publish(None, TUNE, id="r", payload=payload(TUNE, "tune"))
    await notified(carol, "pubsub_publish")
    assert published(carol) == [(TUNE, "r")]
    await close(alice, carol)


async def test_retract_purge_and_delete_are_notified(server) -> None:
    friends(server, "alice", "bob")
    alice = await pep_client(server, "alice")
    bob = await pep_client(server, "bob", interests=(NS,))
    ps = alice["xep_0060"]
    await ps.publish(None, NS, id="x", payload=payload(NS))
    await ps.retract(None, NS, "x")
    retracted = await notified(bob, "pubsub_retract")
    assert retracted["pubsub_event"]["items"]["retract"]["id"] == "x"
    await ps.purge(None, NS)
    await notified(bob, "pubsub_purge")
    await ps.delete_node(None, NS)
    await notified(bob, "pubsub_delete")
    await close(alice, bob)


async def test_last_item_on_initial_presence_and_on_subscription_approval(server) -> None:
    friends(server, "alice", "bob")
    alice = await pep_client(server, "alice")
    ps = alice["xep_0060"]
    await ps.publish(None, TUNE, id="last", payload=payload(TUNE, "tune"))
    await ps.publish(None, NS, id="quiet", payload=payload(NS), options=options(
        {"pubsub#send_last_published_item": "never"}))
    bob = await pep_client(server, "bob", interests=(TUNE, NS))
    await notified(bob)
    await barrier(bob)
    assert published(bob) == [(TUNE, "last")]
    # The owner's own new resource gets it too.
    alice2 = await pep_client(server, "alice", "two", interests=(TUNE,))
    await notified(alice2)
    assert published(alice2) == [(TUNE, "last")]
    # carol is online with +notify and asks alice for a subscription; alice approves.
    from minixmpp.storage.interfaces import RosterItem

    server.storage.rosters.put("carol", RosterItem("alice@localhost", subscription="from"))
    server.storage.rosters.put("alice", RosterItem("carol@localhost", subscription="to"))
    carol = await pep_client(server, "carol", interests=(TUNE,))
    await barrier(carol)
    assert published(carol) == []
    carol.send_presence(pto="alice@localhost", ptype="subscribe")
    await alice.next("presence_subscribe")
    alice.send_presence(pto="carol@localhost", ptype="subscribed")
    await notified(carol, "pubsub_publish")
    assert published(carol) == [(TUNE, "last")]
    await close(alice, alice2, bob, carol)


async def test_pep_notifications_never_push(server) -> None:
    friends(server, "alice", "bob")
    alice = await pep_client(server, "alice", "phone", interests=(TUNE,), show="away")
    await enable_push(alice, "phone-node", away=True)
    bob = await pep_client(server, "bob")
    await bob["xep_0060"].publish(None, TUNE, id="t1", payload=payload(TUNE, "tune"))
    await notified(alice)
    await barrier(alice)
    assert server.appserver.find(account="alice") == []
    # Positive control: a chat message in the same state pushes.
    bob.send_message(mto="alice@localhost", mbody="ping", mtype="chat")
    await wait_push(server, account="alice")
    assert len(server.appserver.find(account="alice")) == 1
    await close(alice, bob)


async def test_nickname_through_plain_pep(server) -> None:
    friends(server, "alice", "bob")
    alice = await pep_client(server, "alice", plugins=("xep_0172",))
    bob = await pep_client(server, "bob", plugins=("xep_0172",),
                               interests=("http://jabber.org/protocol/nick",))
    await alice["xep_0172"].publish_nick("Ali")
    event = await notified(bob)
    assert event["pubsub_event"]["items"]["item"]["nick"]["nick"] == "Ali"
    await close(alice, bob)
