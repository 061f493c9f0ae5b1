"""What a notification says (XEP-0357 §7 summary form): --push-privacy, pending
subscriptions, encrypted messages."""

from __future__ import annotations

import pytest

from tests.helpers import (
    barrier,
    close,
    login,
    wait_push,
)
from tests.push.helpers import offline_alice_with_push


@pytest.mark.server_options(push_privacy=True)
async def test_privacy_mode_leaves_out_sender_and_body(server) -> None:
    await offline_alice_with_push(server)
    bob = await login(server, "bob")
    bob.send_message(mto="alice@localhost", mbody="secret stuff", mtype="chat")
    n = await wait_push(server, account="alice")
    assert n.fields == {"message-count": "1", "last-message-body": "New message"}
    await close(bob)


async def test_summary_counts_pending_subscription_requests(server) -> None:
    await offline_alice_with_push(server)
    carol = await login(server, "carol")
    carol.send_presence(pto="alice@localhost", ptype="subscribe")
    await barrier(carol)
    bob = await login(server, "bob")
    bob.send_message(mto="alice@localhost", mbody="hi", mtype="chat")
    n = await wait_push(server, account="alice")
    assert n.fields["pending-subscription-count"] == "1"
    await close(carol, bob)


async def test_encrypted_message_without_body_pushes_with_placeholder(server) -> None:
    from tests.raw import raw_login

    await offline_alice_with_push(server)
    bob = await raw_login(server, "bob", resource="desk")
    bob.send("<message to='alice@localhost' type='chat'><encrypted "
             "xmlns='eu.siacs.conversations.axolotl'><header sid='1'/><payload>AAAA</payload>"
             "</encrypted></message>")
    n = await wait_push(server, account="alice")
    assert n.fields["last-message-body"] == "New message"
    assert n.fields["last-message-sender"] == "bob@localhost/desk"
    bob.close()
