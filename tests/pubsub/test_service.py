"""The publish-subscribe service at pubsub.DOMAIN (XEP-0060) end to end, with slixmpp's
xep_0060 as the independent client (raw XML where slixmpp cannot say it)."""

from __future__ import annotations

import asyncio
import re

import pytest
from slixmpp.plugins.xep_0059.stanza import Set
from slixmpp.plugins.xep_0060.stanza import Pubsub
from slixmpp.xmlstream import register_stanza_plugin

from tests.helpers import barrier, close, eventually, future, login
from tests.pep.helpers import ids, notified, options, payload, pep_client, pubsub_error
from tests.rawtext import raw_login

register_stanza_plugin(Pubsub, Set)  # XEP-0059 inside <pubsub/> (XEP-0060 §6.5.4)

PUBSUB = "pubsub.localhost"
NS = "urn:example:news"
CONFIG = "http://jabber.org/protocol/pubsub#node_config"


def config(**values: str) -> object:
    return options({f"pubsub#{k}": v for k, v in values.items()}, CONFIG)


def watch(c) -> list[str]:
    """The subscription states ``c`` is told of from now on (XEP-0060 §8.8.4)."""
    states: list[str] = []
    c.add_event_handler("pubsub_subscription", lambda m: states.append(
        m["pubsub_event"]["subscription"]["subscription"]))
    return states


async def test_the_service_is_listed_and_says_what_it_implements(server) -> None:
    alice = await pep_client(server, "alice")
    items = await alice["xep_0030"].get_items(jid="localhost")
    assert (PUBSUB, None, "Publish-subscribe") in items["disco_items"]["items"]
    info = (await alice["xep_0030"].get_info(jid=PUBSUB))["disco_info"]
    assert ("pubsub", "service") in {(i[0], i[1]) for i in info["identities"]}
    for feature in ("", "#create-nodes", "#instant-nodes", "#subscribe", "#rsm",
                    "#config-node-max", "#modify-affiliations", "#outcast-affiliation",
                    "#publish-options", "#access-whitelist", "#access-authorize"):
        assert f"http://jabber.org/protocol/pubsub{feature}" in info["features"], feature
    assert "http://jabber.org/protocol/pubsub#auto-create" not in info["features"]
    await close(alice)


async def test_a_node_from_creation_to_deletion(server) -> None:
    alice = await pep_client(server, "alice")
    bob = await pep_client(server, "bob")
    ps = alice["xep_0060"]
    await ps.create_node(PUBSUB, NS, config=config(max_items="max", title="News"))
    assert (await pubsub_error(ps.create_node(PUBSUB, NS)))[0] == "conflict"
    listed = await bob["xep_0030"].get_items(jid=PUBSUB)
    assert [i[1] for i in listed["disco_items"]["items"]] == [NS]
    info = (await bob["xep_0030"].get_info(jid=PUBSUB, node=NS))["disco_info"]
    assert ("pubsub", "leaf", None, None) in info["identities"]
    meta = info["form"].get_values()
    assert meta["pubsub#title"] == "News" and meta["pubsub#owner"] == ["alice@localhost"]
    # bob subscribes (open: anyone), and hears of publishes without +notify
    result = await bob["xep_0060"].subscribe(PUBSUB, NS)
    assert result["pubsub"]["subscription"]["subscription"] == "subscribed"
    await ps.publish(PUBSUB, NS, id="first", payload=payload(NS, text="hello"))
    event = await notified(bob)
    assert event["from"] == PUBSUB and event["type"] == "headline"
    assert event["pubsub_event"]["items"]["item"]["id"] == "first"
    assert event.xml.find("{urn:xmpp:delay}delay") is None
    assert ids(await bob["xep_0060"].get_items(PUBSUB, NS)) == ["first"]
    assert ids(await bob["xep_0060"].get_items(PUBSUB, NS, item_ids=["none"])) == []
    disco = await bob["xep_0030"].get_items(jid=PUBSUB, node=NS)
    assert [i[2] for i in disco["disco_items"]["items"]] == ["first"]  # §5.5
    await ps.publish(PUBSUB, NS, id="second", payload=payload(NS))
    await ps.retract(PUBSUB, NS, "first", notify=True)
    retracted = await notified(bob, "pubsub_retract")
    assert retracted["pubsub_event"]["items"]["retract"]["id"] == "first"
    await ps.purge(PUBSUB, NS)
    await notified(bob, "pubsub_purge")
    assert ids(await bob["xep_0060"].get_items(PUBSUB, NS)) == []
    # configuration (§8.2), then deletion (§8.4) tells the subscribers
    got = await ps.get_node_config(PUBSUB, NS)
    values = got["pubsub_owner"]["configure"]["form"].get_values()
    assert values["pubsub#max_items"] == "max" and values["pubsub#access_model"] == "open"
    await ps.set_node_config(PUBSUB, NS, config(title="Old news"))
    assert (await pubsub_error(bob["xep_0060"].set_node_config(
        PUBSUB, NS, config(title="mine")))) == ("forbidden", None)
    await bob["xep_0060"].unsubscribe(PUBSUB, NS)
    await bob["xep_0060"].subscribe(PUBSUB, NS)
    await ps.delete_node(PUBSUB, NS)
    await notified(bob, "pubsub_delete")
    assert (await pubsub_error(bob["xep_0060"].get_items(PUBSUB, NS)))[0] == "item-not-found"
    assert server.storage.pubsub_subscriptions.subscriptions(PUBSUB, NS) == []
    await close(alice, bob)


