"""PEP advertises what it implements (XEP-0060 §10, XEP-0163 §8): clients decide from
the account's disco#info, so a feature left out is a feature lost."""

from __future__ import annotations

from tests.helpers import close
from tests.pep.helpers import ids, options, payload, pep_client

BOOKMARKS = "urn:xmpp:bookmarks:1"
PUBSUB = "http://jabber.org/protocol/pubsub"


async def converse_bookmark_options(client) -> dict[str, str]:
    """The publish-options Converse sends for a XEP-0402 bookmark: ``max_items`` ``max``
    only when the account lists ``pubsub#config-node-max``, else 9999."""
    info = await client["xep_0030"].get_info(jid=client.boundjid.bare, timeout=5)
    features = info["disco_info"]["features"]
    return {"pubsub#persist_items": "true",
            "pubsub#max_items": "max" if f"{PUBSUB}#config-node-max" in features else "9999",
            "pubsub#send_last_published_item": "never",
            "pubsub#access_model": "whitelist"}


async def test_a_bookmark_published_as_converse_does_is_kept(server) -> None:
    alice = await pep_client(server, "alice")
    opts = await converse_bookmark_options(alice)
    ps = alice["xep_0060"]
    for room in ("one@conference.localhost", "two@conference.localhost"):
        await ps.publish(None, BOOKMARKS, id=room, payload=payload(
            BOOKMARKS, "conference", autojoin="true"), options=options(opts))
    assert ids(await ps.get_items(None, BOOKMARKS)) == ["one@conference.localhost",
                                                        "two@conference.localhost"]
    await close(alice)
