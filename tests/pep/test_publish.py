"""PEP (XEP-0163) with slixmpp's own xep_0060/xep_0163 plugins over real sockets."""

from __future__ import annotations

from slixmpp.exceptions import IqError

from tests.helpers import close
from tests.pep.helpers import (
    barrier,
    friends,
    ids,
    notified,
    options,
    payload,
    pep_client,
    pubsub_error,
)

NS = "urn:example:pep"
TUNE = "http://jabber.org/protocol/tune"


async def test_publish_autocreates_node_and_items_come_back_all_one_or_newest(server
                                                                               ) -> None:
    alice = await pep_client(server, "alice")
    ps = alice["xep_0060"]
    opts = options({"pubsub#max_items": "10"})
    first = await ps.publish(None, NS, payload=payload(NS, text="1"), options=opts)
    generated = first["pubsub"]["publish"]["item"]["id"]
    assert generated  # XEP-0060 §7.1.2: the service made an id
    for n in ("2", "3"):
        await ps.publish(None, NS, id=f"i{n}", payload=payload(NS, text=n))
    everything = await ps.get_items(None, NS)
    assert ids(everything) == [generated, "i2", "i3"]
    assert [i["payload"].text for i in everything["pubsub"]["items"]] == ["1", "2", "3"]
    one = await ps.get_item(None, NS, "i2")
    assert ids(one) == ["i2"] and list(one["pubsub"]["items"])[0]["payload"].text == "2"
    newest = await ps.get_items(None, NS, max_items=2)
    assert ids(newest) == ["i2", "i3"]
    # Publishing an existing id replaces that item.
    await ps.publish(None, NS, id="i2", payload=payload(NS, text="two"))
    assert ids(await ps.get_items(None, NS)) == [generated, "i3", "i2"]
    await ps.retract(None, NS, "i3")
    assert ids(await ps.get_items(None, NS)) == [generated, "i2"]
    assert await pubsub_error(ps.get_item(None, NS, "i3")) == ("item-not-found", None)
    await ps.purge(None, NS)
    assert ids(await ps.get_items(None, NS)) == []
    await ps.delete_node(None, NS)
    assert await pubsub_error(ps.get_items(None, NS)) == ("item-not-found", None)
    await close(alice)


async def test_default_node_keeps_one_item(server) -> None:
    alice = await pep_client(server, "alice")
    ps = alice["xep_0060"]
    for n in ("a", "b"):
        await ps.publish(None, NS, id=n, payload=payload(NS))
    assert ids(await ps.get_items(None, NS)) == ["b"]
    await close(alice)


async def test_publish_options_mismatch_is_precondition_not_met(server) -> None:
    alice = await pep_client(server, "alice")
    ps = alice["xep_0060"]
    await ps.publish(None, NS, payload=payload(NS),
                         options=options({"pubsub#access_model": "open"}))
    # Matching options: accepted.
    await ps.publish(None, NS, payload=payload(NS),
                         options=options({"pubsub#access_model": "open"}))
    wrong = ps.publish(None, NS, payload=payload(NS),
                       options=options({"pubsub#access_model": "whitelist"}))
    assert await pubsub_error(wrong) == ("conflict", "precondition-not-met")
    unknown = ps.publish(None, NS, payload=payload(NS),
                         options=options({"pubsub#no_such_option": "1"}))
    assert await pubsub_error(unknown) == ("conflict", "precondition-not-met")
    await close(alice)


async def test_node_configuration_get_and_set(server) -> None:
    alice = await pep_client(server, "alice")
    ps = alice["xep_0060"]
    await ps.publish(None, NS, payload=payload(NS))
    got = await ps.get_node_config(None, NS)
    values = got["pubsub_owner"]["configure"]["form"].get_values()
    assert values["pubsub#access_model"] == "presence"
    assert values["pubsub#max_items"] == "1"
    assert values["pubsub#persist_items"] is True
    assert values["pubsub#send_last_published_item"] == "on_sub_and_presence"
    assert values["pubsub#notify_retract"] is True
    form = got["pubsub_owner"]["configure"]["form"]
    form["type"] = "submit"
    for var, value in (("pubsub#access_model", "open"), ("pubsub#max_items", "5"),
                       ("pubsub#persist_items", True), ("pubsub#notify_retract", False),
                       ("pubsub#send_last_published_item", "never")):
        form.get_fields()[var]["value"] = value
    await ps.set_node_config(None, NS, form)
    values = (await ps.get_node_config(None, NS))["pubsub_owner"]["configure"][
        "form"].get_values()
    assert values["pubsub#access_model"] == "open" and values["pubsub#max_items"] == "5"
    assert values["pubsub#notify_retract"] is False
    assert values["pubsub#send_last_published_item"] == "never"
    bad = options({"pubsub#access_model": "authorize"},
                  "http://jabber.org/protocol/pubsub#node_config")
    assert (await pubsub_error(ps.set_node_config(None, NS, bad)))[0] == "not-acceptable"
    await close(alice)


