"""PEP limits: items per node, nodes per account, item size."""

from __future__ import annotations

import pytest

from tests.helpers import (
    close,
)
from tests.pep.helpers import (
    NS,
    ids,
    options,
    payload,
    pep_client,
    pubsub_error,
)


@pytest.mark.server_options(pep_max_items=3, pep_max_nodes=2, pep_max_item_size=2000)
async def test_limits_items_per_node_nodes_per_account_and_item_size(server) -> None:
    alice = await pep_client(server, "alice")
    ps = alice["xep_0060"]
    await ps.publish(None, NS, id="0", payload=payload(NS),
                         options=options({"pubsub#max_items": "max"}))
    for i in range(1, 5):
        await ps.publish(None, NS, id=str(i), payload=payload(NS))
    assert ids(await ps.get_items(None, NS)) == ["2", "3", "4"]  # 'max' is the limit
    too_many = options({"pubsub#max_items": "4"})
    assert (await pubsub_error(ps.publish(None, f"{NS}:b", payload=payload(NS),
                                              options=too_many)))[0] == "not-acceptable"
    await ps.publish(None, f"{NS}:b", payload=payload(NS))
    assert await pubsub_error(ps.publish(None, f"{NS}:c", payload=payload(NS))) == (
        "not-allowed", "max-nodes-exceeded")
    big = payload(NS, text="x" * 2000)
    assert await pubsub_error(ps.publish(None, NS, payload=big)) == (
        "not-acceptable", "payload-too-big")
    assert ids(await ps.get_items(None, NS)) == ["2", "3", "4"]  # nothing changed
    await close(alice)


