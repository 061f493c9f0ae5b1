"""Enabling and disabling push (XEP-0357 §5-6): account disco, nodes, away='true', the
per-account limit, bad requests, --push-strict, nothing before authentication."""

from __future__ import annotations

import pytest

from tests.helpers import barrier, close, disable_push, enable_push, iq_error, login, push_iq
from tests.raw import Raw


async def test_account_disco_shows_push_features_to_the_account_itself(server) -> None:
    alice = await login(server, "alice")
    bob = await login(server, "bob")
    for c in (alice, bob):
        c.register_plugin("xep_0030")
    info = (await alice["xep_0030"].get_info(jid="alice@localhost"))["disco_info"]
    assert ("account", "registered", None, None) in info["identities"]
    assert {"urn:xmpp:push:0", "tigase:push:away:0", "urn:xmpp:mam:2", "urn:xmpp:sid:0"} <= set(
        info["features"])
    other = (await bob["xep_0030"].get_info(jid="alice@localhost"))["disco_info"]
    assert "urn:xmpp:push:0" not in other["features"]
    app = (await alice["xep_0030"].get_info(jid="push.localhost"))["disco_info"]
    assert any(i[0] == "pubsub" and i[1] == "push" for i in app["identities"])
    items = (await alice["xep_0030"].get_items(jid="localhost"))["disco_items"]
    assert "push.localhost" in {i[0] for i in items["items"]}
    await close(alice, bob)


async def test_disable_one_node_then_all(server) -> None:
    alice = await login(server, "alice", resource="phone")
    await enable_push(alice, "n1")
    await enable_push(alice, "n2")
    await enable_push(alice, "n3", jid="push2.example")
    await disable_push(alice, "n1")
    assert [r.node for r in server.storage.push.registrations("alice")] == ["n2", "n3"]
    await disable_push(alice, "no-such-node")  # no match: still a result
    await disable_push(alice)  # every node of push.localhost
    assert [r.node for r in server.storage.push.registrations("alice")] == ["n3"]
    await disable_push(alice, jid="push2.example")
    await close(alice)
    bob = await login(server, "bob")
    bob.send_message(mto="alice@localhost", mbody="hello", mtype="chat")
    await barrier(bob)
    assert server.appserver.find(account="alice") == []
    assert server.storage.offline.count("alice") == 1  # positive control: it was handled
    await close(bob)


async def test_re_enable_without_away_turns_away_off(server) -> None:
    phone = await login(server, "alice", resource="phone")
    await enable_push(phone, "n", away=True)
    await enable_push(phone, "n")
    [registration] = server.storage.push.registrations("alice")
    assert registration.away is False
    await close(phone)
    desktop = await login(server, "alice", resource="desktop", show="xa")
    bob = await login(server, "bob")
    bob.send_message(mto="alice@localhost", mbody="hi", mtype="chat")
    await desktop.next_message()
    await barrier(bob)
    assert server.appserver.find(account="alice") == []
    await close(desktop, bob)


@pytest.mark.server_options(push_max_registrations=2)
async def test_per_account_limit_drops_the_oldest(server) -> None:
    alice = await login(server, "alice")
    for node in ("a", "b", "c"):
        await enable_push(alice, node)
    assert [r.node for r in server.storage.push.registrations("alice")] == ["b", "c"]
    await close(alice)


async def test_bad_enable_requests(server) -> None:
    alice = await login(server, "alice")
    assert await iq_error(push_iq(alice, "enable", jid=None, node="n")) == "bad-request"
    assert await iq_error(push_iq(alice, "enable", jid="not a jid@@", node="n")) == \
        "jid-malformed"  # RFC 6120 §8.3.3.8 (issue 22)
    assert await iq_error(push_iq(alice, "enable", node="n", iq_type="get")) == "bad-request"
    assert await iq_error(push_iq(alice, "enable", node="n", secret="s",
                                      form_type="urn:example:wrong")) == "bad-request"
    assert await iq_error(push_iq(alice, "enable", node="n", to="bob@localhost")) == "forbidden"
    assert await iq_error(push_iq(alice, "disable", jid=None)) == "bad-request"
    assert await iq_error(push_iq(alice, "disable", node="n", to="bob@localhost")) == "forbidden"
    assert server.storage.push.registrations("alice") == []
    assert server.storage.push.registrations("bob") == []
    # A missing node is accepted by default (XEP-0357 says SHOULD).
    await enable_push(alice, None)
    assert [r.node for r in server.storage.push.registrations("alice")] == [None]
    await close(alice)


@pytest.mark.server_options(push_strict=True)
async def test_push_strict_requires_node(server) -> None:
    alice = await login(server, "alice")
    assert await iq_error(push_iq(alice, "enable", node=None)) == "bad-request"
    await close(alice)


async def test_enable_before_authentication_is_refused(server) -> None:
    raw = await Raw.connect(server)
    await raw.open_stream()
    raw.send("<iq type='set' id='e'><enable xmlns='urn:xmpp:push:0' jid='push.localhost' "
             "node='n'/></iq>")
    await raw.stream_error("not-authorized")
    assert server.storage.push.users() == []