async def test_only_the_owner_publishes_configures_and_deletes(server) -> None:
    friends(server, "alice", "bob")
    alice = await pep_client(server, "alice")
    bob = await pep_client(server, "bob")
    await alice["xep_0060"].publish(None, NS, payload=payload(NS))
    ps = bob["xep_0060"]
    for request in (ps.publish("alice@localhost", NS, payload=payload(NS)),
                    ps.get_node_config("alice@localhost", NS),
                    ps.purge("alice@localhost", NS),
                    ps.delete_node("alice@localhost", NS)):
        assert (await pubsub_error(request))[0] == "forbidden"
    assert len(ids(await ps.get_items("alice@localhost", NS))) == 1
    # No PEP on the server's own JID.
    assert (await pubsub_error(ps.get_items("localhost", NS)))[0] == \
        "service-unavailable"
    await close(alice, bob)


async def test_every_access_model_decision(server) -> None:
    friends(server, "alice", "bob", groups=("Friends",))
    alice = await pep_client(server, "alice")
    bob = await pep_client(server, "bob")
    carol = await pep_client(server, "carol")  # no subscription at all
    ps = alice["xep_0060"]

    async def model(name: str, **extra: str) -> None:
        node = f"{NS}:{name}"
        await ps.publish(None, node, payload=payload(NS), options=options(
            {"pubsub#access_model": name.split("-")[0], **extra}))

    async def reads(client, name: str):
        try:
            await client["xep_0060"].get_items("alice@localhost", f"{NS}:{name}")
        except IqError:
            return await pubsub_error(client["xep_0060"].get_items(
                "alice@localhost", f"{NS}:{name}"))
        return "ok"

    await model("open")
    await model("presence")
    await model("roster-friends", **{"pubsub#roster_groups_allowed": "Friends"})
    await model("roster-work", **{"pubsub#roster_groups_allowed": "Work"})
    await model("whitelist")
    assert await reads(bob, "open") == "ok"
    assert await reads(carol, "open") == "ok"
    assert await reads(bob, "presence") == "ok"
    assert await reads(carol, "presence") == ("not-authorized",
                                                   "presence-subscription-required")
    assert await reads(bob, "roster-friends") == "ok"
    assert await reads(bob, "roster-work") == ("not-authorized", "not-in-roster-group")
    assert await reads(carol, "roster-friends") == ("not-authorized",
                                                         "presence-subscription-required")
    assert await reads(bob, "whitelist") == ("not-allowed", "closed-node")
    assert await reads(alice, "whitelist") == "ok"
    await close(alice, bob, carol)


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


async def test_caps_are_asked_once_per_hash(server) -> None:
    friends(server, "alice", "bob")
    alice = await pep_client(server, "alice")
    before = server.service("pep").caps.queries_sent
    bob1 = await pep_client(server, "bob", "one", interests=(TUNE,))
    bob2 = await pep_client(server, "bob", "two", interests=(TUNE,))
    # Same software, same features: one disco#info query for both (bob's own account
    # learning its resources' caps, and alice's, share the cache).
    assert server.service("pep").caps.queries_sent - before == 1
    await alice["xep_0060"].publish(None, TUNE, payload=payload(TUNE, "tune"))
    await notified(bob1, "pubsub_publish")
    await notified(bob2)
    await close(alice, bob1, bob2)


def test_verification_string_is_xep_0115_example() -> None:
    import base64
    import hashlib

    from minixmpp.pep.caps import verification_string
    from minixmpp.stanza import parse

    query = parse("<query xmlns='http://jabber.org/protocol/disco#info'>"
                  "<identity category='client' name='Exodus 0.9.1' type='pc'/>"
                  "<feature var='http://jabber.org/protocol/caps'/>"
                  "<feature var='http://jabber.org/protocol/disco#info'/>"
                  "<feature var='http://jabber.org/protocol/disco#items'/>"
                  "<feature var='http://jabber.org/protocol/muc'/></query>", neutral=False)
    digest = hashlib.sha1(verification_string(query).encode()).digest()
    assert base64.b64encode(digest).decode() == "QgayPKawpkPSDYmwT/WM94uAlu0="  # §5.2


