"""Push decisions (docs/push.md "Decisions"): for every message to an account with push
registrations, one decision per registration, pushed or not and by which rule, from
Python (``push_decisions``, ``assert_pushed_because``, ``assert_not_pushed_because``) and
over HTTP (``GET /api/push/decisions``, ``/wait``)."""

from __future__ import annotations

import pytest

from tests.helpers import (
    barrier,
    close,
    enable_push,
    eventually,
    future,
    http,
    login,
    wait_push,
)
from tests.push.helpers import enable_iq

KEYS = {"seq", "time", "account", "jid", "node", "pushed", "rule", "detail", "profile",
        "stanza_id"}


async def test_online_and_available_is_not_pushed_and_says_why(test_server) -> None:
    server = test_server.server
    phone = await login(server, "alice", resource="phone")
    await enable_push(phone, "n1")
    bob = await login(server, "bob")
    bob.send_message(mto="alice@localhost", mbody="you are here", mtype="chat")
    decision = await future(test_server.assert_not_pushed_because("alice", "online"))
    assert decision.node == "n1" and decision.jid == "push.localhost"
    assert decision.profile == "minixmpp" and "away='true'" in decision.detail
    with pytest.raises(AssertionError, match="expected pushed because away, was not "
                                             "pushed because online"):
        await future(test_server.assert_pushed_because("alice", "away"))
    await close(phone, bob)


async def test_away_session_with_an_away_registration_pushes_because_away(test_server
                                                                           ) -> None:
    server = test_server.server
    phone = await login(server, "alice", resource="phone", show="away")
    await enable_push(phone, "n1", away=True)
    bob = await login(server, "bob")
    since = test_server.push_decisions()[-1].seq if test_server.push_decisions() else 0
    message = bob.make_message(mto="alice@localhost", mbody="while away", mtype="chat")
    message["id"] = "m-away"
    message.send()
    decision = await future(test_server.assert_pushed_because("alice", "away", since=since))
    assert decision.stanza_id == "m-away" and decision.pushed
    push = await wait_push(server, account="alice")
    assert push.fields["last-message-body"] == "while away"
    # the same registration while the session is plainly available: not pushed
    phone.send_presence()
    await barrier(phone)
    bob.send_message(mto="alice@localhost", mbody="now you are back", mtype="chat")
    decision = await future(test_server.assert_not_pushed_because(
        "alice", "plainly-available", since=decision.seq))
    assert "alice@localhost/phone is plainly available" in decision.detail
    await close(phone, bob)


async def test_muted_sender_records_the_muted_rule(test_server) -> None:
    server = test_server.server
    phone = await login(server, "alice", resource="phone")
    await enable_iq(phone, "n", "<muted xmlns='tigase:push:filter:muted:0'>"
                                "<item jid='bob@localhost'/></muted>").send(timeout=5)
    await close(phone)
    await eventually(lambda: not server.sessions.of("alice"))
    bob = await login(server, "bob")
    bob.send_message(mto="alice@localhost", mbody="from a muted sender", mtype="chat")
    decision = await future(test_server.assert_not_pushed_because("alice", "muted"))
    assert decision.detail == "bob@localhost is muted"
    carol = await login(server, "carol")
    carol.send_message(mto="alice@localhost", mbody="from carol", mtype="chat")
    await future(test_server.assert_pushed_because("alice", "offline", since=decision.seq))
    await close(bob, carol)


async def test_offline_pushes_and_a_chat_state_is_not_push_worthy(test_server) -> None:
    server = test_server.server
    phone = await login(server, "alice", resource="phone")
    await enable_push(phone, "n1")
    await enable_push(phone, "n2")
    await close(phone)
    await eventually(lambda: not server.sessions.of("alice"))
    bob = await login(server, "bob", plugins=("xep_0085",))
    bob.send_message(mto="alice@localhost", mbody="one push per registration", mtype="chat")
    await barrier(bob)
    decisions = test_server.push_decisions("alice")
    assert [(d.node, d.pushed, d.rule) for d in decisions] == \
        [("n1", True, "offline"), ("n2", True, "offline")]
    composing = bob.make_message(mto="alice@localhost", mtype="chat")
    composing["chat_state"] = "composing"
    composing.send()
    decision = await future(test_server.assert_not_pushed_because(
        "alice", "not-push-worthy", node="n2", since=decisions[-1].seq))
    assert decision.detail == "no body and no encrypted payload"
    await close(bob)


async def test_a_blocked_sender_records_blocked(test_server) -> None:
    server = test_server.server
    phone = await login(server, "alice", resource="phone", plugins=("xep_0191",))
    await enable_push(phone, "n1")
    await phone["xep_0191"].block("bob@localhost")
    await close(phone)
    bob = await login(server, "bob")
    bob.send_message(mto="alice@localhost", mbody="blocked", mtype="chat")
    decision = await future(test_server.assert_not_pushed_because("alice", "blocked"))
    assert "bob@localhost is blocked" in decision.detail
    await close(bob)