async def test_instant_nodes_defaults_and_who_creates(server_factory) -> None:
    server = server_factory(domains=("localhost", "b.test"),
                            user=("alice:alice", "bob@b.test:bob"))
    alice = await pep_client(server, "alice")
    result = await alice["xep_0060"].create_node(PUBSUB, None)  # §8.1.2
    instant = result["pubsub"]["create"]["node"]
    assert instant and instant in [n.name for n in server.storage.pubsub.nodes(PUBSUB)]
    default = await alice["xep_0060"].get_node_config(PUBSUB)
    values = default["pubsub_owner"]["default"]["form"].get_values()
    assert values["pubsub#access_model"] == "open" and values["pubsub#publish_model"] == \
        "publishers"
    assert await pubsub_error(alice["xep_0060"].create_node(
        PUBSUB, "tree", config=config(node_type="collection"))) == (
        "feature-not-implemented", "unsupported")
    assert await pubsub_error(alice["xep_0060"].publish(PUBSUB, "nowhere", payload=payload(
        NS))) == ("item-not-found", None)  # no auto-create

    class OtherDomain:  # what login() reads of the server, for an account of b.test
        port, tls, settings = server.port, server.tls, type("S", (), {"domain": "b.test"})

    bob = await login(OtherDomain, "bob", plugins=("xep_0030", "xep_0060", "xep_0004"))
    assert (await pubsub_error(bob["xep_0060"].create_node(PUBSUB, "theirs")))[0] == \
        "forbidden"  # an account of localhost creates nodes at pubsub.localhost
    await bob["xep_0060"].subscribe(PUBSUB, instant)  # any entity subscribes to open nodes
    await close(alice, bob)


async def test_items_are_paged_with_rsm(server) -> None:
    alice = await pep_client(server, "alice")
    ps = alice["xep_0060"]
    await ps.create_node(PUBSUB, NS, config=config(max_items="10"))
    for n in range(5):
        await ps.publish(PUBSUB, NS, id=f"i{n}", payload=payload(NS, text=str(n)))

    async def page(**rsm: str) -> tuple[list[str], dict[str, str]]:
        iq = alice.make_iq_get(ito=PUBSUB)
        iq["pubsub"]["items"]["node"] = NS
        for key, value in rsm.items():
            iq["pubsub"]["rsm"][key] = value
        result = await iq.send(timeout=5)
        answer = result["pubsub"]["rsm"]
        return ids(result), {k: answer[k] for k in ("first", "last", "count", "first_index")}

    assert await page(max="2") == (["i0", "i1"], {"first": "i0", "last": "i1", "count": "5",
                                                  "first_index": "0"})
    assert (await page(max="2", after="i1"))[0] == ["i2", "i3"]
    assert await page(max="2", after="i3") == (["i4"], {"first": "i4", "last": "i4",
                                                        "count": "5", "first_index": "4"})
    assert (await page(max="2", before=True))[0] == ["i3", "i4"]  # the last page
    assert (await page(max="2", before="i3"))[0] == ["i1", "i2"]
    assert (await page(max="0"))[1]["count"] == "5"
    iq = alice.make_iq_get(ito=PUBSUB)
    iq["pubsub"]["items"]["node"] = NS
    iq["pubsub"]["rsm"]["after"] = "gone"
    assert (await pubsub_error(iq.send(timeout=5)))[0] == "item-not-found"
    newest = await ps.get_items(PUBSUB, NS, max_items=2)
    assert ids(newest) == ["i3", "i4"]
    await close(alice)