async def test_a_forged_caps_hash_is_not_cached_for_others(server) -> None:
    from twisted.internet.task import Clock

    from minixmpp.pep.caps import CapsCache
    from minixmpp.stanza import parse

    sent = []
    caps = CapsCache(sent.append, Clock())
    presence = parse("<presence from='a@x/1'><c xmlns='http://jabber.org/protocol/caps' "
                     "hash='sha-1' node='n' ver='forged='/></presence>")
    caps.observe("a@x/1", presence, "o@x", lambda: None)
    reply = parse(f"<iq type='result' id='{sent[0]['id']}' from='a@x/1'><query "
                  "xmlns='http://jabber.org/protocol/disco#info'><feature var='t+notify'/>"
                  "</query></iq>", neutral=False)
    assert caps.answered(reply)
    assert caps.features("a@x/1") == {"t+notify"}
    caps.observe("b@x/1", parse(presence.toXml().replace("a@x/1", "b@x/1")), "o@x",
                 lambda: None)
    assert caps.features("b@x/1") == frozenset() and len(sent) == 2  # asked again


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


async def test_disco_shows_pep_on_the_account_and_readable_nodes_only(server) -> None:
    friends(server, "alice", "bob")
    alice = await pep_client(server, "alice")
    carol = await pep_client(server, "carol")
    await alice["xep_0060"].publish(None, NS, payload=payload(NS))
    await alice["xep_0060"].publish(None, TUNE, payload=payload(TUNE, "tune"),
                                        options=options({"pubsub#access_model": "open"}))
    info = await carol["xep_0030"].get_info(jid="alice@localhost")
    assert ("pubsub", "pep", None, None) in info["disco_info"]["identities"]
    features = info["disco_info"]["features"]
    for f in ("publish-options", "auto-create", "access-presence", "access-open",
              "access-whitelist", "access-roster", "multi-items", "item-ids",
              "filtered-notifications", "retract-items", "purge-nodes", "publish"):
        assert f"http://jabber.org/protocol/pubsub#{f}" in features
    assert "http://jabber.org/protocol/pubsub#subscribe" not in features  # not built
    server_info = await carol["xep_0030"].get_info(jid="localhost")
    assert not [i for i in server_info["disco_info"]["identities"] if i[0] == "pubsub"]
    items = await carol["xep_0030"].get_items(jid="alice@localhost")
    assert [i[1] for i in items["disco_items"]["items"]] == [TUNE]  # presence node hidden
    own = await alice["xep_0030"].get_items(jid="alice@localhost")
    assert sorted(i[1] for i in own["disco_items"]["items"]) == sorted([NS, TUNE])
    await close(alice, carol)


async def test_node_disco_info_default_configuration_and_create(server) -> None:
    alice = await pep_client(server, "alice")
    ps = alice["xep_0060"]
    await ps.create_node(None, NS)
    assert (await pubsub_error(ps.create_node(None, NS)))[0] == "conflict"
    info = await alice["xep_0030"].get_info(jid="alice@localhost", node=NS)
    assert ("pubsub", "leaf", None, None) in info["disco_info"]["identities"]
    assert (await pubsub_error(alice["xep_0030"].get_info(
        jid="alice@localhost", node="urn:example:none")))[0] == "item-not-found"
    iq = alice.make_iq_get(ito="alice@localhost")
    iq.enable("pubsub_owner")
    iq["pubsub_owner"].enable("default")
    default = await iq.send(timeout=5)
    values = default["pubsub_owner"]["default"]["form"].get_values()
    assert values["pubsub#access_model"] == "presence" and values["pubsub#max_items"] == "1"
    await close(alice)


async def test_transient_node_notifies_but_keeps_nothing(server) -> None:
    alice = await pep_client(server, "alice", interests=(NS,))
    await alice["xep_0060"].publish(None, NS, id="t", payload=payload(NS), options=options(
        {"pubsub#persist_items": "false"}))
    await notified(alice)
    assert ids(await alice["xep_0060"].get_items(None, NS)) == []
    await close(alice)
