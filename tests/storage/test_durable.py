"""--data-dir: state survives a clean restart, and a crash loses nothing acknowledged."""

from __future__ import annotations

import pytest

from minixmpp.testing.process import ProcessServer
from tests.helpers import Remote, close, enable_push, http, login
from tests.raw import raw_login

pytestmark = pytest.mark.launch


async def test_offline_message_and_push_registration_survive_a_restart(tmp_path) -> None:
    data = tmp_path / "data"
    server = ProcessServer(tmp_path, extra=("--data-dir", str(data)))
    server.start()
    try:
        remote = Remote(server.port, server.domain)
        alice = await login(remote, "alice", resource="phone")
        await enable_push(alice, "durable-node", away=True, secret="s")
        alice.send_presence(pto="bob@localhost", ptype="subscribe")
        await close(alice)
        bob = await login(remote, "bob")
        bob.send_message(mto="alice@localhost", mbody="kept on disk", mtype="chat")
        status, n = await http("GET", f"{server.http_url}/api/push/notifications/wait"
                                          "?account=alice&timeout=10")
        assert status == 200
        await close(bob)
        assert server.stop() is not None  # SIGTERM, clean shutdown
        server.start()
        status, regs = await http("GET", f"{server.http_url}/api/push/registrations")
        assert [(r["account"], r["node"], r["away"], r["publish_options"]) for r in regs] == [
            ("alice", "durable-node", True, {"secret": "s"})]
        alice = await login(remote, "alice", resource="phone")
        assert (await alice.next_message())["body"] == "kept on disk"
        assert "bob@localhost" in alice.client_roster  # the roster survived too
        await close(alice)
    finally:
        server.stop()


async def test_kill_9_after_the_ack_loses_nothing(tmp_path) -> None:
    data = tmp_path / "data"
    server = ProcessServer(tmp_path, extra=("--data-dir", str(data)))
    server.start()
    try:
        remote = Remote(server.port, server.domain)
        bob = await raw_login(remote, "bob")
        bob.send("<enable xmlns='urn:xmpp:sm:3'/>")
        await bob.next("<enabled xmlns='urn:xmpp:sm:3'/>")
        bob.send("<message to='alice@localhost' type='chat' id='m1'><body>acked</body>"
                 "</message><r xmlns='urn:xmpp:sm:3'/>")
        await bob.next("<a xmlns='urn:xmpp:sm:3' h='1'/>")
        server.kill()  # right after the acknowledgement: no clean shutdown
        server.start()
        alice = await login(remote, "alice")
        assert (await alice.next_message())["body"] == "acked"
        await close(alice)
    finally:
        server.stop()
