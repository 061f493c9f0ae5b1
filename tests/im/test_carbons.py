"""Message carbons (XEP-0280): copies to the other resources, never pushed."""

from __future__ import annotations

from tests.helpers import (
    barrier,
    close,
    enable_push,
    eventually,
    login,
)


async def carbon_client(server, resource, **kw):
    c = await login(server, "alice", resource=resource, plugins=("xep_0280",), **kw)
    received, sent = [], []
    c.add_event_handler("carbon_received", received.append)
    c.add_event_handler("carbon_sent", sent.append)
    await c["xep_0280"].enable()
    return c, received, sent


async def test_carbons_reach_the_other_resource_and_never_push(server) -> None:
    desk, _, _ = await carbon_client(server, "desk", priority=5)
    phone, received, sent = await carbon_client(server, "phone", show="xa", priority=0)
    await enable_push(phone, "phone-node", away=True)
    bob = await login(server, "bob", resource="tablet")
    # Bob → alice (bare JID): desk (higher priority) gets it, phone gets a copy.
    bob.send_message(mto="alice@localhost", mbody="to alice", mtype="chat")
    assert (await desk.next_message())["body"] == "to alice"
    await eventually(lambda: received)
    inner = received[0]["carbon_received"]
    assert inner["body"] == "to alice" and inner["from"].full == "bob@localhost/tablet"
    assert received[0]["from"].full == "alice@localhost"
    # Desk → bob: the phone gets a "sent" copy.
    desk.send_message(mto="bob@localhost", mbody="from desk", mtype="chat")
    await eventually(lambda: sent)
    assert sent[0]["carbon_sent"]["body"] == "from desk"
    assert sent[0]["carbon_sent"]["to"].bare == "bob@localhost"
    # Private messages are not copied.
    message = desk.make_message(mto="bob@localhost", mbody="secret", mtype="chat")
    message.xml.append(__import__("xml.etree.ElementTree", fromlist=["Element"]).Element(
        "{urn:xmpp:carbons:2}private"))
    message.send()
    await barrier(desk)
    await barrier(phone)
    assert len(sent) == 1
    # Desk is plainly available: none of this pushed.
    assert server.appserver.find(account="alice") == []
    await close(desk, phone, bob)


async def test_carbons_disabled_means_no_copies(server) -> None:
    desk, _, _ = await carbon_client(server, "desk", priority=5)
    phone, received, _ = await carbon_client(server, "phone")
    await phone["xep_0280"].disable()
    bob = await login(server, "bob", plugins=("xep_0030",))
    bob.send_message(mto="alice@localhost", mbody="hi", mtype="chat")
    await desk.next_message()
    await barrier(phone)
    assert received == []
    # Positive control: enabled again, the next message is copied.
    await phone["xep_0280"].enable()
    bob.send_message(mto="alice@localhost", mbody="again", mtype="chat")
    await desk.next_message()
    await eventually(lambda: received)
    info = await bob["xep_0030"].get_info(jid="localhost")
    assert "urn:xmpp:carbons:2" in info["disco_info"]["features"]
    await close(desk, phone, bob)