async def test_affiliations_decide_who_reads_publishes_and_retracts(server) -> None:
    alice = await pep_client(server, "alice")
    bob = await pep_client(server, "bob")
    carol = await pep_client(server, "carol")
    ps = alice["xep_0060"]
    await ps.create_node(PUBSUB, NS, config=config(access_model="whitelist"))
    await ps.publish(PUBSUB, NS, id="a", payload=payload(NS))
    closed = ("not-allowed", "closed-node")
    assert await pubsub_error(bob["xep_0060"].subscribe(PUBSUB, NS)) == closed
    assert await pubsub_error(bob["xep_0060"].get_items(PUBSUB, NS)) == closed
    assert (await pubsub_error(bob["xep_0060"].publish(PUBSUB, NS, payload=payload(NS))))[
        0] == "forbidden"
    await ps.modify_affiliations(PUBSUB, NS, [("bob@localhost", "member"),
                                              ("carol@localhost", "publisher")])
    await bob["xep_0060"].subscribe(PUBSUB, NS)
    assert ids(await bob["xep_0060"].get_items(PUBSUB, NS)) == ["a"]
    await carol["xep_0060"].publish(PUBSUB, NS, id="c", payload=payload(NS))
    await notified(bob)
    assert (await pubsub_error(bob["xep_0060"].retract(PUBSUB, NS, "c")))[0] == "forbidden"
    await carol["xep_0060"].retract(PUBSUB, NS, "a")  # a publisher retracts any item
    affs = await ps.get_node_affiliations(PUBSUB, NS)
    assert {(a["jid"], a["affiliation"]) for a in affs["pubsub_owner"]["affiliations"]} == {
        ("alice@localhost", "owner"), ("bob@localhost", "member"),
        ("carol@localhost", "publisher")}
    mine = await carol["xep_0060"].get_affiliations(PUBSUB)
    assert [(a["node"], a["affiliation"]) for a in mine["pubsub"]["affiliations"]] == [
        (NS, "publisher")]
    assert (await pubsub_error(carol["xep_0060"].get_node_affiliations(PUBSUB, NS)))[0] == \
        "forbidden"
    # The last owner stays an owner (§8.9.2.4).
    assert (await pubsub_error(ps.modify_affiliations(PUBSUB, NS, [
        ("alice@localhost", "member")])))[0] == "not-acceptable"
    # An outcast loses its subscription (and is told), reads and subscribes nothing.
    told = watch(bob)
    await ps.modify_affiliations(PUBSUB, NS, [("bob@localhost", "outcast")])
    await eventually(lambda: told == ["none"])
    assert (await pubsub_error(bob["xep_0060"].get_items(PUBSUB, NS)))[0] == "forbidden"
    assert (await pubsub_error(bob["xep_0060"].subscribe(PUBSUB, NS)))[0] == "forbidden"
    assert [n for n, *_ in (await bob["xep_0030"].get_items(jid=PUBSUB))["disco_items"][
        "items"]] == []
    subs = await ps.get_node_subscriptions(PUBSUB, NS)
    assert list(subs["pubsub_owner"]["subscriptions"]) == []
    await close(alice, bob, carol)


