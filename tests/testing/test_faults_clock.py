"""Network faults and the test clock (docs/api.md "Faults", "The clock"): a session
dropped like a phone losing its network, stalled, delayed; listeners paused and the
server restarted; a manual clock that a test moves instead of waiting."""

from __future__ import annotations

import asyncio
import time

import pytest

from tests.helpers import (
    barrier,
    close,
    enable_push,
    eventually,
    future,
    http,
    login,
    start_session,
    wait_push,
)

SM = ("xep_0198",)


def session_of(server, full: str):
    from twisted.words.protocols.jabber.jid import JID

    return server.sessions.get(JID(full))


async def sm_phone(server, user: str = "alice"):
    phone = await login(server, user, resource="phone", plugins=SM)
    await eventually(lambda: session_of(server, f"{user}@localhost/phone").sm is not None)
    return phone


async def test_a_dropped_session_hibernates_pushes_once_and_resumes_with_the_message(
        test_server) -> None:
    server = test_server.server
    phone = await sm_phone(server)
    await enable_push(phone, "phone-node")
    test_server.drop("alice@localhost/phone")  # no stream close: the radio is gone
    await eventually(lambda: session_of(server, "alice@localhost/phone").hibernated)
    bob = await login(server, "bob")
    bob.send_message(mto="alice@localhost", mbody="are you there?", mtype="chat")
    push = await wait_push(server, account="alice")
    assert push.node == "phone-node"
    first = await future(test_server.assert_pushed_because("alice", "hibernated"))
    assert first.detail == "queued for alice@localhost/phone, hibernated"
    bob.send_message(mto="alice@localhost", mbody="still?", mtype="chat")
    await barrier(bob)  # handled, push decision included: rule 2 pushes once per sleep
    assert server.appserver.find(account="alice", since=push.seq) == []
    await future(test_server.assert_not_pushed_because("alice", "already-pushed",
                                                       since=first.seq))
    await start_session(phone)  # XEP-0198 §5: resumed, and what waited is delivered
    bodies = []
    await eventually(lambda: bodies.extend(m["body"] for m in phone.messages) or
                     {"are you there?", "still?"} <= set(bodies))
    await close(phone, bob)


async def test_drop_of_an_unknown_session_is_a_clear_error_over_http(test_server) -> None:
    api = f"{test_server.http_url}/api"
    status, body = await http("POST", f"{api}/sessions/nobody@localhost/phone/drop", {})
    assert status == 404 and "no live session" in body["error"]
    status, body = await http("POST", f"{api}/sessions/alice@localhost/stall",
                              {"seconds": -1})
    assert status == 400


async def test_stall_holds_what_is_sent_until_it_ends(test_server) -> None:
    server = test_server.server
    alice = await login(server, "alice")
    bob = await login(server, "bob")
    api = f"{test_server.http_url}/api"
    status, body = await http("POST", f"{api}/sessions/alice@localhost/test/stall",
                              {"seconds": 0.6})
    assert status == 200 and body["stalled"] == ["alice@localhost/test"]
    sent = time.monotonic()
    bob.send_message(mto="alice@localhost/test", mbody="after the stall", mtype="chat")
    got = await alice.next_message(timeout=5)
    assert got["body"] == "after the stall" and time.monotonic() - sent >= 0.5
    await close(alice, bob)


async def test_delay_makes_every_stanza_late_in_order(test_server) -> None:
    server = test_server.server
    alice = await login(server, "alice")
    bob = await login(server, "bob")
    test_server.delay("alice@localhost/test", 300)
    sent = time.monotonic()
    for n in range(3):
        bob.send_message(mto="alice@localhost/test", mbody=f"late {n}", mtype="chat")
    got = [(await alice.next_message(timeout=5))["body"] for _ in range(3)]
    assert got == ["late 0", "late 1", "late 2"] and time.monotonic() - sent >= 0.25
    test_server.delay("alice@localhost/test", 0)
    await close(alice, bob)


async def test_paused_listeners_make_connections_wait_and_restart_keeps_the_data(
        test_server) -> None:
    server = test_server.server
    port = server.port
    test_server.pause_accepting()
    pending = asyncio.ensure_future(login(server, "bob"))
    await asyncio.sleep(0.3)
    assert not pending.done()  # waits in the backlog, as while a server restarts
    test_server.resume_accepting()
    bob = await asyncio.wait_for(pending, 5)
    alice = await sm_phone(server)
    await enable_push(alice, "kept-node")
    await future(test_server.restart())
    await eventually(lambda: "system-shutdown" in alice.stream_errors)
    assert server.port == port  # the same port
    assert [r.node for r in server.storage.push.registrations("alice")] == ["kept-node"]
    again = await login(server, "alice")  # the listener is back
    await close(again, bob)


