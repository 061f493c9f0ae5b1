"""PEP (XEP-0163) with slixmpp's own xep_0060/xep_0163 plugins over real sockets."""

from __future__ import annotations

import pytest_twisted
from slixmpp.exceptions import IqError

from tests.helpers import aio, close
from tests.pep_helpers import barrier, friends, ids, options, payload, pep_client, \
    pubsub_error

NS = "urn:example:pep"
TUNE = "http://jabber.org/protocol/tune"


@pytest_twisted.ensureDeferred
async def test_publish_autocreates_node_and_items_come_back_all_one_or_newest(server
                                                                               ) -> None:
    alice = await aio(pep_client(server, "alice"))
    ps = alice["xep_0060"]
    opts = options({"pubsub#max_items": "10"})
    first = await aio(ps.publish(None, NS, payload=payload(NS, text="1"), options=opts))
    generated = first["pubsub"]["publish"]["item"]["id"]
    assert generated  # XEP-0060 §7.1.2: the service made an id
    for n in ("2", "3"):
        await aio(ps.publish(None, NS, id=f"i{n}", payload=payload(NS, text=n)))
    everything = await aio(ps.get_items(None, NS))
    assert ids(everything) == [generated, "i2", "i3"]
    assert [i["payload"].text for i in everything["pubsub"]["items"]] == ["1", "2", "3"]
    one = await aio(ps.get_item(None, NS, "i2"))
    assert ids(one) == ["i2"] and list(one["pubsub"]["items"])[0]["payload"].text == "2"
    newest = await aio(ps.get_items(None, NS, max_items=2))
    assert ids(newest) == ["i2", "i3"]
    # Publishing an existing id replaces that item.
    await aio(ps.publish(None, NS, id="i2", payload=payload(NS, text="two")))
    assert ids(await aio(ps.get_items(None, NS))) == [generated, "i3", "i2"]
    await aio(ps.retract(None, NS, "i3"))
    assert ids(await aio(ps.get_items(None, NS))) == [generated, "i2"]
    assert await aio(pubsub_error(ps.get_item(None, NS, "i3"))) == ("item-not-found", None)
    await aio(ps.purge(None, NS))
    assert ids(await aio(ps.get_items(None, NS))) == []
    await aio(ps.delete_node(None, NS))
    assert await aio(pubsub_error(ps.get_items(None, NS))) == ("item-not-found", None)
    await aio(close(alice))


@pytest_twisted.ensureDeferred
async def test_default_node_keeps_one_item(server) -> None:
    alice = await aio(pep_client(server, "alice"))
    ps = alice["xep_0060"]
    for n in ("a", "b"):
        await aio(ps.publish(None, NS, id=n, payload=payload(NS)))
    assert ids(await aio(ps.get_items(None, NS))) == ["b"]
    await aio(close(alice))


@pytest_twisted.ensureDeferred
async def test_publish_options_mismatch_is_precondition_not_met(server) -> None:
    alice = await aio(pep_client(server, "alice"))
    ps = alice["xep_0060"]
    await aio(ps.publish(None, NS, payload=payload(NS),
                         options=options({"pubsub#access_model": "open"})))
    # Matching options: accepted.
    await aio(ps.publish(None, NS, payload=payload(NS),
                         options=options({"pubsub#access_model": "open"})))
    wrong = ps.publish(None, NS, payload=payload(NS),
                       options=options({"pubsub#access_model": "whitelist"}))
    assert await aio(pubsub_error(wrong)) == ("conflict", "precondition-not-met")
    unknown = ps.publish(None, NS, payload=payload(NS),
                         options=options({"pubsub#no_such_option": "1"}))
    assert await aio(pubsub_error(unknown)) == ("conflict", "precondition-not-met")
    await aio(close(alice))


@pytest_twisted.ensureDeferred
async def test_node_configuration_get_and_set(server) -> None:
    alice = await aio(pep_client(server, "alice"))
    ps = alice["xep_0060"]
    await aio(ps.publish(None, NS, payload=payload(NS)))
    got = await aio(ps.get_node_config(None, NS))
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
    await aio(ps.set_node_config(None, NS, form))
    values = (await aio(ps.get_node_config(None, NS)))["pubsub_owner"]["configure"][
        "form"].get_values()
    assert values["pubsub#access_model"] == "open" and values["pubsub#max_items"] == "5"
    assert values["pubsub#notify_retract"] is False
    assert values["pubsub#send_last_published_item"] == "never"
    bad = options({"pubsub#access_model": "authorize"},
                  "http://jabber.org/protocol/pubsub#node_config")
    assert (await aio(pubsub_error(ps.set_node_config(None, NS, bad))))[0] == "not-acceptable"
    await aio(close(alice))


@pytest_twisted.ensureDeferred
async def test_only_the_owner_publishes_configures_and_deletes(server) -> None:
    friends(server, "alice", "bob")
    alice = await aio(pep_client(server, "alice"))
    bob = await aio(pep_client(server, "bob"))
    await aio(alice["xep_0060"].publish(None, NS, payload=payload(NS)))
    ps = bob["xep_0060"]
    for request in (ps.publish("alice@localhost", NS, payload=payload(NS)),
                    ps.get_node_config("alice@localhost", NS),
                    ps.purge("alice@localhost", NS),
                    ps.delete_node("alice@localhost", NS)):
        assert (await aio(pubsub_error(request)))[0] == "forbidden"
    assert len(ids(await aio(ps.get_items("alice@localhost", NS)))) == 1
    # No PEP on the server's own JID.
    assert (await aio(pubsub_error(ps.get_items("localhost", NS))))[0] == \
        "service-unavailable"
    await aio(close(alice, bob))


@pytest_twisted.ensureDeferred
async def test_every_access_model_decision(server) -> None:
    friends(server, "alice", "bob", groups=("Friends",))
    alice = await aio(pep_client(server, "alice"))
    bob = await aio(pep_client(server, "bob"))
    carol = await aio(pep_client(server, "carol"))  # no subscription at all
    ps = alice["xep_0060"]

    async def model(name: str, **extra: str) -> None:
        node = f"{NS}:{name}"
        await aio(ps.publish(None, node, payload=payload(NS), options=options(
            {"pubsub#access_model": name.split("-")[0], **extra})))

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
    assert await aio(reads(bob, "open")) == "ok"
    assert await aio(reads(carol, "open")) == "ok"
    assert await aio(reads(bob, "presence")) == "ok"
    assert await aio(reads(carol, "presence")) == ("not-authorized",
                                                   "presence-subscription-required")
    assert await aio(reads(bob, "roster-friends")) == "ok"
    assert await aio(reads(bob, "roster-work")) == ("not-authorized", "not-in-roster-group")
    assert await aio(reads(carol, "roster-friends")) == ("not-authorized",
                                                         "presence-subscription-required")
    assert await aio(reads(bob, "whitelist")) == ("not-allowed", "closed-node")
    assert await aio(reads(alice, "whitelist")) == "ok"
    await aio(close(alice, bob, carol))
