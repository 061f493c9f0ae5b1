"""Discovering the service, its rooms and their occupants (XEP-0045 §6)."""

from __future__ import annotations

import pytest
from slixmpp.exceptions import IqError

from tests.helpers import close
from tests.muc.helpers import ROOM, create, join, muc_login


async def test_disco_of_service_and_room(server):
    alice = await muc_login(server, "alice")
    bob = await muc_login(server, "bob")
    items = await alice["xep_0030"].get_items(jid="localhost")
    assert "conference.localhost" in [i[0] for i in items["disco_items"]["items"]]
    info = await alice["xep_0030"].get_info(jid="conference.localhost")
    assert "http://jabber.org/protocol/muc" in info["disco_info"]["features"]
    assert ("conference", "text") in [i[:2] for i in info["disco_info"]["identities"]]
    await create(alice, roomname="The Lounge", roomdesc="for tests", moderatedroom=True)
    await create(alice, room="hidden@conference.localhost", publicroom=False)
    items = await bob["xep_0030"].get_items(jid="conference.localhost")
    assert [(i[0], i[2]) for i in items["disco_items"]["items"]] == [(ROOM, "The Lounge")]
    info = await bob["xep_0030"].get_info(jid=ROOM)
    features = info["disco_info"]["features"]
    for feature in ("http://jabber.org/protocol/muc", "muc_public", "muc_temporary",
                    "muc_open", "muc_moderated", "muc_semianonymous", "muc_unsecured",
                    "urn:xmpp:mam:2", "urn:xmpp:sid:0", "urn:xmpp:occupant-id:0",
                    "urn:xmpp:message-moderate:1"):
        assert feature in features, feature
    form = info["disco_info"]["form"].get_fields()
    assert form["FORM_TYPE"]["value"] in ("http://jabber.org/protocol/muc#roominfo",
                                          ["http://jabber.org/protocol/muc#roominfo"])
    assert form["muc#roominfo_description"]["value"] == "for tests"
    assert form["muc#roominfo_occupants"]["value"] == "1"
    occupants = await bob["xep_0030"].get_items(jid=ROOM)
    assert [i[0] for i in occupants["disco_items"]["items"]] == [f"{ROOM}/owner"]
    hidden = await bob["xep_0030"].get_items(jid="hidden@conference.localhost")
    assert not hidden["disco_items"]["items"]  # not public, bob not in it
    try:
        await bob["xep_0030"].get_info(jid="nothing@conference.localhost")
        raise AssertionError("info for a room that does not exist")
    except IqError as e:
        assert e.condition == "item-not-found"
    await close(alice, bob)


@pytest.mark.server_options(muc_jid="chat.localhost")
async def test_muc_jid(server):
    alice = await muc_login(server, "alice")
    items = await alice["xep_0030"].get_items(jid="localhost")
    assert "chat.localhost" in [i[0] for i in items["disco_items"]["items"]]
    pres, *_ = await join(alice, "room@chat.localhost", "Al")
    assert pres["from"].full == "room@chat.localhost/Al"
    await close(alice)
