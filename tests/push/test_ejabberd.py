"""The ejabberd profile against mod_push_keepalive (docs/push.md, "Profiles"): a wake push
shortly before a hibernated push session expires, the resume timeout of a push session
until its first push, and a push to every registration when the server starts. Each
behaviour also under a profile that lacks it; time is the server's manual clock."""

from __future__ import annotations

import pytest

from tests.helpers import (
    barrier,
    close,
    enable_push,
    eventually,
    future,
    login,
    start_session,
)
from tests.push.test_prosody import PHONE, push_phone
from tests.testing.test_faults_clock import session_of

#: ejabberd's defaults scaled down: mod_stream_mgmt 300 s, mod_push_keepalive 72 h
TIMEOUTS = dict(clock="manual", resume_timeout=300, resume_timeout_push=3600)


async def hibernate(test_server) -> float:
    """Drop alice's phone; returns when it hibernated."""
    test_server.drop(PHONE)
    await eventually(lambda: session_of(test_server.server, PHONE).hibernated)
    return test_server.now()


@pytest.mark.server_options(push_profile="ejabberd", **TIMEOUTS)
async def test_ejabberd_wakes_a_hibernated_session_before_it_expires_and_it_resumes(
        test_server) -> None:
    server = test_server.server
    phone = await push_phone(test_server, "phone-node")
    asleep = await hibernate(test_server)
    test_server.advance(3600 - 120 - 1)
    assert test_server.notifications(account="alice") == []
    test_server.advance(1)  # 120 s before the 3600 s run out (PUSH_BEFORE_TIMEOUT_PERIOD)
    [wake] = test_server.notifications(account="alice")
    assert wake.time - asleep == 3600 - 120
    assert wake.node == "phone-node" and wake.fields == {}
    assert "<notification xmlns='urn:xmpp:push:0'/>" in wake.xml  # no form: ejabberd's none
    decision = await future(test_server.assert_pushed_because("alice", "wake"))
    assert "resumable for 120 s more" in decision.detail
    test_server.advance(60)  # the client wakes up and resumes in time
    await start_session(phone)
    session = session_of(server, PHONE)
    assert session is not None and not session.hibernated
    # the registration still works: the next hibernation pushes the next message
    await eventually(lambda: not session.sm.queue)
    await hibernate(test_server)
    bob = await login(server, "bob", resource="desk")
    bob.send_message(mto="alice@localhost", mbody="after the wake", mtype="chat")
    await barrier(bob)
    pushed = test_server.notifications(account="alice", since=wake.seq)
    assert [n.fields.get("last-message-body") for n in pushed] == ["after the wake"]
    phone.abort()
    await close(bob)


@pytest.mark.server_options(**TIMEOUTS)
async def test_minixmpp_does_not_wake_a_hibernated_session_it_just_expires(test_server) -> None:
    server = test_server.server
    phone = await push_phone(test_server)
    await hibernate(test_server)
    test_server.advance(3599)
    assert test_server.notifications(account="alice") == []
    assert session_of(server, PHONE) is not None
    test_server.advance(2)
    assert session_of(server, PHONE) is None and test_server.notifications("alice") == []
    phone.abort()


@pytest.mark.server_options(push_profile="ejabberd", **TIMEOUTS)
async def test_ejabberd_keeps_a_push_session_until_a_message_pushes_then_the_normal_timeout(
        test_server) -> None:
    """mod_push_keepalive: 3600 s while nothing pushed; the first pushed message restores
    mod_stream_mgmt's 300 s, counted from then."""
    server = test_server.server
    phone = await push_phone(test_server)
    await hibernate(test_server)
    test_server.advance(1000)  # past 300 s: still resumable, the push timeout holds
    assert session_of(server, PHONE) is not None
    bob = await login(server, "bob", resource="desk")
    bob.send_message(mto="alice@localhost", mbody="wake up", mtype="chat")
    await barrier(bob)
    await future(test_server.assert_pushed_because("alice", "hibernated"))
    test_server.advance(299)
    assert session_of(server, PHONE) is not None
    test_server.advance(2)  # 300 s after the push: over, its message goes offline
    assert session_of(server, PHONE) is None
    assert server.storage.offline.count("alice") == 1
    assert not any(n.fields == {} for n in test_server.notifications("alice"))  # no wake
    phone.abort()
    await close(bob)


@pytest.mark.server_options(**TIMEOUTS)
async def test_minixmpp_keeps_the_push_timeout_for_the_whole_hibernation(test_server) -> None:
    server = test_server.server
    phone = await push_phone(test_server)
    await hibernate(test_server)
    bob = await login(server, "bob", resource="desk")
    bob.send_message(mto="alice@localhost", mbody="wake up", mtype="chat")
    await barrier(bob)
    test_server.advance(3599)
    assert session_of(server, PHONE) is not None
    test_server.advance(2)
    assert session_of(server, PHONE) is None
    phone.abort()
    await close(bob)


@pytest.mark.parametrize("wake, pushed", [(True, 2), (False, 0)])
async def test_wake_on_start_pushes_every_registration_when_the_server_starts(
        xmpp_server_factory, wake, pushed) -> None:
    test_server = xmpp_server_factory(user=("alice:alice", "bob:bob"), push_profile="ejabberd",
                                      push_wake_on_start=wake)
    server = test_server.server
    alice = await login(server, "alice", resource="phone")
    await enable_push(alice, "alice-node")
    bob = await login(server, "bob", resource="desk")
    await enable_push(bob, "bob-node")
    await future(test_server.restart())
    if not pushed:
        await barrier(await login(server, "alice", resource="again"))
        assert test_server.notifications() == []
        return
    await eventually(lambda: len(test_server.notifications()) == pushed)
    assert {n.node for n in test_server.notifications()} == {"alice-node", "bob-node"}
    assert all(n.fields == {} for n in test_server.notifications())  # ejabberd's none
    await future(test_server.assert_pushed_because("bob", "start"))


CHAT_STATE = ("<message xmlns='jabber:client' to='alice@localhost' type='chat' id='cs1'>"
              "<composing xmlns='http://jabber.org/protocol/chatstates'/></message>")


@pytest.mark.parametrize("profile, pushed", [("ejabberd", True), ("minixmpp", False)])
async def test_ejabberd_pushes_any_stanza_for_a_hibernated_session_as_an_empty_notification(
        xmpp_server_factory, profile, pushed) -> None:
    """mod_push:c2s_stanza notifies for every stanza sent to a pending session; one that
    is no chat message has no summary (make_summary: undefined)."""
    test_server = xmpp_server_factory(user=("alice:alice", "bob:bob"), push_profile=profile,
                                      **TIMEOUTS)
    phone = await push_phone(test_server, "phone-node")
    await hibernate(test_server)
    bob = await login(test_server.server, "bob", resource="desk")
    bob.send_raw(CHAT_STATE)
    await barrier(bob)
    found = test_server.notifications(account="alice")
    if not pushed:
        assert found == []
        await future(test_server.assert_not_pushed_because("alice", "not-push-worthy"))
    else:
        [n] = found
        assert n.fields == {} and "<notification xmlns='urn:xmpp:push:0'/>" in n.xml
        rules = [(d.rule, d.pushed, d.stanza_id) for d in test_server.push_decisions("alice")]
        assert rules[-2:] == [("unimportant", True, "cs1"),  # the queue, as it was queued
                              ("not-push-worthy", False, "cs1")]  # the message rules
    phone.abort()
    await close(bob)
