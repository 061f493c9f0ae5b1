"""Room avatars (XEP-0486): the room's vCard set by owners and read by anyone, its hash in
the ``muc#roominfo`` form, the change told to occupants (104, and the XEP-0153 presence
from the room as Prosody), bounded by ``--pep-max-item-size``, kept with persistent rooms
in every room store."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import json

import pytest

from minixmpp import ns
from minixmpp.storage import open_storage
from minixmpp.storage.interfaces import StoredRoom
from tests.helpers import close, future
from tests.muc.helpers import ROOM, create, join, muc_login
from tests.muc.test_rules import ALICE, BOB, CAROL, Muc, opened, sent_to

aioxmpp = pytest.importorskip("aioxmpp", reason="aioxmpp (the second client library) is "
                              "not installed: pip install -e '.[test]'")

PNG = b"\x89PNG\r\n\x1a\nnot really a picture"
SVG = b"<svg xmlns='http://www.w3.org/2000/svg'/>"


def photo(data: bytes, mime: str = "image/png") -> str:
    return (f"<PHOTO><TYPE>{mime}</TYPE><BINVAL>{base64.b64encode(data).decode()}</BINVAL>"
            "</PHOTO>")


def vcard(*photos: str) -> str:
    return f"<vCard xmlns='{ns.VCARD}'>{''.join(photos)}</vCard>"


def sha1(data: bytes) -> str:
    return hashlib.sha1(data).hexdigest()


def roominfo(muc: Muc, sender: str = CAROL) -> dict[str, list[str]]:
    [info] = muc.iq(sender, "get", f"<query xmlns='{ns.DISCO_INFO}'/>")
    assert ns.VCARD in {f["var"] for f in info.query.elements(ns.DISCO_INFO, "feature")}
    x = next(info.query.elements(ns.X_DATA, "x"))
    return {f["var"]: [str(v) for v in f.elements(ns.X_DATA, "value")]
            for f in x.elements(ns.X_DATA, "field")}


# -- without sockets ------------------------------------------------------------------------

def test_an_owner_sets_the_avatar_and_anyone_reads_it() -> None:
    muc = opened((BOB, "Bob"))
    assert "muc#roominfo_avatarhash" not in roominfo(muc)  # §4: none set, no field
    out = muc.iq(ALICE, "set", vcard(photo(PNG)))
    assert out[-1]["type"] == "result"
    to_bob = sent_to(out, BOB)
    assert to_bob[0].name == "message" and to_bob[0].x.status["code"] == "104"  # §3.2
    assert to_bob[1]["from"] == ROOM and str(to_bob[1].x.photo) == sha1(PNG)  # §5.2
    assert roominfo(muc)["muc#roominfo_avatarhash"] == [sha1(PNG)]  # §3.3
    [got] = muc.iq(CAROL, "get", f"<vCard xmlns='{ns.VCARD}'/>")  # not an occupant
    binval = str(got.vCard.PHOTO.BINVAL)
    assert base64.b64decode(binval) == PNG and str(got.vCard.PHOTO.TYPE) == "image/png"


def test_every_photo_is_hashed_and_an_empty_vcard_removes_the_avatar() -> None:
    muc = opened((BOB, "Bob"))
    muc.iq(ALICE, "set", vcard(photo(SVG, "image/svg+xml"), photo(PNG)))
    assert roominfo(muc)["muc#roominfo_avatarhash"] == [sha1(SVG), sha1(PNG)]  # §5.1
    out = muc.iq(ALICE, "set", vcard())
    assert str(sent_to(out, BOB)[1].x.photo) == ""  # XEP-0153: no avatar now
    assert "muc#roominfo_avatarhash" not in roominfo(muc)
    [got] = muc.iq(BOB, "get", f"<vCard xmlns='{ns.VCARD}'/>")
    assert got.vCard is not None and not list(got.vCard.elements())


def test_only_owners_set_it_and_only_so_big() -> None:
    muc = Muc(vcard=200)
    muc.join(ALICE, "Al")
    muc.configure()
    muc.join(BOB, "Bob")
    muc.admin(ALICE, "<item affiliation='admin' jid='bob@localhost'/>")
    [refused] = muc.iq(BOB, "set", vcard(photo(PNG)))
    assert refused.error.forbidden is not None  # §3.2, §6
    [refused] = muc.iq(ALICE, "set", vcard(photo(PNG * 10)))
    assert refused.error.firstChildElement().name == "not-acceptable"
    [refused] = muc.iq(ALICE, "set", vcard("<PHOTO><BINVAL>@@@</BINVAL></PHOTO>"))
    assert refused.error.firstChildElement().name == "bad-request"
    assert muc.service.rooms["lounge"].vcard == ""
    [missing] = muc.iq(BOB, "get", f"<vCard xmlns='{ns.VCARD}'/>",
                       to="nothing@conference.localhost")
    assert missing.error.firstChildElement().name == "item-not-found"


def test_an_occupant_entering_gets_the_hash_after_the_subject() -> None:
    muc = opened()
    out = muc.join(BOB, "Bob")
    assert out[-1].name == "message"  # no avatar: the join flow ends with the subject
    muc.iq(ALICE, "set", vcard(photo(PNG)))
    out = muc.join(CAROL, "Carol")
    assert out[-2].subject is not None
    assert out[-1].name == "presence" and out[-1]["from"] == ROOM
    assert str(out[-1].x.photo) == sha1(PNG)


@pytest.mark.parametrize("backend", ["memory", "sqlite"])
def test_room_stores_keep_the_vcard_and_read_rooms_stored_before_it(backend, tmp_path):
    storage = open_storage(None if backend == "memory" else str(tmp_path))
    try:
        room = StoredRoom("lounge", affiliations={"alice@localhost": "owner"},
                          vcard=vcard(photo(PNG)), avatar_hashes=[sha1(PNG)])
        storage.rooms.put(room)
        got = storage.rooms.get("lounge")
        assert got == room
        got.avatar_hashes.append("x")  # a copy
        assert storage.rooms.get("lounge").avatar_hashes == [sha1(PNG)]
        if backend == "sqlite":  # a row written before rooms had vCards
            old = {"name": "attic", "config": {}, "affiliations": {}, "nicks": {},
                   "subject": "", "subject_nick": "", "created": 0.0, "salt": "s"}
            storage.rooms.db.execute("INSERT INTO muc_rooms VALUES (?, ?)",
                                     ("attic", json.dumps(old)))
            attic = storage.rooms.get("attic")
            assert attic.vcard == "" and attic.avatar_hashes == []
    finally:
        storage.close()


# -- end to end ------------------------------------------------------------------------------

async def test_aioxmpp_owner_publishes_and_slixmpp_sees_the_hash_and_the_picture(server):
    bob = await muc_login(server, "bob")
    client = aioxmpp.PresenceManagedClient(
        aioxmpp.JID.fromstr("carol@localhost/aio"),
        aioxmpp.make_security_layer("carol", no_verify=True),
        override_peer=[("127.0.0.1", server.port, aioxmpp.connector.STARTTLSConnector())])
    async with client.connected():
        room, joined = client.summon(aioxmpp.MUCClient).join(
            aioxmpp.JID.fromstr(ROOM), "Carol")
        await asyncio.wait_for(joined, 5)  # carol's room: she owns it
        await client.summon(aioxmpp.MUCClient).set_room_config(
            aioxmpp.JID.fromstr(ROOM), aioxmpp.forms.Data(aioxmpp.forms.DataType.SUBMIT))
        await join(bob, ROOM, "Bob")
        card = aioxmpp.vcard.xso.VCard()
        card.set_photo_data("image/png", PNG)
        changed = asyncio.ensure_future(bob.wait_until("muc::%s::config_status" % ROOM, 5))
        await client.summon(aioxmpp.vcard.VCardService).set_vcard(
            card, jid=aioxmpp.JID.fromstr(ROOM))
        await changed
        info = await bob["xep_0030"].get_info(jid=ROOM)
        assert "vcard-temp" in info["disco_info"]["features"]
        fields = info["disco_info"]["form"].get_fields()
        assert fields["muc#roominfo_avatarhash"]["value"] == [sha1(PNG)]
        got = await client.summon(aioxmpp.vcard.VCardService).get_vcard(
            aioxmpp.JID.fromstr(ROOM))
        assert got.get_photo_data() == PNG
        await room.leave()
    await close(bob)


async def test_slixmpp_avatar_of_a_persistent_room_survives_a_restart(server_factory,
                                                                       tmp_path):
    from tests.helpers import login
    from tests.muc.helpers import MUC_PLUGINS

    data = str(tmp_path / "data")
    first = server_factory(data_dir=data)
    alice = await login(first, "alice", plugins=MUC_PLUGINS + ("xep_0054",))
    await create(alice, persistentroom=True)
    card = alice["xep_0054"].make_vcard()
    card["PHOTO"]["TYPE"] = "image/png"
    card["PHOTO"]["BINVAL"] = PNG
    await alice["xep_0054"].publish_vcard(card, jid=ROOM)
    bob = await login(first, "bob", plugins=MUC_PLUGINS + ("xep_0054",))
    try:
        refused = await bob["xep_0054"].publish_vcard(card, jid=ROOM)
        raise AssertionError(f"a non-owner set the room's vCard: {refused}")
    except Exception as e:  # slixmpp's IqError
        assert getattr(e, "condition", None) == "forbidden"
    await close(alice, bob)
    await future(first.stopService())
    second = server_factory(data_dir=data)
    bob = await login(second, "bob", plugins=MUC_PLUGINS + ("xep_0054",))
    got = await bob["xep_0054"].get_vcard(jid=ROOM)
    assert got["vcard_temp"]["PHOTO"]["BINVAL"] == PNG
    info = await bob["xep_0030"].get_info(jid=ROOM)
    assert info["disco_info"]["form"].get_fields()["muc#roominfo_avatarhash"]["value"] == [
        sha1(PNG)]
    await close(bob)
