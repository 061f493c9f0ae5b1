"""Client state indication (XEP-0352), and what it does to push (--push-csi-inactive)."""

from __future__ import annotations

import asyncio

import pytest
from twisted.words.protocols.jabber.jid import JID

from tests.helpers import barrier, close, enable_push, eventually, login, wait_push
from tests.raw import raw_login


async def test_csi_state_is_recorded(server) -> None:
    raw = await raw_login(server, "alice", resource="phone")
    raw.send("<inactive xmlns='urn:xmpp:csi:0'/>")
    session = lambda: server.sessions.get(JID("alice@localhost/phone"))  # noqa: E731
    await eventually(lambda: session().csi == "inactive")
    raw.send("<active xmlns='urn:xmpp:csi:0'/>")
    await eventually(lambda: session().csi == "active")
    raw.close()


@pytest.mark.parametrize("option", [False, True], ids=["default", "push-csi-inactive"])
async def test_inactive_session_pushes_only_with_the_option(server_factory, option) -> None:
    server = server_factory(push_csi_inactive=option)
    phone = await login(server, "alice", resource="phone")
    await enable_push(phone, "n")
    phone.send_raw("<inactive xmlns='urn:xmpp:csi:0'/>")
    await eventually(lambda: server.sessions.get(JID("alice@localhost/phone")).csi
                         == "inactive")
    bob = await login(server, "bob")
    bob.send_message(mto="alice@localhost", mbody="psst", mtype="chat")
    assert (await phone.next_message())["body"] == "psst"
    if option:
        n = await wait_push(server, account="alice")
        assert n.fields["last-message-body"] == "psst"
        bob.send_message(mto="alice@localhost", mbody="again", mtype="chat")
        await phone.next_message()
        await barrier(bob)
        assert len(server.appserver.find(account="alice")) == 1  # batched
    else:
        await barrier(bob)
        assert server.appserver.find(account="alice") == []
    await asyncio.sleep(0)
    await close(phone, bob)
