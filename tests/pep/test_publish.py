"""PEP (XEP-0163) publishing with slixmpp's own xep_0060/xep_0163 plugins over real
sockets: items, publish-options, node configuration, creation, transient nodes."""

from __future__ import annotations

from tests.helpers import close
from tests.pep.helpers import (
    NS,
    ids,
    notified,
    options,
    payload,
    pep_client,
    pubsub_error,
)


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
