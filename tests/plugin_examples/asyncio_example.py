"""What an asyncio user writes: pytest-asyncio or anyio, slixmpp, the async fixture."""

import asyncio
import xml.etree.ElementTree as ET

import pytest
import slixmpp


async def connect(server, user, resource="test"):
    c = slixmpp.ClientXMPP(f"{user}@{server.domain}/{resource}", user)
    c.enable_direct_tls, c.enable_starttls, c.enable_plaintext = False, False, True
    c.plugin["feature_mechanisms"].unencrypted_scram = True
    ready = asyncio.get_running_loop().create_future()
    c.add_event_handler("session_start", lambda _: ready.set_result(c))
    c.connect(server.host, server.port)
    await asyncio.wait_for(ready, 10)
    c.send_presence()
    return c


@pytest.mark.asyncio
async def test_push_with_slixmpp(async_xmpp_server):
    alice = await connect(async_xmpp_server, "alice", "phone")
    iq = alice.make_iq_set()
    iq.xml.append(ET.Element("{urn:xmpp:push:0}enable", jid=async_xmpp_server.push_jid,
                             node="device-token", away="true"))
    await iq.send()
    await alice.disconnect()
    bob = await connect(async_xmpp_server, "bob")
    bob.send_message(mto="alice@localhost", mbody="Hi Alice", mtype="chat")
    push = await async_xmpp_server.wait_for_push(account="alice", timeout=5)
    assert push.fields["last-message-body"] == "Hi Alice"
    await bob.disconnect()


@pytest.mark.asyncio
@pytest.mark.xmpp_server(user=["carol:pw"])
async def test_builtin_client_and_failing_app_server(async_xmpp_server):
    dave = async_xmpp_server.create_account("dave", "pw2")
    phone = await async_xmpp_server.login(dave, resource="phone")
    await phone.enable_push("gone", service=async_xmpp_server.push_jid)
    await phone.disconnect()
    async_xmpp_server.fail_push("gone", "item-not-found")
    carol = await async_xmpp_server.login(async_xmpp_server.account("carol", "pw"), tls=False)
    carol.send_message("dave@localhost", "anyone?")
    await async_xmpp_server.assert_no_push(account="dave", after=carol)
    registrations = await async_xmpp_server.call(
        async_xmpp_server.server.storage.push.registrations, "dave")
    assert registrations == []
    await carol.disconnect()


@pytest.mark.anyio
async def test_anyio_too(async_xmpp_server, anyio_backend):
    alice = await async_xmpp_server.login("alice", tls=False)
    bob = await async_xmpp_server.login("bob")
    alice.send_message("bob@localhost/test", f"over {anyio_backend}")
    assert str((await bob.next_message()).body) == f"over {anyio_backend}"
    await alice.disconnect()
    await bob.disconnect()
