"""Built on PEP, with slixmpp's own plugins: XEP-0222/0223, private XML (XEP-0049),
bookmarks (XEP-0402, XEP-0048 both ways), vCard-temp (XEP-0054), avatars (XEP-0084,
XEP-0398, XEP-0153) and nickname (XEP-0172)."""

from __future__ import annotations

import hashlib
import xml.etree.ElementTree as ET

from tests.helpers import close
from tests.pep.helpers import element, friends, ids, notified, pep_client, pubsub_error

NS = "urn:example:data"
PNG = b"\x89PNG\r\n\x1a\n" + bytes(range(64))


async def test_xep_0222_public_and_xep_0223_private_storage(server) -> None:
    friends(server, "alice", "bob")
    alice = await pep_client(server, "alice", plugins=("xep_0222", "xep_0223"))
    bob = await pep_client(server, "bob")
    await alice["xep_0222"].store(element(NS, text="public"), node=f"{NS}:pub", id="a")
    await alice["xep_0223"].store(element(NS, text="secret"), node=f"{NS}:priv",
                                      id="a")
    got = await alice["xep_0223"].retrieve(f"{NS}:priv")
    assert list(got["pubsub"]["items"])[0]["payload"].text == "secret"
    public = await bob["xep_0060"].get_items("alice@localhost", f"{NS}:pub")
    assert list(public["pubsub"]["items"])[0]["payload"].text == "public"
    assert await pubsub_error(bob["xep_0060"].get_items(
        "alice@localhost", f"{NS}:priv")) == ("not-allowed", "closed-node")
    # Storing again with the same profile passes the preconditions.
    await alice["xep_0223"].store(element(NS, text="again"), node=f"{NS}:priv",
                                      id="a")
    await close(alice, bob)


async def test_private_xml_is_stored_per_namespace_for_the_account_only(server) -> None:
    from slixmpp.plugins.xep_0049.stanza import PrivateXML
    from slixmpp.xmlstream import ElementBase, register_stanza_plugin

    class Prefs(ElementBase):
        namespace, name, plugin_attrib = "urn:example:prefs", "prefs", "prefs"
        interfaces = {"theme"}
        sub_interfaces = interfaces

    register_stanza_plugin(PrivateXML, Prefs)
    alice = await pep_client(server, "alice", plugins=("xep_0049",))
    empty = await alice["xep_0049"].retrieve("prefs")
    assert empty["private"]["prefs"]["theme"] == ""  # nothing stored: the empty element
    prefs = Prefs()
    prefs["theme"] = "dark"
    await alice["xep_0049"].store(prefs)
    got = await alice["xep_0049"].retrieve("prefs")
    assert got["private"]["prefs"]["theme"] == "dark"
    # Another account's private XML is not readable.
    bob = await pep_client(server, "bob")
    iq = bob.make_iq_get(ito="alice@localhost")
    iq.xml.append(ET.fromstring("<query xmlns='jabber:iq:private'>"
                                "<prefs xmlns='urn:example:prefs'/></query>"))
    from tests.helpers import iq_error

    assert await iq_error(iq) == "forbidden"
    bad = alice.make_iq_set()
    bad.xml.append(ET.fromstring("<query xmlns='jabber:iq:private'><a xmlns='x'/>"
                                 "<b xmlns='y'/></query>"))
    assert await iq_error(bad) == "bad-request"
    await close(alice, bob)


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


