"""XEP-0030 §3.1: every entity that answers disco#info lists ``disco#info`` itself, and
``disco#items`` where it has items. Walked as a client walks it: the server, what its
disco#items name (push, group chat, upload, proxy, ... whatever is on), an account, a
room and its service, each asked by a real client (slixmpp)."""

from __future__ import annotations

import pytest

from tests.helpers import close, login

INFO = "http://jabber.org/protocol/disco#info"
ITEMS = "http://jabber.org/protocol/disco#items"


async def features_and_items(client, jid: str, node: str | None = None
                             ) -> tuple[set[str], list[tuple[str, str | None]]]:
    from slixmpp.exceptions import IqError

    info = await client["xep_0030"].get_info(jid=jid, node=node, timeout=5)
    features = set(info["disco_info"]["features"])
    try:
        items = await client["xep_0030"].get_items(jid=jid, node=node, timeout=5)
    except IqError:
        return features, []
    return features, [(i[0], i[1]) for i in items["disco_items"]["items"]]


@pytest.mark.server_options(component=("pushapp.localhost:s3cret",),
                            components="tcp:0:interface=127.0.0.1")
async def test_every_entity_lists_disco_info_and_disco_items_where_it_has_items(server
                                                                               ) -> None:
    alice = await login(server, "alice", plugins=("xep_0030", "xep_0045"))
    muc = server.settings.muc_jid
    await alice["xep_0045"].join_muc_wait(f"walk@{muc}", "alice", timeout=5)
    entities = [server.settings.domain, "alice@localhost", f"walk@{muc}"]
    seen: dict[str, tuple[set[str], int]] = {}
    while entities:
        jid = entities.pop(0)
        if jid in seen:
            continue
        features, items = await features_and_items(alice, jid)
        seen[jid] = (features, len(items))
        # entities (not nodes) the items name are entities too
        entities.extend(item for item, node in items if node is None and "@" not in item
                        or item == f"walk@{muc}")
    assert {server.settings.push_jid, muc, server.settings.domain} <= set(seen)
    missing = {jid: sorted({INFO} - features | ({ITEMS} - features if n else set()))
               for jid, (features, n) in seen.items()
               if INFO not in features or (n and ITEMS not in features)}
    assert missing == {}, missing
    assert seen[server.settings.domain][1] > 0  # the walk did find items
    await close(alice)
