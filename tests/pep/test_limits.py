"""PEP in the whole server: limits, bad input, restart, account deletion and reset, the
status API, and push (PEP notifications never push)."""

from __future__ import annotations

import pytest

from minixmpp.testing.process import ProcessServer
from tests.helpers import (
    Remote,
    close,
    enable_push,
    http,
    raw_login,
    wait_push,
)
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


@pytest.mark.server_options(pep_max_items=3, pep_max_nodes=2, pep_max_item_size=2000)
async def test_limits_items_per_node_nodes_per_account_and_item_size(server) -> None:
    alice = await pep_client(server, "alice")
    ps = alice["xep_0060"]
    await ps.publish(None, NS, id="0", payload=payload(NS),
                         options=options({"pubsub#max_items": "max"}))
    for i in range(1, 5):
        await ps.publish(None, NS, id=str(i), payload=payload(NS))
    assert ids(await ps.get_items(None, NS)) == ["2", "3", "4"]  # 'max' is the limit
    too_many = options({"pubsub#max_items": "4"})
    assert (await pubsub_error(ps.publish(None, f"{NS}:b", payload=payload(NS),
                                              options=too_many)))[0] == "not-acceptable"
    await ps.publish(None, f"{NS}:b", payload=payload(NS))
    assert await pubsub_error(ps.publish(None, f"{NS}:c", payload=payload(NS))) == (
        "not-allowed", "max-nodes-exceeded")
    big = payload(NS, text="x" * 2000)
    assert await pubsub_error(ps.publish(None, NS, payload=big)) == (
        "not-acceptable", "payload-too-big")
    assert ids(await ps.get_items(None, NS)) == ["2", "3", "4"]  # nothing changed
    await close(alice)


BAD = [
    ("<pubsub xmlns='http://jabber.org/protocol/pubsub'><items/></pubsub>", "get",
     "bad-request"),
    ("<pubsub xmlns='http://jabber.org/protocol/pubsub'><items node='n' max_items='x'/>"
     "</pubsub>", "get", "bad-request"),
    ("<pubsub xmlns='http://jabber.org/protocol/pubsub'><items node='n' max_items='-1'/>"
     "</pubsub>", "get", "bad-request"),
    ("<pubsub xmlns='http://jabber.org/protocol/pubsub'><publish node='n'/></pubsub>", "set",
     "bad-request"),
    ("<pubsub xmlns='http://jabber.org/protocol/pubsub'><publish node='n'><item>"
     "<a xmlns='x'/><b xmlns='y'/></item></publish></pubsub>", "set", "bad-request"),
    ("<pubsub xmlns='http://jabber.org/protocol/pubsub'><publish node='n'><item/>"
     "</publish></pubsub>", "set", "bad-request"),
    ("<pubsub xmlns='http://jabber.org/protocol/pubsub'><retract node='n'/></pubsub>", "set",
     "item-not-found"),
    ("<pubsub xmlns='http://jabber.org/protocol/pubsub'><create/></pubsub>", "set",
     "not-acceptable"),
    ("<pubsub xmlns='http://jabber.org/protocol/pubsub'><subscribe node='n' jid='a@b@c'/>"
     "</pubsub>", "set", "bad-request"),
    ("<pubsub xmlns='http://jabber.org/protocol/pubsub'><subscribe node='n' "
     "jid='alice@localhost'/></pubsub>", "set", "feature-not-implemented"),
    ("<pubsub xmlns='http://jabber.org/protocol/pubsub'><unknown-verb/></pubsub>", "set",
     "feature-not-implemented"),
    ("<pubsub xmlns='http://jabber.org/protocol/pubsub#owner'><configure node='n'><x "
     "xmlns='jabber:x:data' type='submit'><field var='pubsub#max_items'><value>zero</value>"
     "</field></x></configure></pubsub>", "set", "bad-request"),  # no FORM_TYPE
]


