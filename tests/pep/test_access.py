"""Who may do what on a PEP node: the owner only publishes and configures; every access
model decides who reads (XEP-0060 §4.5)."""

from __future__ import annotations

from slixmpp.exceptions import IqError

from tests.helpers import close
from tests.pep.helpers import (
    NS,
    friends,
    ids,
    options,
    payload,
    pep_client,
    pubsub_error,
)


async def test_only_the_owner_publishes_configures_and_deletes(server) -> None:
    friends(server, "alice", "bob")
    alice = await pep_client(server, "alice")
    bob = await pep_client(server, "bob")
    await alice["xep_0060"].publish(None, NS, payload=payload(NS))
    ps = bob["xep_0060"]
    for request in (ps.publish("alice@localhost", NS, payload=payload(NS)),
                    ps.get_node_config("alice@localhost", NS),
                    ps.purge("alice@localhost", NS),
                    ps.delete_node("alice@localhost", NS)):
        assert (await pubsub_error(request))[0] == "forbidden"
    assert len(ids(await ps.get_items("alice@localhost", NS))) == 1
    # No PEP on the server's own JID.
    assert (await pubsub_error(ps.get_items("localhost", NS)))[0] == \
        "service-unavailable"
    await close(alice, bob)


async def test_every_access_model_decision(server) -> None:
    friends(server, "alice", "bob", groups=("Friends",))
    alice = await pep_client(server, "alice")
    bob = await pep_client(server, "bob")
    carol = await pep_client(server, "carol")  # no subscription at all
    ps = alice["xep_0060"]

    async def model(name: str, **extra: str) -> None:
        node = f"{NS}:{name}"
        await ps.publish(None, node, payload=payload(NS), options=options(
            {"pubsub#access_model": name.split("-")[0], **extra}))

    async def reads(client, name: str):
        try:
            await client["xep_0060"].get_items("alice@localhost", f"{NS}:{name}")
        except IqError:
            return await pubsub_error(client["xep_0060"].get_items(
                "alice@localhost", f"{NS}:{name}"))
        return "ok"

    await model("open")
    await model("presence")
    await model("roster-friends", **{"pubsub#roster_groups_allowed": "Friends"})
    await model("roster-work", **{"pubsub#roster_groups_allowed": "Work"})
    await model("whitelist")
    assert await reads(bob, "open") == "ok"
    assert await reads(carol, "open") == "ok"
    assert await reads(bob, "presence") == "ok"
    assert await reads(carol, "presence") == ("not-authorized",
                                                   "presence-subscription-required")
    assert await reads(bob, "roster-friends") == "ok"
    assert await reads(bob, "roster-work") == ("not-authorized", "not-in-roster-group")
    assert await reads(carol, "roster-friends") == ("not-authorized",
                                                         "presence-subscription-required")
    assert await reads(bob, "whitelist") == ("not-allowed", "closed-node")
    assert await reads(alice, "whitelist") == "ok"
    await close(alice, bob, carol)
