"""What the App Server's errors do to a registration (XEP-0357 §7): permanent errors,
transient ones counted, no reply at all."""

from __future__ import annotations

import pytest

from tests.helpers import (
    barrier,
    close,
    eventually,
    login,
    wait_push,
)
from tests.push.helpers import offline_alice_with_push


async def test_permanent_error_removes_registration_at_once(server) -> None:
    await offline_alice_with_push(server, "bad-node")
    server.appserver.fail("bad-node", "item-not-found")
    bob = await login(server, "bob")
    bob.send_message(mto="alice@localhost", mbody="1", mtype="chat")
    await eventually(lambda: server.storage.push.registrations("alice") == [])
    await close(bob)


@pytest.mark.server_options(push_max_errors=3)
async def test_transient_errors_remove_registration_after_the_count(server) -> None:
    await offline_alice_with_push(server, "flaky")
    server.appserver.fail("flaky", "internal-server-error", type="wait")
    bob = await login(server, "bob")
    for i in range(2):
        bob.send_message(mto="alice@localhost", mbody=str(i), mtype="chat")
        await eventually(lambda i=i: server.storage.push.registrations("alice")[0].errors
                             == i + 1)
    # A success in between resets the count.
    server.appserver.recover("flaky")
    bob.send_message(mto="alice@localhost", mbody="ok", mtype="chat")
    await wait_push(server, account="alice")
    await eventually(lambda: server.storage.push.registrations("alice")[0].errors == 0)
    server.appserver.fail("flaky", "service-unavailable")
    for i in range(3):
        bob.send_message(mto="alice@localhost", mbody=str(i), mtype="chat")
        await barrier(bob)
    await eventually(lambda: server.storage.push.registrations("alice") == [])
    await close(bob)


@pytest.mark.server_options(push_timeout=1, push_max_errors=2)
async def test_no_reply_takes_the_timeout_path(server) -> None:
    await offline_alice_with_push(server, "silent")
    server.appserver.fail("silent", None)
    bob = await login(server, "bob")
    bob.send_message(mto="alice@localhost", mbody="1", mtype="chat")
    await eventually(lambda: server.storage.push.registrations("alice")[0].last_error
                         == "timeout", timeout=3)
    bob.send_message(mto="alice@localhost", mbody="2", mtype="chat")
    await eventually(lambda: server.storage.push.registrations("alice") == [], timeout=3)
    # Message delivery never waited for the App Server.
    assert server.storage.offline.count("alice") == 2
    await close(bob)