@pytest.mark.server_options(push_profile="mongooseim")
async def test_the_profile_is_given_and_its_own_rules_are_named(test_server) -> None:
    from tests.testing.test_faults_clock import sm_phone

    server = test_server.server
    phone = await sm_phone(server)
    await enable_push(phone, "n1")
    test_server.drop("alice@localhost/phone")
    await eventually(lambda: server.sessions.of("alice")[0].hibernated)
    bob = await login(server, "bob")
    bob.send_message(mto="alice@localhost", mbody="hi", mtype="chat")
    decision = await future(test_server.assert_not_pushed_because("alice", "profile"))
    assert decision.profile == "mongooseim"
    assert decision.detail == "the mongooseim profile does not push for hibernated sessions"
    await close(bob)


async def test_http_lists_filters_and_waits_for_decisions(test_server) -> None:
    server = test_server.server
    api = f"{test_server.http_url}/api/push/decisions"
    phone = await login(server, "alice", resource="phone")
    await enable_push(phone, "n1")
    await close(phone)
    await eventually(lambda: not server.sessions.of("alice"))
    bob = await login(server, "bob")
    waiting = http("GET", f"{api}/wait?account=alice&pushed=true&timeout=5")
    bob.send_message(mto="alice@localhost", mbody="over http", mtype="chat")
    status, got = await waiting
    assert status == 200 and set(got) == KEYS
    assert (got["account"], got["pushed"], got["rule"], got["node"]) == \
        ("alice", True, "offline", "n1")
    status, listed = await http("GET", f"{api}?account=alice&rule=offline")
    assert status == 200 and [d["seq"] for d in listed] == [got["seq"]]
    status, listed = await http("GET", f"{api}?account=alice&pushed=false")
    assert status == 200 and listed == []
    status, body = await http("GET", f"{api}?account=nobody")
    assert status == 404 and "nobody" in body["error"]
    for bad in ("rule=because", "pushed=maybe", "since=x"):
        status, _ = await http("GET", f"{api}?{bad}")
        assert status == 400, bad
    status, body = await http("GET", f"{api}/wait?account=alice&since={got['seq']}"
                                     "&timeout=0.2")
    assert status == 408 and "no matching decision" in body["error"]
    # deleting the account removes its decisions
    status, _ = await http("DELETE", f"{test_server.http_url}/api/accounts/alice")
    assert status == 204 and test_server.push_decisions("alice") == []
    await close(bob)


@pytest.mark.server_options(push_history=0)
async def test_history_zero_records_no_decisions(test_server) -> None:
    server = test_server.server
    phone = await login(server, "alice", resource="phone")
    await enable_push(phone, "n1")
    await close(phone)
    await eventually(lambda: not server.sessions.of("alice"))
    bob = await login(server, "bob")
    bob.send_message(mto="alice@localhost", mbody="still pushed", mtype="chat")
    await wait_push(server, account="alice")  # the push itself is not affected
    assert test_server.push_decisions() == []
    await close(bob)


@pytest.mark.server_options(component=("pushapp.localhost:s3cret",),
                            components="tcp:0:interface=127.0.0.1")
async def test_the_generator_drives_1000_pushes_to_an_external_app_server(test_server
                                                                          ) -> None:
    from tests.push.test_component import start_component

    server = test_server.server
    app = await start_component(server)
    phone = await login(server, "alice", resource="phone")
    await enable_push(phone, "load", jid="pushapp.localhost")
    await close(phone)
    status, report = await http("POST", f"{test_server.http_url}/api/push/generate",
                                {"account": "alice", "count": 1000, "rate": 500})
    assert status == 200, report
    assert (report["sent"], report["answered"], report["errors"]) == (1000, 1000, {})
    assert len(app.publishes) == 1000
    nodes = {iq.xml.find(".//{http://jabber.org/protocol/pubsub}publish").get("node")
             for iq in app.publishes}
    assert nodes == {"load"}
    assert report["elapsed_s"] >= 1.9  # paced at 500/s, not sent at once
    latency = report["latency_ms"]
    assert 0 < latency["p50"] <= latency["p90"] <= latency["p99"] <= latency["max"]
    generated = test_server.push_decisions("alice")
    assert len(generated) == 1000 and {d.rule for d in generated} == {"generated"}
    app.disconnect()


async def test_the_generator_refuses_beyond_its_bounds(test_server) -> None:
    api = f"{test_server.http_url}/api/push/generate"
    phone = await login(test_server.server, "alice", resource="phone")
    for body, status in (
            ({"account": "alice", "count": 1, "rate": 1}, 409),  # no registrations yet
            ({"account": "nobody", "count": 1, "rate": 1}, 404),
            ({"account": "alice", "count": 10001, "rate": 10}, 400),
            ({"account": "alice", "count": 0, "rate": 10}, 400),
            ({"account": "alice", "count": 10, "rate": 1001}, 400),
            ({"account": "alice", "count": 10, "rate": 0}, 400),
            ({"account": "alice", "count": 1000, "rate": 1}, 400),  # 1000 s: too long
            ({"count": 1, "rate": 1}, 400)):
        got, answer = await http("POST", api, body)
        assert got == status, (body, answer)
    await enable_push(phone, "n1")
    report = await future(test_server.generate_pushes("alice", 20, 1000))
    assert (report["sent"], report["answered"]) == (20, 20)
    assert len(test_server.server.appserver.find(account="alice", node="n1")) == 20
    await close(phone)
