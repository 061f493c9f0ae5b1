"""vCard-temp (XEP-0054) and avatars (XEP-0084, XEP-0398, XEP-0153) on PEP, with
slixmpp's own plugins."""

from __future__ import annotations

import hashlib
import xml.etree.ElementTree as ET

from tests.helpers import close
from tests.pep.helpers import friends, notified, pep_client

PNG = b"\x89PNG\r\n\x1a\n" + bytes(range(64))


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


