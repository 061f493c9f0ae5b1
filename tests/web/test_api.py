"""The JSON control API over real HTTP, with real XMPP clients making the state."""

from __future__ import annotations

import asyncio

import pytest

from tests.helpers import close, enable_push, eventually, http, login
from tests.xmlassert import assert_xml

HTTP = dict(http="tcp:0")


def url(server, path: str) -> str:
    return f"http://127.0.0.1:{server.ports().http}/api/{path}"


@pytest.mark.server_options(**HTTP)
async def test_accounts_create_list_password_delete(server) -> None:
    status, body = await http("POST", url(server, "accounts"),
                                  {"name": "dave", "password": "pw"})
    assert status == 201 and body["jid"] == "dave@localhost"
    dave = await login(server, "dave", "pw")
    status, body = await http("GET", url(server, "accounts"))
    assert status == 200
    assert {a["name"] for a in body} == {"alice", "bob", "carol", "dave"}
    assert [a for a in body if a["name"] == "dave"][0]["sessions"] == ["dave@localhost/test"]
    assert (await http("POST", url(server, "accounts"),
                           {"name": "dave", "password": "x"}))[0] == 409
    status, _ = await http("PUT", url(server, "accounts/dave/password"),
                               {"password": "new"})
    assert status == 200
    await close(dave)
    with pytest.raises(AssertionError, match="authentication failed"):
        await login(server, "dave", "pw")
    dave = await login(server, "dave", "new")
    status, _ = await http("DELETE", url(server, "accounts/dave"))
    assert status == 204
    await eventually(lambda: dave.stream_errors == ["not-authorized"])
    assert not server.accounts.exists("dave")
    assert (await http("DELETE", url(server, "accounts/dave")))[0] == 404


@pytest.mark.server_options(**HTTP)
async def test_bad_requests_are_400_404_405_with_json(server) -> None:
    cases = [
        ("POST", "accounts", None, b"{not json", 400),
        ("POST", "accounts", {"name": "x"}, None, 400),
        ("POST", "accounts", {"name": "bad@name", "password": "p"}, None, 400),
        ("POST", "accounts", [1, 2], None, 400),
        ("GET", "nothing/here", None, None, 404),
        ("PATCH", "accounts", None, None, 405),
        ("GET", "offline/nobody", None, None, 404),
        ("DELETE", "sessions/nobody@localhost/x", None, None, 404),
        ("GET", "push/notifications/wait?timeout=abc", None, None, 400),
        ("GET", "push/notifications/wait?timeout=0", None, None, 400),
        ("POST", "push/fail", {"node": "n", "condition": "not-a-condition"}, None, 400),
        ("POST", "push/fail", {"node": "n", "type": "sometimes"}, None, 400),
        ("POST", "push/fail", {"node": 5}, None, 400),
        ("GET", "push/registrations?account=nobody", None, None, 404),
    ]
    for method, path, body, raw, expected in cases:
        status, answer = await http(method, url(server, path), body, raw=raw)
        assert status == expected, (method, path, status, answer)
        assert isinstance(answer, dict) and answer["error"], (method, path, answer)


@pytest.mark.server_options(http="tcp:0", http_token="t0ken")
async def test_token_is_required_when_set(server) -> None:
    assert (await http("GET", url(server, "accounts")))[0] == 401
    assert (await http("GET", url(server, "accounts"), token="wrong"))[0] == 401
    status, body = await http("GET", url(server, "accounts"), token="t0ken")
    assert status == 200 and len(body) == 3


@pytest.mark.server_options(**HTTP)
async def test_sessions_list_and_kick(server) -> None:
    alice = await login(server, "alice", resource="desk", show="xa", priority=3,
                            tls=True)
    status, body = await http("GET", url(server, "sessions"))
    assert status == 200
    [session] = body
    assert session["jid"] == "alice@localhost/desk" and session["show"] == "xa"
    assert session["priority"] == 3 and session["tls"] is True and session["available"]
    status, _ = await http("DELETE", url(server, "sessions/alice@localhost/desk"))
    assert status == 204
    await eventually(lambda: alice.stream_errors == ["policy-violation"])
    await eventually(lambda: not server.sessions.of("alice"))


