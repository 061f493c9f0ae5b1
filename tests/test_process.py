"""Subprocess mode: the real twistd, driven over XMPP (TLS) and the HTTP API."""

from __future__ import annotations

import pytest_twisted

from tests.helpers import aio, close, enable_push, http, login


class Remote:
    """What tests.helpers.login needs, for a server in another process."""

    def __init__(self, process) -> None:
        self.port = process.port
        self.tls = type("TLS", (), {"cert_pem": process.tls_certificate})()
        self.settings = type("S", (), {"domain": process.domain})()


@pytest_twisted.ensureDeferred
async def test_process_server_push_over_tls_and_http(xmpp_server_process) -> None:
    remote = Remote(xmpp_server_process)
    alice = await aio(login(remote, "alice", resource="phone", tls=True))
    assert "starttls" in alice.features
    await aio(enable_push(alice, "proc-node"))
    await aio(close(alice))
    bob = await aio(login(remote, "bob", tls=True))
    bob.send_message(mto="alice@localhost", mbody="across processes", mtype="chat")
    status, n = await aio(http("GET", f"{xmpp_server_process.http_url}/api/push/"
                                      "notifications/wait?account=alice&timeout=10"))
    assert status == 200 and n["node"] == "proc-node"
    assert n["fields"]["last-message-body"] == "across processes"
    await aio(close(bob))
