"""An external App Server over XEP-0114 receives the same publishes as the in-process one."""

from __future__ import annotations

from typing import Any

import pytest
from slixmpp.xmlstream.handler import Callback
from slixmpp.xmlstream.matcher import MatchXPath

from tests.helpers import (
    Component,
    Remote,
    barrier,
    close,
    enable_push,
    eventually,
    login,
    wait_push,
)
from tests.raw import Raw

COMPONENTS = dict(component=("pushapp.localhost:s3cret",), components="tcp:0:interface=127.0.0.1")
PUBLISH = "{jabber:component:accept}iq/{http://jabber.org/protocol/pubsub}pubsub"


class AppServerComponent(Component):
    """A tiny external App Server: records publishes, answers result."""

    def __init__(self, jid: str, secret: str, port: int) -> None:
        super().__init__(jid, secret, port)
        self.publishes: list[Any] = []
        self.stream_errors: list[str] = []
        self.register_handler(Callback("publish", MatchXPath(PUBLISH), self.on_publish))
        self.add_event_handler("stream_error", lambda e: self.stream_errors.append(
            e["condition"]))

    def on_publish(self, iq: Any) -> None:
        self.publishes.append(iq)
        iq.reply().send()


async def start_component(server: Any, secret: str = "s3cret") -> AppServerComponent:
    app = AppServerComponent("pushapp.localhost", secret, server.ports().components)
    await app.start()
    return app


@pytest.mark.server_options(**COMPONENTS)
async def test_external_app_server_receives_the_same_publish(server) -> None:
    app = await start_component(server)
    alice = await login(server, "alice", resource="phone")
    await enable_push(alice, "ext-node", jid="pushapp.localhost", secret="abc")
    await enable_push(alice, "int-node", secret="abc")
    await close(alice)
    bob = await login(server, "bob", resource="desk")
    bob.send_message(mto="alice@localhost", mbody="Hi", mtype="chat")
    internal = await wait_push(server, account="alice")
    await eventually(lambda: app.publishes)
    iq = app.publishes[0]
    assert iq["from"].full == "localhost" and iq["type"] == "set"
    xml = iq.xml
    ns = "{http://jabber.org/protocol/pubsub}"
    publish = xml.find(f"{ns}pubsub/{ns}publish")
    assert publish.get("node") == "ext-node"
    fields = {f.get("var"): f.find("{jabber:x:data}value").text for f in publish.iter(
        "{jabber:x:data}field")}
    assert fields == {"FORM_TYPE": "urn:xmpp:push:summary", "message-count": "1",
                      "last-message-sender": "bob@localhost/desk", "last-message-body": "Hi"}
    options = xml.find(f"{ns}pubsub/{ns}publish-options")
    assert {f.get("var"): f.find("{jabber:x:data}value").text
            for f in options.iter("{jabber:x:data}field")}["secret"] == "abc"
    assert internal.fields == {k: v for k, v in fields.items() if k != "FORM_TYPE"}
    # The component's result reply was matched: no error counted.
    def ext() -> Any:
        return {r.node: r for r in server.storage.push.registrations("alice")}["ext-node"]

    await eventually(lambda: ext().notifications == 1)
    assert ext().errors == 0
    await close(bob)
    app.disconnect()


@pytest.mark.server_options(**COMPONENTS)
async def test_wrong_component_secret_is_refused(server) -> None:
    app = AppServerComponent("pushapp.localhost", "wrong", server.ports().components)
    app.connect()
    await eventually(lambda: app.stream_errors)
    assert app.stream_errors == ["not-authorized"]
    assert "pushapp.localhost" not in server.router.routes
    app.disconnect()


@pytest.mark.server_options(**COMPONENTS)
async def test_unknown_component_name_is_host_unknown(server) -> None:
    raw = await Raw.connect(Remote(server.ports().components))
    raw.send("<stream:stream xmlns='jabber:component:accept' "
             "xmlns:stream='http://etherx.jabber.org/streams' to='other.localhost'>")
    await raw.stream_error("host-unknown")


@pytest.mark.server_options(**COMPONENTS)
async def test_component_may_only_send_from_its_own_domain(server) -> None:
    app = await start_component(server)
    bob = await login(server, "bob")
    app.send_message(mto="bob@localhost", mfrom="alice@localhost", mbody="I am alice")
    await eventually(lambda: app.stream_errors)
    assert app.stream_errors == ["invalid-from"]
    await barrier(bob)
    assert bob.messages == []
    app2 = await start_component(server)
    app2.send_message(mto="bob@localhost", mfrom="bot@pushapp.localhost", mbody="hello")
    got = await bob.next_message()
    assert got["body"] == "hello" and got["from"].full == "bot@pushapp.localhost"
    await close(bob)
    app2.disconnect()
