"""The prosody profile against Prosody 13's mod_cloud_notify (docs/push.md, "Profiles"):
the ack-delayed push, a hibernated queue's important and unimportant pushes, the
important body, call proposals, cloud-notify-ping and the summary field for field. Each
behaviour also runs under a profile that lacks it. Time is the server's manual clock."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from typing import Any

import pytest

from tests.helpers import (
    barrier,
    close,
    enable_push,
    eventually,
    future,
    http,
    login,
)
from tests.testing.test_faults_clock import session_of, sm_phone

X = "{jabber:x:data}"
PHONE = "alice@localhost/phone"
MANUAL = dict(clock="manual")


def form_of(n: Any) -> ET.Element | None:
    """The summary form of a notification as the App Server received it."""
    return ET.fromstring(n.xml).find(".//{urn:xmpp:push:0}notification/" + X + "x")


def typed(n: Any) -> dict[str, tuple[str | None, str | None]]:
    """var → (type, value) of each summary field, on the wire."""
    form = form_of(n)
    assert form is not None
    return {f.get("var"): (f.get("type"), f.findtext(X + "value"))
            for f in form.findall(X + "field")}


async def push_phone(test_server: Any, node: str = "n") -> Any:
    """alice's phone with stream management and a push registration, everything acked."""
    server = test_server.server
    phone = await sm_phone(server)
    await enable_push(phone, node)
    await eventually(lambda: not session_of(server, PHONE).sm.queue)
    return phone


async def asked_for_acks(server: Any) -> None:
    """The server sent its ``<r/>`` after the message (on the next real turn): the
    ack-delay timer, if the profile has one, now runs on the manual clock."""
    await eventually(lambda: session_of(server, PHONE).sm.queue)
    await barrier(await login(server, "carol"))


# -- (a) the ack-delayed push ---------------------------------------------------------------

@pytest.mark.parametrize("profile, pushes", [("prosody", 1), ("minixmpp", 1), ("ejabberd", 0)])
async def test_a_stalled_open_connection_pushes_once_after_30_s_unacknowledged(
        xmpp_server_factory, profile, pushes) -> None:
    test_server = xmpp_server_factory(user=("alice:alice", "bob:bob", "carol:carol"),
                                      push_profile=profile, **MANUAL)
    server = test_server.server
    phone = await push_phone(test_server)
    test_server.stall(PHONE, 120)  # a half-dead radio link: the connection stays open
    bob = await login(server, "bob", resource="desk")
    bob.send_message(mto="alice@localhost", mbody="are you there?", mtype="chat")
    await barrier(bob)
    await asked_for_acks(server)
    sent = test_server.now()
    test_server.advance(29.5)
    assert test_server.notifications(account="alice") == []
    test_server.advance(2)  # 30 s without <a/>, then Prosody's 1 s push timer
    if not pushes:  # ejabberd pushes only once the session hibernates
        assert test_server.notifications(account="alice") == []
        await future(test_server.assert_not_pushed_because("alice", "online"))
        phone.abort()
        await close(bob)
        return
    [n] = test_server.notifications(account="alice")
    assert 30 <= n.time - sent <= 32
    assert n.fields["last-message-body"] == "are you there?"
    decision = await future(test_server.assert_pushed_because("alice", "ack-delayed"))
    assert "unacknowledged for 30 s" in decision.detail
    assert session_of(server, PHONE).hibernated is False  # still the open connection
    # more stanzas in the same episode: no second push
    bob.send_message(mto="alice@localhost", mbody="hello?", mtype="chat")
    await barrier(bob)
    test_server.advance(40)
    assert len(test_server.notifications(account="alice")) == 1
    phone.abort()
    await close(bob)


@pytest.mark.server_options(push_profile="prosody", push_ack_delay=0, **MANUAL)
async def test_push_ack_delay_0_turns_the_ack_delayed_push_off(test_server) -> None:
    server = test_server.server
    phone = await push_phone(test_server)
    test_server.stall(PHONE, 120)
    bob = await login(server, "bob")
    bob.send_message(mto="alice@localhost", mbody="there?", mtype="chat")
    await barrier(bob)
    await asked_for_acks(server)
    test_server.advance(60)
    assert test_server.notifications(account="alice") == []
    phone.abort()
    await close(bob)


