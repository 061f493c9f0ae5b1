"""What real App Servers expect and do, on the in-process one (docs/push.md, "Profiles"):
p2's registration by ad-hoc command and its secret, fpush's token as the node and its
``wait`` errors under rate limits, and MongooseIM's virtual pubsub host, where a push
crosses no wire at all."""

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
    iq_error,
    login,
    push_iq,
)
from tests.push.test_tigase import offline_with_a_message

X = "{jabber:x:data}"
COMMANDS = "http://jabber.org/protocol/commands"


def command(client: Any, node: str, fields: dict[str, str] | None) -> Any:
    """An XEP-0050 execute to the App Server, with a submitted form."""
    iq = client.make_iq_set(ito="push.localhost")
    element = ET.SubElement(iq.xml, f"{{{COMMANDS}}}command", node=node, action="execute")
    if fields is not None:
        form = ET.SubElement(element, X + "x", type="submit")
        for var, value in fields.items():
            ET.SubElement(ET.SubElement(form, X + "field", var=var), X + "value").text = value
    return iq


def form_values(result: Any) -> dict[str, str]:
    form = result.xml.find(f"{{{COMMANDS}}}command/{X}x")
    return {f.get("var"): f.findtext(X + "value") for f in form.findall(X + "field")}


# -- p2: registration by ad-hoc command, the secret on every publish --------------------------

async def test_p2_registration_by_command_then_pushes_need_the_secret(test_server) -> None:
    server = test_server.server
    alice = await login(server, "alice", resource="phone")
    token = "eeDXSJjASJY:APA91bEKxhXK54-vHhY9O55JmU2R0nDJL2rRENm"
    result = await command(alice, "register-push-fcm",
                           {"token": token, "android-id": "92afd7a91cdba9a0"}).send(timeout=5)
    answer = result.xml.find(f"{{{COMMANDS}}}command")
    assert answer.get("status") == "completed" and answer.get("node") == "register-push-fcm"
    assert result.xml.find(f"{{{COMMANDS}}}command/{X}x").get("type") == "form"
    got = form_values(result)
    assert got["jid"] == "push.localhost" and len(got["node"]) == 12 and len(got["secret"]) == 24
    again = form_values(await command(alice, "register-push-fcm", {
        "token": "a new token", "device-id": "92afd7a91cdba9a0"}).send(timeout=5))
    assert again == got  # the same device keeps its node and secret
    await enable_push(alice, got["node"], secret=got["secret"])
    await enable_push(alice, "n-wrong")  # a node p2 never gave: p2 does not know it
    await close(alice)
    await eventually(lambda: not server.sessions.of("alice"))
    bob = await login(server, "bob")
    bob.send_message(mto="alice@localhost", mbody="hi", mtype="chat")
    n = await future(test_server.wait_for_push(account="alice", node=got["node"]))
    assert n.publish_options == {"secret": got["secret"]} and n.sender == "localhost"
    # unregistered: the node is gone, the next publish answers item-not-found
    alice = await login(server, "alice", resource="phone")
    result = await command(alice, "unregister-push-fcm",
                           {"device-id": "92afd7a91cdba9a0"}).send(timeout=5)
    assert result.xml.find(f"{{{COMMANDS}}}command").get("status") == "completed"
    await close(alice)
    await eventually(lambda: not server.sessions.of("alice"))
    bob.send_message(mto="alice@localhost", mbody="still there?", mtype="chat")
    await barrier(bob)
    await eventually(lambda: [r.node for r in server.storage.push.registrations("alice")]
                     == ["n-wrong"])
    await close(bob)


async def test_p2_refuses_a_publish_without_the_right_secret(test_server) -> None:
    server = test_server.server
    alice = await login(server, "alice", resource="phone")
    got = form_values(await command(alice, "register-push-apns", {
        "token": "t", "device-id": "d"}).send(timeout=5))
    await enable_push(alice, got["node"], secret="not the secret")
    await close(alice)
    await eventually(lambda: not server.sessions.of("alice"))
    bob = await login(server, "bob")
    bob.send_message(mto="alice@localhost", mbody="hi", mtype="chat")
    await barrier(bob)
    await eventually(lambda: not server.storage.push.registrations("alice"))  # forbidden
    assert test_server.notifications(account="alice") == []
    await close(bob)


