"""What a user writes: only the documented fixtures of the installed minixmpp plugin."""

import pytest
import pytest_twisted


@pytest_twisted.ensureDeferred
async def test_message_and_push(xmpp_server):
    phone = await xmpp_server.login("alice", resource="phone")
    await phone.enable_push("device-token", service=xmpp_server.push_jid,
                            publish_options={"secret": "s3cret"})
    await phone.disconnect()

    bob = await xmpp_server.login("bob")
    bob.send_message("alice@localhost", "Hi Alice")
    push = await xmpp_server.wait_for_push(account="alice", timeout=5)
    assert push.node == "device-token"
    assert push.fields["last-message-body"] == "Hi Alice"
    assert push.publish_options == {"secret": "s3cret"}

    phone = await xmpp_server.login("alice", resource="phone")
    phone.send_presence()
    message = await phone.next_message()
    assert str(message.body) == "Hi Alice"
    await xmpp_server.assert_no_push(account="alice", after=phone)
    await phone.disconnect()
    await bob.disconnect()


@pytest.mark.xmpp_server(user=["carol:pw"], push_privacy=True)
@pytest_twisted.ensureDeferred
async def test_marker_options_and_new_accounts(xmpp_server):
    dave = xmpp_server.create_account("dave", "pw2")
    carol = await xmpp_server.login(xmpp_server.account("carol", "pw"))
    carol.send_presence()  # available: messages to the bare JID come here
    client = await xmpp_server.login(dave, tls=False)
    client.send_message("carol@localhost", "hello")
    assert str((await carol.next_message()).body) == "hello"
    assert xmpp_server.server.settings.push_privacy
    await client.disconnect()
    await carol.disconnect()


@pytest_twisted.ensureDeferred
async def test_failing_app_server(xmpp_server):
    phone = await xmpp_server.login("alice", resource="phone")
    await phone.enable_push("gone", service=xmpp_server.push_jid)
    await phone.disconnect()
    xmpp_server.fail_push("gone", "item-not-found")
    bob = await xmpp_server.login("bob")
    bob.send_message("alice@localhost", "anyone?")
    await xmpp_server.assert_no_push(account="alice", after=bob)
    assert xmpp_server.server.storage.push.registrations("alice") == []
    await bob.disconnect()
