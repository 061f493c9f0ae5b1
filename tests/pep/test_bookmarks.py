"""Bookmarks (XEP-0402), and the XEP-0048 forms seeing the same rooms both ways."""

from __future__ import annotations

from tests.helpers import close
from tests.pep.helpers import ids, pep_client


def conference(jid: str, name: str, nick: str, autojoin: bool = True):
    from slixmpp.plugins.xep_0060.stanza import Item

    item = Item()
    item["id"] = jid
    item["conference"]["name"] = name
    item["conference"]["autojoin"] = autojoin
    item["conference"]["nick"] = nick
    return item["conference"]


async def test_bookmarks_2_and_the_xep_0048_forms_see_the_same_rooms(server) -> None:
    alice = await pep_client(server, "alice", plugins=("xep_0402", "xep_0048",
                                                           "xep_0049", "xep_0223"))
    info = await alice["xep_0030"].get_info(jid="alice@localhost")
    assert "urn:xmpp:bookmarks:1#compat" in info["disco_info"]["features"]
    assert "urn:xmpp:bookmarks:1#compat-pep" in info["disco_info"]["features"]
    from tests.pep.helpers import options

    ps = alice["xep_0060"]
    bm_options = options({"pubsub#persist_items": "true", "pubsub#max_items": "max",
                          "pubsub#send_last_published_item": "never",
                          "pubsub#access_model": "whitelist"})
    await ps.publish(None, "urn:xmpp:bookmarks:1", id="room@muc.localhost",
                         payload=conference("room@muc.localhost", "The Room", "al"),
                         options=bm_options)
    await ps.publish(None, "urn:xmpp:bookmarks:1", id="other@muc.localhost",
                         payload=conference("other@muc.localhost", "Other", "al", False),
                         options=bm_options)
    # XEP-0049 view (#compat).
    legacy = await alice["xep_0048"].get_bookmarks(method="xep_0049")
    confs = {str(c["jid"]): c for c in legacy["private"]["bookmarks"]["conferences"]}
    assert set(confs) == {"room@muc.localhost", "other@muc.localhost"}
    assert confs["room@muc.localhost"]["name"] == "The Room"
    assert confs["room@muc.localhost"]["nick"] == "al"
    assert confs["room@muc.localhost"]["autojoin"] and not confs["other@muc.localhost"][
        "autojoin"]
    # A XEP-0049 write replaces the XEP-0402 items.
    from slixmpp.plugins.xep_0048.stanza import Bookmarks

    bookmarks = Bookmarks()
    bookmarks.add_conference("room@muc.localhost", "alice", name="Renamed", autojoin=True)
    bookmarks.add_conference("new@muc.localhost", "al", name="New", autojoin=False)
    await alice["xep_0048"].set_bookmarks(bookmarks, method="xep_0049")
    items = await ps.get_items(None, "urn:xmpp:bookmarks:1")
    assert sorted(ids(items)) == ["new@muc.localhost", "room@muc.localhost"]
    renamed = [i for i in items["pubsub"]["items"] if i["id"] == "room@muc.localhost"][0]
    assert renamed["conference"]["name"] == "Renamed"
    assert renamed["conference"]["nick"] == "alice"
    # XEP-0048 in PEP (#compat-pep): a legacy publish is converted too.
    bookmarks = Bookmarks()
    bookmarks.add_conference("pep@muc.localhost", "al", name="Via PEP", autojoin=True)
    await alice["xep_0048"].set_bookmarks(bookmarks, method="xep_0223")
    assert ids(await ps.get_items(None, "urn:xmpp:bookmarks:1")) == [
        "pep@muc.localhost"]
    # ... and a XEP-0402 change shows in the legacy PEP node.
    await ps.publish(None, "urn:xmpp:bookmarks:1", id="late@muc.localhost",
                         payload=conference("late@muc.localhost", "Late", "al"),
                         options=bm_options)
    legacy_pep = await alice["xep_0048"].get_bookmarks(method="xep_0223")
    stored = list(legacy_pep["pubsub"]["items"])[0]["bookmarks"]["conferences"]
    assert sorted(str(c["jid"]) for c in stored) == ["late@muc.localhost",
                                                     "pep@muc.localhost"]
    await close(alice)