@pytest.mark.parametrize("payload_xml, iq_type, condition", BAD)
async def test_bad_pubsub_requests_get_stanza_errors(server, payload_xml: str, iq_type: str,
                                                     condition: str) -> None:
    raw = await raw_login(server, "alice")
    raw.send(f"<iq type='{iq_type}' id='bad1' to='alice@localhost'>{payload_xml}</iq>")
    text = await raw.read_until("id=[\"']bad1[\"'].*</iq>")
    assert "type=\"error\"" in text or "type='error'" in text
    assert f"<{condition} xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/>" in text, text
    # The stream is still fine, the store untouched.
    raw.send("<iq type='get' id='p1' to='localhost'><ping xmlns='urn:xmpp:ping'/></iq>")
    await raw.read_until("id=[\"']p1[\"']")
    assert server.storage.pep.nodes("alice") == []
    raw.close()


async def test_bad_configure_value_on_an_existing_node_is_not_acceptable(server) -> None:
    alice = await pep_client(server, "alice")
    await alice["xep_0060"].publish(None, NS, payload=payload(NS))
    form = options({"pubsub#max_items": "zero"},
                   "http://jabber.org/protocol/pubsub#node_config")
    assert (await pubsub_error(alice["xep_0060"].set_node_config(None, NS, form)))[
        0] == "not-acceptable"
    await close(alice)


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


@pytest.mark.server_options(http="tcp:0")
async def test_status_api_lists_pep_nodes_and_delete_and_reset_clear_them(server) -> None:
    alice = await pep_client(server, "alice", plugins=("xep_0054", "xep_0049"))
    await alice["xep_0060"].publish(None, NS, payload=payload(NS),
                                        options=options({"pubsub#access_model": "open"}))
    vcard = alice["xep_0054"].make_vcard()
    vcard["FN"] = "Alice"
    await alice["xep_0054"].publish_vcard(vcard)
    base = f"http://127.0.0.1:{server.ports().http}/api"
    status, state = await http("GET", f"{base}/state")
    account = [a for a in state["accounts"] if a["name"] == "alice"][0]
    assert account["pep_nodes"] == [{"node": NS, "access_model": "open", "items": 1}]
    await close(alice)
    status, _ = await http("DELETE", f"{base}/accounts/alice")
    assert status == 204
    assert server.storage.pep.nodes("alice") == []
    assert server.storage.private.get("alice", "vcard") is None
    status, _ = await http("POST", f"{base}/accounts", {"name": "alice", "password":
                                                              "alice"})
    bob = await pep_client(server, "bob")
    await bob["xep_0060"].publish(None, NS, payload=payload(NS))
    assert server.storage.pep.nodes("bob")
    await close(bob)
    status, _ = await http("POST", f"{base}/reset")
    assert status == 200 and server.storage.pep.nodes("bob") == []


async def test_pep_items_survive_a_restart(tmp_path) -> None:
    server = ProcessServer(tmp_path, extra=("--data-dir", str(tmp_path / "data")))
    server.start()
    try:
        remote = Remote(server.port, server.domain)
        alice = await pep_client_remote(remote, "alice")
        await alice["xep_0060"].publish(None, NS, id="kept", payload=payload(NS, text="1"),
                                            options=options({"pubsub#max_items": "5",
                                                             "pubsub#access_model": "open"}))
        await close(alice)
        assert server.stop() is not None
        server.start()
        bob = await pep_client_remote(remote, "bob")
        got = await bob["xep_0060"].get_items("alice@localhost", NS)
        assert ids(got) == ["kept"]
        config = await pep_config(remote)
        assert config["pubsub#max_items"] == "5"
        await close(bob)
    finally:
        server.stop()


async def pep_client_remote(remote, user: str):
    from tests.helpers import login
    from tests.pep.helpers import PLUGINS

    return await login(remote, user, plugins=PLUGINS)


async def pep_config(remote) -> dict:
    alice = await pep_client_remote(remote, "alice")
    got = await alice["xep_0060"].get_node_config(None, NS)
    await close(alice)
    return got["pubsub_owner"]["configure"]["form"].get_values()