# -- (b), (c), (f) a hibernated queue, the important body, the summary ---------------------

CHAT_STATE = ("<message xmlns='jabber:client' to='alice@localhost' type='chat' id='cs1'>"
              "<composing xmlns='http://jabber.org/protocol/chatstates'/></message>")


@pytest.mark.server_options(push_profile="prosody", push_privacy=True, **MANUAL)
async def test_prosody_pushes_an_unimportant_stanza_bodyless_and_an_important_one_with_its_body(
        test_server) -> None:
    server = test_server.server
    await push_phone(test_server)
    test_server.drop(PHONE)
    await eventually(lambda: session_of(server, PHONE).hibernated)
    bob = await login(server, "bob", resource="desk")
    bob.send_raw(CHAT_STATE)  # typing: not important
    bob.send_message(mto="alice@localhost", mbody="secret", mtype="chat")
    bob.send_message(mto="alice@localhost", mbody="more", mtype="chat")
    await barrier(bob)
    assert test_server.notifications(account="alice") == []  # batched for 1 s
    test_server.advance(1)
    unimportant, important = test_server.notifications(account="alice")
    empty = {"pending-subscription-count": ("text-single", None),
             "last-message-sender": ("jid-single", None)}
    assert typed(unimportant) == {"FORM_TYPE": ("hidden", "urn:xmpp:push:summary"),
                                  "message-count": ("text-single", "1"), **empty,
                                  "last-message-body": ("text-single", None)}
    assert typed(important) == {"FORM_TYPE": ("hidden", "urn:xmpp:push:summary"),
                                "message-count": ("text-single", "1"), **empty,
                                "last-message-body": ("text-single", "New Message!")}
    assert form_of(important).get("type") == "form"
    rules = [(d.rule, d.pushed) for d in test_server.push_decisions("alice")]
    assert rules[-5:] == [("not-push-worthy", False), ("batched", False), ("batched", False),
                          ("unimportant", True), ("hibernated", True)]
    await close(bob)


@pytest.mark.server_options(push_privacy=True, **MANUAL)
async def test_minixmpp_pushes_only_the_message_with_its_own_placeholder(test_server) -> None:
    server = test_server.server
    await push_phone(test_server)
    test_server.drop(PHONE)
    await eventually(lambda: session_of(server, PHONE).hibernated)
    bob = await login(server, "bob", resource="desk")
    bob.send_raw(CHAT_STATE)
    bob.send_message(mto="alice@localhost", mbody="secret", mtype="chat")
    await barrier(bob)
    test_server.advance(1)
    [n] = test_server.notifications(account="alice")
    assert n.fields == {"message-count": "1", "last-message-body": "New message"}
    assert form_of(n).get("type") == "submit"
    await close(bob)


@pytest.mark.server_options(push_profile="prosody", **MANUAL)
async def test_prosody_summary_without_privacy_has_sender_and_body_and_every_field(
        test_server) -> None:
    server = test_server.server
    phone = await login(server, "alice", resource="phone")
    await enable_push(phone, "n")
    await close(phone)
    await eventually(lambda: not server.sessions.of("alice"))
    bob = await login(server, "bob", resource="desk")
    bob.send_message(mto="alice@localhost", mbody="Hi", mtype="chat")
    n = await future(test_server.wait_for_push(account="alice"))
    assert typed(n) == {"FORM_TYPE": ("hidden", "urn:xmpp:push:summary"),
                        "message-count": ("text-single", "1"),
                        "pending-subscription-count": ("text-single", None),
                        "last-message-sender": ("jid-single", "bob@localhost/desk"),
                        "last-message-body": ("text-single", "Hi")}
    await close(bob)