async def test_vcard_set_get_and_readable_by_others(server) -> None:
    alice = await pep_client(server, "alice", plugins=("xep_0054",))
    carol = await pep_client(server, "carol", plugins=("xep_0054",))
    vcard = alice["xep_0054"].make_vcard()
    vcard["FN"] = "Alice Liddell"
    vcard["NICKNAME"] = "alice"
    await alice["xep_0054"].publish_vcard(vcard)
    own = await alice["xep_0054"].get_vcard("alice@localhost", local=False)
    assert own["vcard_temp"]["FN"] == "Alice Liddell"
    other = await carol["xep_0054"].get_vcard("alice@localhost", local=False)
    assert other["vcard_temp"]["FN"] == "Alice Liddell"
    # Nobody sets someone else's vCard.
    iq = carol.make_iq_set(ito="alice@localhost")
    iq.xml.append(ET.fromstring("<vCard xmlns='vcard-temp'><FN>Mallory</FN></vCard>"))
    from tests.helpers import iq_error

    assert await iq_error(iq) == "forbidden"
    assert (await carol["xep_0054"].get_vcard("alice@localhost", local=False))[
        "vcard_temp"]["FN"] == "Alice Liddell"
    server_info = await carol["xep_0030"].get_info(jid="localhost")
    assert "vcard-temp" in server_info["disco_info"]["features"]
    await close(alice, carol)


async def test_vcard_photo_becomes_a_pep_avatar_and_a_presence_hash(server) -> None:
    friends(server, "alice", "bob")
    alice = await pep_client(server, "alice", plugins=("xep_0054", "xep_0153",
                                                           "xep_0084"))
    bob = await pep_client(server, "bob", plugins=("xep_0084",),
                               interests=("urn:xmpp:avatar:metadata",))
    info = await alice["xep_0030"].get_info(jid="alice@localhost")
    assert "urn:xmpp:pep-vcard-conversion:0" in info["disco_info"]["features"]
    await alice["xep_0153"].set_avatar(avatar=PNG, mtype="image/png")
    digest = hashlib.sha1(PNG).hexdigest()
    event = await notified(bob)
    info_item = event["pubsub_event"]["items"]["item"]["avatar_metadata"]["info"]
    assert info_item["id"] == digest and info_item["type"] == "image/png"
    assert int(info_item["bytes"]) == len(PNG)
    data = await bob["xep_0084"].retrieve_avatar("alice@localhost", digest)
    assert list(data["pubsub"]["items"])[0]["avatar_data"]["value"] == PNG
    # XEP-0153: the server puts the hash in alice's presence.
    bob.presences.clear()
    alice.send_presence(pstatus="here")
    from tests.helpers import eventually

    await eventually(lambda: any(p["status"] == "here" for p in bob.presences))
    seen = [p for p in bob.presences if p["status"] == "here"][0]
    update = seen.xml.find("{vcard-temp:x:update}x")
    assert update is not None and update.findtext("{vcard-temp:x:update}photo") == digest
    await close(alice, bob)


async def test_xep_0084_avatar_shows_in_the_vcard(server) -> None:
    alice = await pep_client(server, "alice", plugins=("xep_0084",))
    carol = await pep_client(server, "carol", plugins=("xep_0054",))
    digest = hashlib.sha1(PNG).hexdigest()
    from tests.pep.helpers import options

    open_ = options({"pubsub#access_model": "open"})
    await alice["xep_0084"].publish_avatar(PNG, options=open_)
    await alice["xep_0084"].publish_avatar_metadata(
        [{"id": digest, "type": "image/png", "bytes": len(PNG)}], options=open_)
    vcard = await carol["xep_0054"].get_vcard("alice@localhost", local=False)
    assert vcard["vcard_temp"]["PHOTO"]["TYPE"] == "image/png"
    assert vcard["vcard_temp"]["PHOTO"]["BINVAL"] == PNG
    await close(alice, carol)


async def test_nickname_through_plain_pep(server) -> None:
    friends(server, "alice", "bob")
    alice = await pep_client(server, "alice", plugins=("xep_0172",))
    bob = await pep_client(server, "bob", plugins=("xep_0172",),
                               interests=("http://jabber.org/protocol/nick",))
    await alice["xep_0172"].publish_nick("Ali")
    event = await notified(bob)
    assert event["pubsub_event"]["items"]["item"]["nick"]["nick"] == "Ali"
    await close(alice, bob)