@pytest.mark.server_options(**HTTP)
async def test_push_registrations_notifications_wait_fail_recover(server) -> None:
    alice = await login(server, "alice", resource="phone")
    await enable_push(alice, "n1", away=True, secret="s")
    await close(alice)
    status, regs = await http("GET", url(server, "push/registrations?account=alice"))
    assert status == 200 and len(regs) == 1
    assert regs[0]["node"] == "n1" and regs[0]["away"] is True
    assert regs[0]["publish_options"] == {"secret": "s"} and regs[0]["resource"] == "phone"
    # Long-poll first, then make the push happen.
    waiting = asyncio.ensure_future(http(
        "GET", url(server, "push/notifications/wait?account=alice&timeout=10")))
    await eventually(lambda: server.appserver.notifications.waiting)  # the long poll is waiting
    bob = await login(server, "bob", resource="desk")
    bob.send_message(mto="alice@localhost", mbody="Hi", mtype="chat")
    status, n = await waiting
    assert status == 200 and n["node"] == "n1" and n["account"] == "alice"
    assert n["fields"]["last-message-body"] == "Hi" and n["publish_options"] == {"secret": "s"}
    status, listed = await http("GET", url(server, f"push/notifications?since={n['seq'] - 1}"
                                                       "&node=n1"))
    assert [x["seq"] for x in listed] == [n["seq"]]
    status, _ = await http("GET", url(server, f"push/notifications/wait?since={n['seq']}"
                                                  "&timeout=0.3"))
    assert status == 408
    # Offline queue, read-only.
    status, queue = await http("GET", url(server, "offline/alice"))
    assert status == 200 and len(queue) == 1
    assert_xml(queue[0], "<message type='chat' to='alice@localhost'><body>Hi</body></message>")
    # Fail the node: the registration goes, and the events say why.
    assert (await http("POST", url(server, "push/fail"),
                           {"node": "n1", "condition": "item-not-found"}))[0] == 200
    bob.send_message(mto="alice@localhost", mbody="again", mtype="chat")
    await eventually(lambda: server.storage.push.registrations("alice") == [])
    status, state = await http("GET", url(server, "state"))
    assert [e["event"] for e in state["push_events"]][:2] == ["auto-disabled", "enabled"]
    assert (await http("POST", url(server, "push/recover"), {"node": "n1"}))[0] == 200
    assert server.appserver.failures == {}
    assert (await http("DELETE", url(server, "push/notifications")))[0] == 204
    assert (await http("GET", url(server, "push/notifications")))[1] == []
    await close(bob)


@pytest.mark.server_options(**HTTP)
async def test_delete_registrations(server) -> None:
    alice = await login(server, "alice", resource="phone")
    await enable_push(alice, "a")
    await enable_push(alice, "b")
    status, body = await http("DELETE", url(server, "push/registrations?account=alice&node=a"))
    assert status == 200 and body == {"removed": 1}
    assert [r.node for r in server.storage.push.registrations("alice")] == ["b"]
    await close(alice)


@pytest.mark.server_options(**HTTP)
async def test_reset_returns_to_a_clean_state(server) -> None:
    assert (await http("POST", url(server, "accounts"),
                           {"name": "temp", "password": "pw"}))[0] == 201
    alice = await login(server, "alice", resource="phone")
    await enable_push(alice, "n")
    await close(alice)
    bob = await login(server, "bob")
    bob.send_message(mto="alice@localhost", mbody="Hi", mtype="chat")
    await eventually(lambda: server.appserver.notifications)
    status, body = await http("POST", url(server, "reset"))
    assert status == 200 and body["accounts"] == ["alice", "bob", "carol"]
    await eventually(lambda: bob.stream_errors == ["reset"])
    assert server.storage.offline.count("alice") == 0
    assert server.storage.push.users() == [] and list(server.appserver.notifications) == []
    await eventually(lambda: len(server.sessions) == 0)  # bob's stream is closed
    alice = await login(server, "alice")  # configured accounts still work
    await close(alice)