@pytest.mark.parametrize("node, fields, condition", [
    ("register-push-gcm", {"token": "t", "device-id": "d"}, "item-not-found"),
    ("register-push-fcm", {"device-id": "d"}, "bad-request"),
    ("register-push-fcm", {"token": "t"}, "bad-request"),
    ("register-push-fcm", None, "bad-request"),
    ("unregister-push-fcm", {"device-id": "never"}, "item-not-found"),
])
async def test_p2_commands_refuse_what_p2_refuses(test_server, node, fields, condition) -> None:
    alice = await login(test_server.server, "alice")
    assert await iq_error(command(alice, node, fields)) == condition
    await close(alice)


# -- fpush: the token is the node; wait errors under rate limits -----------------------------

FCM_TOKEN = "dQw4w9WgXcQ:APA91bHun4MxP5egoKMwt2KZFBaFUH-1RYqx"


@pytest.mark.parametrize("profile, kept", [("ejabberd", True), ("mongooseim", True),
                                           ("tigase", False)])
async def test_fpush_rate_limit_wait_errors_are_honoured_as_ejabberd_does(
        xmpp_server_factory, profile, kept) -> None:
    """fpush answered a rate-limited token with ``wait``/``resource-constraint`` (before
    it sent a result instead): ejabberd keeps the registration and pushes again later;
    Tigase disables on any condition but four."""
    test_server = xmpp_server_factory(user=("alice:alice", "bob:bob"), push_profile=profile)
    server = test_server.server
    alice = await login(server, "alice", resource="phone")
    iq = push_iq(alice, "enable", node=FCM_TOKEN, secret="apns",
                 form_type="http://jabber.org/protocol/pubsub#publish-options")
    form = iq.xml.find("{urn:xmpp:push:0}enable/" + X + "x")
    form.find(X + "field[@var='secret']").set("var", "pushModule")  # fpush's module field
    await iq.send(timeout=5)
    await close(alice)
    await eventually(lambda: not server.sessions.of("alice"))
    test_server.fail_push(FCM_TOKEN, "resource-constraint", type="wait", count=3)
    bob = await login(server, "bob")
    for i in range(3):
        bob.send_message(mto="alice@localhost", mbody=f"burst {i}", mtype="chat")
        await barrier(bob)
    await eventually(lambda: bool(server.storage.push.registrations("alice")) == kept)
    if not kept:
        return await close(bob)
    [r] = server.storage.push.registrations("alice")
    assert (r.node, r.errors, r.last_error) == (FCM_TOKEN, 0, "resource-constraint")
    bob.send_message(mto="alice@localhost", mbody="after the limit", mtype="chat")
    n = await future(test_server.wait_for_push(account="alice"))
    assert n.node == FCM_TOKEN and n.publish_options == {"pushModule": "apns"}
    await close(bob)


# -- MongooseIM: a virtual pubsub host -----------------------------------------------------

@pytest.mark.parametrize("virtual", [True, False])
async def test_mongooseim_virtual_pubsub_host_takes_pushes_without_a_publish(
        xmpp_server_factory, virtual) -> None:
    test_server = xmpp_server_factory(user=("alice:alice", "bob:bob"),
                                      push_profile="mongooseim", push_virtual_pubsub=virtual)
    server = test_server.server
    await offline_with_a_message(server, "device")
    [n] = test_server.notifications(account="alice")
    assert n.fields["last-message-body"] == "while you were out"
    if not virtual:
        assert n.via == "iq" and "<pubsub xmlns='http://jabber.org/protocol/pubsub'>" in n.xml
        return
    assert (n.via, n.xml, n.sender) == ("hook", "", "")  # no IQ, no reply, nobody sent it
    assert len(server.service("push").notifier.requests) == 0  # nothing awaits an answer
    await future(test_server.assert_pushed_because("alice", "offline"))
    # only the hook's "device not registered" disables; a failing push service is ignored
    test_server.fail_push("device", "internal-server-error", type="cancel", count=1)
    bob = await login(server, "bob")
    bob.send_message(mto="alice@localhost", mbody="two", mtype="chat")
    await barrier(bob)
    assert [r.node for r in server.storage.push.registrations("alice")] == ["device"]
    test_server.fail_push("device", "item-not-found")
    bob.send_message(mto="alice@localhost", mbody="three", mtype="chat")
    await barrier(bob)
    assert server.storage.push.registrations("alice") == []
    await close(bob)


def test_virtual_pubsub_is_mongooseims_alone() -> None:
    from minixmpp.config import ConfigError, Settings

    with pytest.raises(ConfigError, match="--push-profile mongooseim"):
        Settings.build({"push_virtual_pubsub": True})
    with pytest.raises(ConfigError, match="--no-push-component"):
        Settings.build({"push_virtual_pubsub": True, "push_profile": "mongooseim",
                        "no_push_component": True})