async def test_the_owner_manages_subscriptions_and_approves_requests(server) -> None:
    alice = await pep_client(server, "alice")
    bob = await pep_client(server, "bob")
    carol = await pep_client(server, "carol")
    ps = alice["xep_0060"]
    await ps.create_node(PUBSUB, NS, config=config(access_model="authorize"))
    requests: list = []
    alice.add_event_handler("message_xform", requests.append)  # §8.6
    told = watch(bob)
    result = await bob["xep_0060"].subscribe(PUBSUB, NS)
    assert result["pubsub"]["subscription"]["subscription"] == "pending"  # §6.1.4
    assert await pubsub_error(bob["xep_0060"].get_items(PUBSUB, NS)) == (
        "not-authorized", "not-subscribed")
    assert await pubsub_error(bob["xep_0060"].subscribe(PUBSUB, NS)) == (
        "not-authorized", "pending-subscription")
    await eventually(lambda: len(requests) == 1)
    form = requests[0]["form"]
    assert form["type"] == "form"
    assert form.get_values()["pubsub#subscriber_jid"] == "bob@localhost"
    answer = alice.make_message(mto=PUBSUB)
    answer["id"] = requests[0]["id"]
    answer.append(options({"pubsub#node": NS, "pubsub#subscriber_jid": "bob@localhost",
                           "pubsub#allow": "true"},  # §8.6: the owner submits the form
                          "http://jabber.org/protocol/pubsub#subscribe_authorization"))
    answer.send()
    await eventually(lambda: told == ["subscribed"])
    await ps.publish(PUBSUB, NS, id="1", payload=payload(NS))
    await notified(bob)
    # §8.8: the owner adds carol directly and removes bob.
    carol_told = watch(carol)
    await ps.modify_subscriptions(PUBSUB, NS, [("carol@localhost", "subscribed"),
                                              ("bob@localhost", "none")])
    await eventually(lambda: carol_told == ["subscribed"] and told[-1] == "none")
    subs = await ps.get_node_subscriptions(PUBSUB, NS)
    assert [(s["jid"], s["subscription"]) for s in subs["pubsub_owner"]["subscriptions"]] == [
        ("carol@localhost", "subscribed")]
    mine = await carol["xep_0060"].get_subscriptions(PUBSUB)
    assert [(s["node"], s["subscription"]) for s in mine["pubsub"]["subscriptions"]] == [
        (NS, "subscribed")]
    await close(alice, bob, carol)


async def test_publish_models_and_options(server) -> None:
    alice = await pep_client(server, "alice")
    bob = await pep_client(server, "bob")
    ps = alice["xep_0060"]
    await ps.create_node(PUBSUB, NS, config=config(publish_model="subscribers"))
    assert (await pubsub_error(bob["xep_0060"].publish(PUBSUB, NS, payload=payload(NS))))[
        0] == "forbidden"
    await bob["xep_0060"].subscribe(PUBSUB, NS)
    await bob["xep_0060"].publish(PUBSUB, NS, id="b", payload=payload(NS))
    ok = options({"pubsub#publish_model": "subscribers"})
    await bob["xep_0060"].publish(PUBSUB, NS, id="b2", payload=payload(NS), options=ok)
    wrong = options({"pubsub#access_model": "whitelist"})
    assert await pubsub_error(ps.publish(PUBSUB, NS, payload=payload(NS), options=wrong)) == (
        "conflict", "precondition-not-met")
    off = options({"pubsub#deliver": "false"},
                  "http://jabber.org/protocol/pubsub#subscribe_options")
    await bob["xep_0060"].subscribe(PUBSUB, NS, options=off)  # options changed in place
    await ps.publish(PUBSUB, NS, id="quiet", payload=payload(NS))
    await barrier(alice)
    await barrier(bob)
    assert [m["pubsub_event"]["items"]["item"]["id"] for e, m in bob.events
            if e == "pubsub_publish"] == ["b", "b2"]
    await close(alice, bob)


@pytest.mark.server_options(pubsub_max_nodes=2, pubsub_max_owned_nodes=1, pubsub_max_items=2,
                            pubsub_max_item_size=200, pubsub_max_subscriptions=1)
