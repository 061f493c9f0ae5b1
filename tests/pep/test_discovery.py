"""PEP in service discovery: the account's identity and features, readable nodes only."""

from __future__ import annotations

from tests.helpers import close
from tests.pep.helpers import (
    NS,
    TUNE,
    friends,
    options,
    payload,
    pep_client,
)


async def test_disco_shows_pep_on_the_account_and_readable_nodes_only(server) -> None:
    friends(server, "alice", "bob")
    alice = await pep_client(server, "alice")
    carol = await pep_client(server, "carol")
    await alice["xep_0060"].publish(None, NS, payload=payload(NS))
    await alice["xep_0060"].publish(None, TUNE, payload=payload(TUNE, "tune"),
                                        options=options({"pubsub#access_model": "open"}))
    info = await carol["xep_0030"].get_info(jid="alice@localhost")
    assert ("pubsub", "pep", None, None) in info["disco_info"]["identities"]
    features = info["disco_info"]["features"]
    for f in ("publish-options", "auto-create", "access-presence", "access-open",
              "access-whitelist", "access-roster", "multi-items", "item-ids",
              "filtered-notifications", "retract-items", "purge-nodes", "publish"):
        assert f"http://jabber.org/protocol/pubsub#{f}" in features
    assert "http://jabber.org/protocol/pubsub#subscribe" in features  # XEP-0060 §6.1
    server_info = await carol["xep_0030"].get_info(jid="localhost")
    assert not [i for i in server_info["disco_info"]["identities"] if i[0] == "pubsub"]
    items = await carol["xep_0030"].get_items(jid="alice@localhost")
    assert [i[1] for i in items["disco_items"]["items"]] == [TUNE]  # presence node hidden
    own = await alice["xep_0030"].get_items(jid="alice@localhost")
    assert sorted(i[1] for i in own["disco_items"]["items"]) == sorted([NS, TUNE])
    await close(alice, carol)
