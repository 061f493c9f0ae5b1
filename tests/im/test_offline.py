"""Offline storage (RFC 6121 §8.5.2.2, --max-offline)."""

from __future__ import annotations

import pytest

from tests.helpers import (
    close,
    login,
)


@pytest.mark.server_options(max_offline=2)
async def test_offline_overflow_bounces_service_unavailable(server) -> None:
    bob = await login(server, "bob")
    for i in range(3):
        bob.send_message(mto="alice@localhost", mbody=str(i), mtype="chat")
    err = await bob.next_message()
    assert err["type"] == "error" and err["error"]["condition"] == "service-unavailable"
    assert err["body"] == "2"
    assert server.storage.offline.count("alice") == 2
    await close(bob)