async def test_the_limits_hold(server) -> None:
    alice = await pep_client(server, "alice")
    bob = await pep_client(server, "bob")
    ps = alice["xep_0060"]
    await ps.create_node(PUBSUB, NS, config=config(max_items="max"))
    exceeded = ("not-allowed", "max-nodes-exceeded")
    assert await pubsub_error(ps.create_node(PUBSUB, "two")) == exceeded  # per owner
    await bob["xep_0060"].create_node(PUBSUB, "bobs")
    carol = await pep_client(server, "carol")
    assert await pubsub_error(carol["xep_0060"].create_node(PUBSUB, "three")) == exceeded
    for n in range(3):
        await ps.publish(PUBSUB, NS, id=f"i{n}", payload=payload(NS))
    assert ids(await ps.get_items(PUBSUB, NS)) == ["i1", "i2"]  # max = --pubsub-max-items
    assert (await pubsub_error(ps.set_node_config(PUBSUB, NS, config(max_items="3"))))[
        0] == "not-acceptable"
    big = payload(NS, text="x" * 300)
    assert await pubsub_error(ps.publish(PUBSUB, NS, payload=big)) == (
        "not-acceptable", "payload-too-big")
    await bob["xep_0060"].subscribe(PUBSUB, NS)
    raw = await raw_login(server, "carol", "raw")  # slixmpp does not know policy-violation
    raw.send(f"<iq type='set' id='s1' to='{PUBSUB}'><pubsub xmlns="
             f"'http://jabber.org/protocol/pubsub'><subscribe node='{NS}' "
             "jid='carol@localhost'/></pubsub></iq>")
    text = await raw.read_until("id=[\"']s1[\"'].*</iq>")
    assert re.search("<error type='wait'[^>]*><policy-violation", text), text
    raw.close()
    await close(alice, bob, carol)


async def test_nodes_subscriptions_and_items_survive_a_restart(server_factory, tmp_path
                                                               ) -> None:
    data = str(tmp_path / "data")
    first = server_factory(data_dir=data)
    alice = await pep_client(first, "alice")
    bob = await pep_client(first, "bob")
    await alice["xep_0060"].create_node(PUBSUB, NS, config=config(access_model="whitelist"))
    await alice["xep_0060"].modify_affiliations(PUBSUB, NS, [("bob@localhost", "member")])
    await bob["xep_0060"].subscribe(PUBSUB, NS)
    await alice["xep_0060"].publish(PUBSUB, NS, id="kept", payload=payload(NS))
    await notified(bob)
    await close(alice, bob)
    await future(first.stopService())
    second = server_factory(data_dir=data)
    alice = await pep_client(second, "alice")
    bob = await pep_client(second, "bob")
    assert ids(await bob["xep_0060"].get_items(PUBSUB, NS)) == ["kept"]  # still a member
    await alice["xep_0060"].publish(PUBSUB, NS, id="after", payload=payload(NS))
    event = await notified(bob)  # still subscribed
    assert event["pubsub_event"]["items"]["item"]["id"] == "after"
    await close(alice, bob)


async def test_account_deletion_forgets_its_subscriptions_and_nodes(server) -> None:
    alice = await pep_client(server, "alice")
    bob = await pep_client(server, "bob")
    await alice["xep_0060"].create_node(PUBSUB, NS)
    await bob["xep_0060"].create_node(PUBSUB, "bobs")
    await bob["xep_0060"].subscribe(PUBSUB, NS)
    await alice["xep_0060"].subscribe(PUBSUB, "bobs")
    await alice["xep_0060"].modify_affiliations(PUBSUB, NS, [("bob@localhost", "publisher")])
    await close(bob)
    server.admin.delete_account("bob")
    store = server.storage.pubsub_subscriptions
    assert store.subscriptions(PUBSUB, NS) == []
    assert store.affiliations(PUBSUB, NS) == {"alice@localhost": "owner"}
    assert [n.name for n in server.storage.pubsub.nodes(PUBSUB)] == [NS]  # bob's is gone
    await notified(alice, "pubsub_delete")  # its subscribers were told
    await close(alice)


@pytest.mark.server_options(disable=["pubsub"])
async def test_switched_off_the_service_is_not_there(server) -> None:
    alice = await pep_client(server, "alice")
    items = await alice["xep_0030"].get_items(jid="localhost")
    assert PUBSUB not in [i[0] for i in items["disco_items"]["items"]]
    assert (await pubsub_error(alice["xep_0060"].create_node(PUBSUB, NS)))[0] == \
        "remote-server-not-found"
    await close(alice)