@pytest.mark.server_options(clock="manual", resume_timeout=60, resume_timeout_push=60)
async def test_with_a_manual_clock_a_hibernated_session_ends_when_the_test_says(
        test_server) -> None:
    server = test_server.server
    phone = await sm_phone(server)
    test_server.drop("alice@localhost/phone")
    await eventually(lambda: session_of(server, "alice@localhost/phone").hibernated)
    test_server.advance(59)  # not yet
    assert session_of(server, "alice@localhost/phone") is not None
    bob = await login(server, "bob")
    bob.send_message(mto="alice@localhost", mbody="queued", mtype="chat")
    await barrier(bob)  # the message is in the hibernated session's queue
    test_server.advance(2)  # XEP-0198: past the resume timeout the session is over
    assert session_of(server, "alice@localhost/phone") is None
    assert server.storage.offline.count("alice") == 1  # its message went offline
    api = f"{test_server.http_url}/api"
    status, clock = await http("GET", f"{api}/clock")
    assert status == 200 and clock["manual"] and abs(clock["seconds"] - test_server.now()) < 1
    status, moved = await http("POST", f"{api}/clock/advance", {"seconds": 10})
    assert status == 200 and moved["seconds"] >= clock["seconds"] + 10
    assert (await http("POST", f"{api}/clock/advance", {"seconds": -1}))[0] == 400
    assert (await http("POST", f"{api}/clock/advance", {"seconds": "x"}))[0] == 400
    phone.abort()
    await close(bob)


@pytest.mark.server_options(clock="manual", fast_token_lifetime=3600)
async def test_a_fast_token_expires_when_the_clock_passes_its_lifetime(test_server) -> None:
    from tests.c2s.sasl2 import (
        REQUEST_TOKEN,
        connect,
        fast_authenticate,
        scram_authenticate,
        token_of,
    )

    server = test_server.server
    raw, _ = await connect(server)
    token = token_of(await scram_authenticate(raw, "alice", REQUEST_TOKEN))
    raw.close()
    test_server.advance(3601)
    raw, _ = await connect(server)
    assert (await fast_authenticate(raw, "alice", token, count=1)).name == "failure"
    raw.close()


async def test_the_clock_is_real_unless_asked(test_server) -> None:
    status, body = await http("POST", f"{test_server.http_url}/api/clock/advance",
                              {"seconds": 1})
    assert status == 409 and "--clock manual" in body["error"]
    with pytest.raises(RuntimeError, match="manual clock"):
        test_server.advance(1)


@pytest.mark.server_options(clock="manual", bosh_max_inactivity=30)
async def test_with_a_manual_clock_bosh_and_acks_still_flow_and_inactivity_waits_for_the_test(
        test_server) -> None:
    from tests.c2s.bosh import Bosh

    server = test_server.server
    bosh = Bosh(server)
    await bosh.login("alice")  # every answer is flushed on the next turn, not a timer
    session = server.service("bosh").sessions[bosh.sid]
    session.wait = 0.2  # the hold is HTTP pacing: real time even on the manual clock
    assert (await bosh.send_text()).endswith("></body>")
    phone = await sm_phone(server, "bob")
    phone.send_message(mto="alice@localhost/bosh", mbody="on a manual clock", mtype="chat")
    assert "on a manual clock" in await bosh.send_text()
    # the server asks for acks on the next turn, not on a timer: what it sent the phone
    # is acknowledged without the test moving the clock
    await bosh.send_text("<message xmlns='jabber:client' to='bob@localhost/phone' type='chat'>"
                    "<body>to the phone</body></message>")
    await eventually(lambda: any(m["body"] == "to the phone" for m in phone.messages))
    await eventually(lambda: not session_of(server, "bob@localhost/phone").sm.queue)
    test_server.advance(29)
    assert bosh.sid in server.service("bosh").sessions
    test_server.advance(2)  # no request held for 31 s of the server's time
    assert bosh.sid not in server.service("bosh").sessions
    await close(phone)


async def test_resumption_across_a_restart_fails_as_in_prosody(test_server) -> None:
    import re

    from tests.rawtext import raw_authenticated, raw_login

    server = test_server.server
    raw = await raw_login(server, "alice", "phone")
    raw.send("<enable xmlns='urn:xmpp:sm:3' resume='true'/>")
    enabled = await raw.read_until("<enabled")
    previd = re.search(r"id='([^']+)'", enabled).group(1)
    test_server.drop("alice@localhost/phone")
    await eventually(lambda: session_of(server, "alice@localhost/phone").hibernated)
    await future(test_server.restart())  # the hibernated session does not survive it
    raw, _ = await raw_authenticated(server, "alice")
    raw.send(f"<resume xmlns='urn:xmpp:sm:3' previd='{previd}' h='0'/>")
    failed = await raw.read_until("</failed>|<failed[^>]*/>")
    assert "<failed xmlns='urn:xmpp:sm:3'" in failed and "item-not-found" in failed
    raw.close()
