"""Exact push-store removal (issue #15): a node-less registration is a registration like
any other, never a wildcard. Node-less and noded registrations side by side through
eviction, auto-disable (permanent and transient), disable and the HTTP API."""

from __future__ import annotations

import pytest

from tests.helpers import barrier, close, disable_push, enable_push, eventually, http, login


def nodes(server, user: str = "alice") -> list[tuple[str, str | None]]:
    return [(r.jid, r.node) for r in server.storage.push.registrations(user)]


async def offline_message(server, bob, body: str) -> None:
    """bob writes to offline alice; returns once every push for it was published."""
    bob.send_message(mto="alice@localhost", mbody=body, mtype="chat")
    await barrier(bob)


@pytest.mark.server_options(push_max_registrations=2)
async def test_eviction_of_a_node_less_registration_keeps_the_noded_ones(server) -> None:
    """Issue #15, first reproduction: no node, then n1, then n2, limit 2."""
    alice = await login(server, "alice", resource="phone")
    for node in (None, "n1", "n2"):
        await enable_push(alice, node)
    assert nodes(server) == [("push.localhost", "n1"), ("push.localhost", "n2")]
    await close(alice)
    await eventually(lambda: not server.sessions.of("alice"))
    bob = await login(server, "bob")
    await offline_message(server, bob, "hi")
    assert sorted(n.node for n in server.appserver.find(account="alice")) == ["n1", "n2"]
    await close(bob)


async def test_permanent_error_on_the_node_less_registration_keeps_n2(server) -> None:
    """Issue #15, second reproduction: the node-less publish fails permanently (the
    in-process App Server, like wokkel's pubsub, answers a publish without node with
    bad-request: docs/push.md)."""
    alice = await login(server, "alice", resource="phone")
    await enable_push(alice, None)
    await enable_push(alice, "n2")
    await close(alice)
    await eventually(lambda: not server.sessions.of("alice"))
    bob = await login(server, "bob")
    await offline_message(server, bob, "1")
    assert nodes(server) == [("push.localhost", "n2")]
    assert [n.node for n in server.appserver.find(account="alice")] == ["n2"]
    await offline_message(server, bob, "2")  # n2 still pushes
    assert [n.node for n in server.appserver.find(account="alice")] == ["n2", "n2"]
    await close(bob)


@pytest.mark.server_options(push_max_errors=2)
async def test_transient_auto_disable_of_one_node_keeps_the_others(server) -> None:
    alice = await login(server, "alice", resource="phone")
    await enable_push(alice, "flaky")
    await enable_push(alice, "n2")
    await enable_push(alice, None, jid="other.example")
    await close(alice)
    await eventually(lambda: not server.sessions.of("alice"))
    server.appserver.fail("flaky", "internal-server-error", type="wait")
    bob = await login(server, "bob")
    await offline_message(server, bob, "1")
    assert ("push.localhost", "flaky") in nodes(server)
    await offline_message(server, bob, "2")
    assert ("push.localhost", "flaky") not in nodes(server)
    assert ("push.localhost", "n2") in nodes(server)
    assert [n.node for n in server.appserver.find(account="alice")] == ["n2", "n2"]
    await close(bob)


async def test_disable_with_node_keeps_the_node_less_one_and_without_node_takes_all(
        server) -> None:
    alice = await login(server, "alice", resource="phone")
    await enable_push(alice, None)
    await enable_push(alice, "n1")
    await enable_push(alice, None, jid="other.example")
    await disable_push(alice, "n1")
    assert nodes(server) == [("push.localhost", None), ("other.example", None)]
    await enable_push(alice, "n1")
    await disable_push(alice, None)  # XEP-0357 §6: every node of push.localhost
    assert nodes(server) == [("other.example", None)]
    await close(alice)


HTTP = dict(http="tcp:0")


def url(server, path: str) -> str:
    return f"http://127.0.0.1:{server.ports().http}/api/{path}"


@pytest.mark.server_options(**HTTP)
async def test_http_delete_of_the_node_less_registration_is_exact(server) -> None:
    alice = await login(server, "alice", resource="phone")
    await enable_push(alice, None)
    await enable_push(alice, "n1")
    await enable_push(alice, "n2")
    status, body = await http("DELETE", url(server, "push/registrations?account=alice"
                                                        "&jid=push.localhost&node="))
    assert (status, body) == (200, {"removed": 1})
    assert nodes(server) == [("push.localhost", "n1"), ("push.localhost", "n2")]
    status, body = await http("DELETE", url(server, "push/registrations?account=alice"
                                                        "&node=n1"))
    assert (status, body) == (200, {"removed": 1})
    assert nodes(server) == [("push.localhost", "n2")]
    await enable_push(alice, None)
    status, body = await http("DELETE", url(server, "push/registrations?account=alice"
                                                        "&jid=push.localhost"))
    assert (status, body) == (200, {"removed": 2})  # no node given: every node
    assert nodes(server) == []
    await close(alice)