try:
    import aioxmpp
    import aioxmpp.connector
    import aioxmpp.pubsub
    import aioxmpp.xso
except ImportError:  # pragma: no cover  (it is a test dependency)
    aioxmpp = None


def _aioxmpp_entry() -> type:
    """A payload class aioxmpp can publish and parse (registered once per process)."""
    global _ENTRY
    if _ENTRY is None:
        @aioxmpp.pubsub.xso.as_payload_class
        class Entry(aioxmpp.xso.XSO):
            TAG = (NS, "entry")
            text = aioxmpp.xso.Text(default=None)

        _ENTRY = Entry
    return _ENTRY


_ENTRY: type | None = None


@pytest.mark.skipif(aioxmpp is None, reason="aioxmpp is not installed (pip install -e "
                                            "'.[test]' installs it)")
async def test_aioxmpp_creates_publishes_and_hears_through_its_pubsub_client(server
                                                                            ) -> None:
    entry = _aioxmpp_entry()
    service = aioxmpp.JID.fromstr(PUBSUB)
    client = aioxmpp.PresenceManagedClient(
        aioxmpp.JID.fromstr("alice@localhost/aioxmpp"),
        aioxmpp.make_security_layer("alice", no_verify=True),
        override_peer=[("127.0.0.1", server.port, aioxmpp.connector.STARTTLSConnector())])
    bob = await pep_client(server, "bob")

    async def session() -> None:
        async with client.connected():
            ps = client.summon(aioxmpp.PubSubClient)
            features = await ps.get_features(service)
            assert aioxmpp.pubsub.xso.Feature.CREATE_NODES in features
            node = await ps.create(service)  # an instant node (§8.1.2)
            assert node and [n for n, _ in await ps.get_nodes(service)] == [node]
            await bob["xep_0060"].subscribe(PUBSUB, node)
            published = entry()
            published.text = "from aioxmpp"
            await ps.publish(service, node, published, id_="a1")
            event = await notified(bob)
            assert event["pubsub_event"]["items"]["item"]["payload"].text == "from aioxmpp"
            items = await ps.get_items(service, node)
            assert [i.registered_payload.text for i in items.payload.items] == [
                "from aioxmpp"]
            # aioxmpp subscribes to bob's node and hears of his publish
            heard: asyncio.Future = asyncio.get_event_loop().create_future()
            ps.on_item_published.connect(
                lambda jid, n, item, message=None: heard.done() or heard.set_result(item))
            await bob["xep_0060"].create_node(PUBSUB, "bobs")
            await ps.subscribe(service, "bobs")
            await bob["xep_0060"].publish(PUBSUB, "bobs", id="b1", payload=payload(NS))
            assert (await asyncio.wait_for(heard, 10)).id_ == "b1"
            await ps.change_node_affiliations(service, node, [
                (aioxmpp.JID.fromstr("bob@localhost"), "publisher")])
            affiliations = await ps.get_node_affiliations(service, node)
            assert {(str(a.jid), a.affiliation) for a in
                    affiliations.payload.affiliations} == {
                ("alice@localhost", "owner"), ("bob@localhost", "publisher")}
            await ps.delete(service, node)
            await notified(bob, "pubsub_delete")

    try:
        await asyncio.wait_for(session(), 30)
    finally:
        await close(bob)


def test_the_service_jid_is_one_of_its_own() -> None:
    from minixmpp.config import ConfigError, Settings

    assert Settings.build({}).pubsub_jid == "pubsub.localhost"
    assert Settings.build({"domain": ("a.test", "b.test")}).for_domain(
        "b.test").pubsub_jid == "pubsub.b.test"
    with pytest.raises(ConfigError, match="--pubsub-jid conference.localhost: that JID is "
                                          "already served"):
        Settings.build({"pubsub_jid": "conference.localhost"})
    with pytest.raises(ConfigError, match="--disable pubsub"):
        Settings.build({"component": ("pubsub.localhost:secret",)})
    external = Settings.build({"component": ("pubsub.localhost:secret",),
                               "disable": ("pubsub",)})
    assert external.component_secrets == {"pubsub.localhost": "secret"}
