"""Subprocess mode: the real twistd, driven over XMPP (TLS) and the HTTP API."""

from __future__ import annotations

import pytest

from tests.helpers import Remote, close, enable_push, http, login

pytestmark = pytest.mark.launch


async def test_process_server_push_over_tls_and_http(xmpp_server_process) -> None:
    remote = Remote(xmpp_server_process.port, xmpp_server_process.domain,
                    xmpp_server_process.tls_certificate)
    alice = await login(remote, "alice", resource="phone", tls=True)
    assert "starttls" in alice.features
    await enable_push(alice, "proc-node")
    await close(alice)
    bob = await login(remote, "bob", tls=True)
    bob.send_message(mto="alice@localhost", mbody="across processes", mtype="chat")
    status, n = await http("GET", f"{xmpp_server_process.http_url}/api/push/"
                                      "notifications/wait?account=alice&timeout=10")
    assert status == 200 and n["node"] == "proc-node"
    assert n["fields"]["last-message-body"] == "across processes"
    await close(bob)