@pytest.mark.server_options(push_profile="prosody", **MANUAL)
async def test_prosody_pushes_what_was_unacknowledged_when_the_connection_was_lost(
        test_server) -> None:
    server = test_server.server
    phone = await push_phone(test_server)
    test_server.stall(PHONE, 600)
    bob = await login(server, "bob", resource="desk")
    bob.send_message(mto="alice@localhost", mbody="lost in the air", mtype="chat")
    await barrier(bob)
    await eventually(lambda: session_of(server, PHONE).sm.queue)
    test_server.drop(PHONE)  # the server notices the dead link: hibernation starts
    await eventually(lambda: session_of(server, PHONE).hibernated)
    [n] = test_server.notifications(account="alice")  # at once, no timer
    assert n.fields["last-message-body"] == "lost in the air"
    decision = await future(test_server.assert_pushed_because("alice", "hibernated"))
    assert "unacknowledged when its connection was lost" in decision.detail
    phone.abort()
    await close(bob)


# -- (d) call proposals -----------------------------------------------------------------------

PROPOSE = ("<message xmlns='jabber:client' to='alice@localhost' type='chat' id='call1'>"
           "<propose xmlns='urn:xmpp:jingle-message:0' id='sid1'>"
           "<description xmlns='urn:xmpp:jingle:apps:rtp:1' media='audio'/></propose>"
           "<store xmlns='urn:xmpp:hints'/></message>")


@pytest.mark.parametrize("profile, pushed", [("prosody", True), ("minixmpp", False)])
async def test_a_call_proposal_pushes_every_registration_under_prosody(
        xmpp_server_factory, profile, pushed) -> None:
    """Prosody's is_urgent: a propose goes to every registration at once, even with the
    phone online; without Tigase's jingle extension minixmpp does not push it."""
    test_server = xmpp_server_factory(user=("alice:alice", "bob:bob"), push_profile=profile,
                                      push_privacy=True)
    server = test_server.server
    tablet = await login(server, "alice", resource="tablet")
    await enable_push(tablet, "tablet-node")
    await close(tablet)
    phone = await login(server, "alice", resource="phone")  # online, plainly available
    await enable_push(phone, "phone-node")
    bob = await login(server, "bob", resource="desk")
    bob.send_raw(PROPOSE)
    await barrier(bob)
    pushes = {n.node: n for n in test_server.notifications(account="alice")}
    if not pushed:
        assert pushes == {}
        await future(test_server.assert_not_pushed_because("alice", "online",
                                                           node="phone-node"))
    else:
        assert set(pushes) == {"tablet-node", "phone-node"}
        assert pushes["phone-node"].fields["last-message-body"] == "New Message!"
        await future(test_server.assert_pushed_because("alice", "call", node="phone-node"))
    await close(phone, bob)


# -- (e) cloud-notify-ping ------------------------------------------------------------------

@pytest.mark.parametrize("profile", ["prosody", "ejabberd"])
async def test_a_ping_pushes_for_no_message_in_the_profiles_shape(xmpp_server_factory,
                                                                  profile) -> None:
    """Prosody's cloud-notify-ping: handle_notify_request with no stanza, a form with
    message-count 1 and nothing else; ejabberd's push for no message has no form."""
    test_server = xmpp_server_factory(user=("alice:alice",), push_profile=profile)
    server = test_server.server
    alice = await login(server, "alice", resource="phone")
    await enable_push(alice, "n1")
    await enable_push(alice, "n2")
    status, body = await http("POST", f"{test_server.http_url}/api/push/ping",
                              {"account": "alice"})
    assert status == 200 and body == {"account": "alice", "node": None, "pushed": 2}
    await eventually(lambda: len(test_server.notifications(account="alice")) == 2)
    n = test_server.notifications(account="alice")[0]
    if profile == "prosody":
        assert typed(n)["message-count"] == ("text-single", "1")
        assert n.fields == {"message-count": "1", "pending-subscription-count": "",
                            "last-message-sender": "", "last-message-body": ""}
    else:
        assert form_of(n) is None and "<notification xmlns='urn:xmpp:push:0'/>" in n.xml
    await future(test_server.assert_pushed_because("alice", "ping"))
    assert test_server.push_ping("alice", "n2") == 1
    status, _ = await http("POST", f"{test_server.http_url}/api/push/ping",
                           {"account": "alice", "node": "nope"})
    assert status == 409
    await close(alice)
