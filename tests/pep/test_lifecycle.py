"""PEP data over an account's life: the status API, account deletion and reset, a
restart with --data-dir."""

from __future__ import annotations

import pytest

from minixmpp.testing.process import ProcessServer
from tests.helpers import (
    Remote,
    close,
    http,
)
from tests.pep.helpers import (
    NS,
    ids,
    options,
    payload,
    pep_client,
)


@pytest.mark.server_options(http="tcp:0")
async def test_status_api_lists_pep_nodes_and_delete_and_reset_clear_them(server) -> None:
    alice = await pep_client(server, "alice", plugins=("xep_0054", "xep_0049"))
    await alice["xep_0060"].publish(None, NS, payload=payload(NS),
                                        options=options({"pubsub#access_model": "open"}))
    vcard = alice["xep_0054"].make_vcard()
    vcard["FN"] = "Alice"
    await alice["xep_0054"].publish_vcard(vcard)
    base = f"http://127.0.0.1:{server.ports().http}/api"
    status, state = await http("GET", f"{base}/state")
    account = [a for a in state["accounts"] if a["name"] == "alice"][0]
    assert account["pep_nodes"] == [{"node": NS, "access_model": "open", "items": 1}]
    await close(alice)
    status, _ = await http("DELETE", f"{base}/accounts/alice")
    assert status == 204
    assert server.storage.pep.nodes("alice") == []
    assert server.storage.private.get("alice", "vcard") is None
    status, _ = await http("POST", f"{base}/accounts", {"name": "alice", "password":
                                                              "alice"})
    bob = await pep_client(server, "bob")
    await bob["xep_0060"].publish(None, NS, payload=payload(NS))
    assert server.storage.pep.nodes("bob")
    await close(bob)
    status, _ = await http("POST", f"{base}/reset")
    assert status == 200 and server.storage.pep.nodes("bob") == []


async def test_pep_items_survive_a_restart(tmp_path) -> None:
    server = ProcessServer(tmp_path, extra=("--data-dir", str(tmp_path / "data")))
    server.start()
    try:
        remote = Remote(server.port, server.domain)
        alice = await pep_client_remote(remote, "alice")
        await alice["xep_0060"].publish(None, NS, id="kept", payload=payload(NS, text="1"),
                                            options=options({"pubsub#max_items": "5",
                                                             "pubsub#access_model": "open"}))
        await close(alice)
        assert server.stop() is not None
        server.start()
        bob = await pep_client_remote(remote, "bob")
        got = await bob["xep_0060"].get_items("alice@localhost", NS)
        assert ids(got) == ["kept"]
        config = await pep_config(remote)
        assert config["pubsub#max_items"] == "5"
        await close(bob)
    finally:
        server.stop()


async def pep_client_remote(remote, user: str):
    from tests.helpers import login
    from tests.pep.helpers import PLUGINS

    return await login(remote, user, plugins=PLUGINS)


async def pep_config(remote) -> dict:
    alice = await pep_client_remote(remote, "alice")
    got = await alice["xep_0060"].get_node_config(None, NS)
    await close(alice)
    return got["pubsub_owner"]["configure"]["form"].get_values()
