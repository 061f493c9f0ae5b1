"""The pubsub family's stores (affiliations, subscriptions, the service's nodes and items),
run against every backend (memory and SQLite), as the shared storage suite does."""

from __future__ import annotations

import pytest

from minixmpp.storage import open_storage
from minixmpp.storage.interfaces import NodeSubscription, PepItem, PepNode
from minixmpp.storage.schema import VERSION, connect

ALICE = "alice@localhost"


@pytest.fixture(params=["memory", "sqlite"])
def storage(request, tmp_path):
    s = open_storage(None if request.param == "memory" else str(tmp_path))
    yield s
    s.close()


def test_affiliations_by_node_and_by_entity(storage) -> None:
    a = storage.pubsub_subscriptions
    a.set_affiliation("pubsub.localhost", "n1", ALICE, "owner")
    a.set_affiliation("pubsub.localhost", "n1", "bob@localhost", "member")
    a.set_affiliation("pubsub.localhost", "n2", "bob@localhost", "outcast")
    assert a.affiliations("pubsub.localhost", "n1") == {ALICE: "owner",
                                                         "bob@localhost": "member"}
    assert a.affiliated("pubsub.localhost", "bob@localhost") == {"n1": "member",
                                                                  "n2": "outcast"}
    a.set_affiliation("pubsub.localhost", "n1", "bob@localhost", "publisher")
    assert a.affiliations("pubsub.localhost", "n1")["bob@localhost"] == "publisher"
    a.set_affiliation("pubsub.localhost", "n1", "bob@localhost", "none")
    a.set_affiliation("pubsub.localhost", "n2", "bob@localhost", None)
    assert a.affiliations("pubsub.localhost", "n1") == {ALICE: "owner"}
    assert a.affiliated("pubsub.localhost", "bob@localhost") == {}
    # PEP's are apart from the service's, and services from each other.
    storage.pep_subscriptions.set_affiliation(ALICE, "n1", "bob@localhost", "member")
    assert a.affiliated("pubsub.localhost", "bob@localhost") == {}
    assert storage.pep_subscriptions.affiliations("carol@localhost", "n1") == {}


def test_subscriptions_keep_their_order_options_and_state(storage) -> None:
    s = storage.pep_subscriptions
    s.subscribe(ALICE, "devices", NodeSubscription("bob@localhost"))
    s.subscribe(ALICE, "devices", NodeSubscription("carol@localhost/phone", "pending"))
    s.subscribe(ALICE, "devices", NodeSubscription("bob@localhost",
                                                   options={"pubsub#deliver": "false"}))
    assert s.subscriptions(ALICE, "devices") == [
        NodeSubscription("bob@localhost", "subscribed", {"pubsub#deliver": "false"}),
        NodeSubscription("carol@localhost/phone", "pending")]
    got = s.subscription(ALICE, "devices", "bob@localhost")
    got.options["pubsub#deliver"] = "true"  # a copy
    assert s.subscription(ALICE, "devices", "bob@localhost").options == {
        "pubsub#deliver": "false"}
    assert s.subscription(ALICE, "devices", "carol@localhost") is None  # as subscribed
    s.subscribe(ALICE, "other", NodeSubscription("carol@localhost"))
    assert [(n, x.jid) for n, x in s.subscribed(ALICE, "carol@localhost")] == [
        ("devices", "carol@localhost/phone"), ("other", "carol@localhost")]
    assert s.unsubscribe(ALICE, "devices", "carol@localhost/phone")
    assert not s.unsubscribe(ALICE, "devices", "carol@localhost/phone")
    assert [x.jid for x in s.subscriptions(ALICE, "devices")] == ["bob@localhost"]
    assert storage.pubsub_subscriptions.subscriptions(ALICE, "devices") == []


def test_dropping_a_node_a_service_and_an_entity(storage) -> None:
    s = storage.pep_subscriptions
    for service in (ALICE, "bob@localhost"):
        for node in ("n1", "n2"):
            s.subscribe(service, node, NodeSubscription("carol@localhost/x"))
            s.subscribe(service, node, NodeSubscription("dave@localhost"))
            s.set_affiliation(service, node, "carol@localhost", "member")
            s.set_affiliation(service, node, "dave@localhost", "member")
    s.drop_node(ALICE, "n1")
    assert s.subscriptions(ALICE, "n1") == [] and s.affiliations(ALICE, "n1") == {}
    assert len(s.subscriptions(ALICE, "n2")) == 2
    s.drop_service(ALICE)
    assert s.subscribed(ALICE, "dave@localhost") == [] and s.affiliated(ALICE, "dave@localhost"
                                                                        ) == {}
    s.forget("carol@localhost")  # at every service: her full-JID subscriptions too
    assert [x.jid for x in s.subscriptions("bob@localhost", "n1")] == ["dave@localhost"]
    assert s.affiliations("bob@localhost", "n2") == {"dave@localhost": "member"}


def test_the_services_nodes_and_items_are_apart_from_pep(storage) -> None:
    p = storage.pubsub
    p.put_node("pubsub.localhost", PepNode("news", {"pubsub#max_items": "max"}))
    p.publish("pubsub.localhost", "news", PepItem("1", "<x/>", ALICE, 1.0), keep=5)
    assert storage.pep.nodes("pubsub.localhost") == []
    assert p.items("pubsub.localhost", "news") == [PepItem("1", "<x/>", ALICE, 1.0)]
    assert p.delete_node("pubsub.localhost", "news") and p.nodes("pubsub.localhost") == []


def test_sqlite_keeps_them_across_a_restart_and_upgrades_an_older_file(tmp_path) -> None:
    s = open_storage(str(tmp_path))
    s.pubsub.put_node("pubsub.localhost", PepNode("news"))
    s.pubsub_subscriptions.subscribe("pubsub.localhost", "news", NodeSubscription(ALICE))
    s.pep_subscriptions.set_affiliation(ALICE, "n", "bob@localhost", "member")
    s.close()
    again = open_storage(str(tmp_path))
    assert [n.name for n in again.pubsub.nodes("pubsub.localhost")] == ["news"]
    assert again.pubsub_subscriptions.subscriptions("pubsub.localhost", "news") == [
        NodeSubscription(ALICE)]
    assert again.pep_subscriptions.affiliations(ALICE, "n") == {"bob@localhost": "member"}
    # A file of the version before: the migration adds the tables, PEP data stays.
    again.pep.put_node("alice", PepNode("kept"))
    for table in ("pubsub_nodes", "pubsub_items", "node_affiliations",
                  "node_subscriptions"):
        again.db.execute(f"DROP TABLE {table}")
    again.db.execute(f"PRAGMA user_version = {VERSION - 1}")
    again.close()
    db = connect(tmp_path)
    assert db.execute("PRAGMA user_version").fetchone()[0] == VERSION
    assert db.execute("SELECT COUNT(*) FROM node_subscriptions").fetchone()[0] == 0
    assert db.execute("SELECT node FROM pep_nodes").fetchall() == [("kept",)]
    db.close()
