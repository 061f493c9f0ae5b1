"""Affiliations of JIDs that are not in the room (XEP-0045 §9–§10: the occupants who may see
real JIDs are told by a message from the room; the JID itself with status 101, §18.1) and
the full lists of owners and admins in the configuration form (§10.2,
``muc#roomconfig_roomowners`` / ``_roomadmins``)."""

from __future__ import annotations

import asyncio

import pytest
from slixmpp.exceptions import IqError

from minixmpp import ns
from tests.helpers import close, eventually
from tests.muc.helpers import ROOM, create, join, muc_login
from tests.muc.test_rules import ALICE, BOB, CAROL, Muc, opened, sent_to

aioxmpp = pytest.importorskip("aioxmpp", reason="aioxmpp (the second client library) is "
                              "not installed: pip install -e '.[test]'")

DAVE = "dave@localhost"


def statuses(stanza) -> set[str]:
    return {s["code"] for s in stanza.x.elements(ns.MUC_USER, "status")}


def lists_form(**lists: list[str]) -> str:
    fields = "".join(f"<field var='muc#roomconfig_{var}'>"
                     + "".join(f"<value>{j}</value>" for j in jids) + "</field>"
                     for var, jids in lists.items())
    return (f"<query xmlns='{ns.MUC_OWNER}'><x xmlns='{ns.X_DATA}' type='submit'>"
            f"<field var='FORM_TYPE'><value>{ns.MUC_ROOMCONFIG}</value></field>{fields}"
            "</x></query>")


# -- §9–§10 out of the room: 101 ------------------------------------------------------------

def test_an_absent_jid_is_told_with_101_and_moderators_see_the_change() -> None:
    muc = opened((BOB, "Bob"))
    out = muc.admin(ALICE, f"<item affiliation='member' jid='{DAVE}'><reason>welcome</reason>"
                           "</item>")
    [told] = sent_to(out, DAVE)
    assert told["from"] == ROOM and told["type"] == "headline" and statuses(told) == {"101"}
    assert told.x.item["affiliation"] == "member" and told.body is not None
    notice = sent_to(out, ALICE)[0]
    assert notice.name == "message" and notice.x.item["jid"] == DAVE
    assert notice.x.item["role"] == "none" and str(notice.x.item.reason) == "welcome"
    assert not sent_to(out, BOB)  # semi-anonymous: a participant does not see the JID
    out = muc.admin(ALICE, f"<item affiliation='none' jid='{DAVE}'/>")
    assert sent_to(out, DAVE)[0].x.item["affiliation"] == "none"


def test_in_a_non_anonymous_room_every_occupant_sees_it_and_the_member_no_101() -> None:
    muc = opened((BOB, "Bob"), whois="anyone")
    out = muc.admin(ALICE, f"<item affiliation='outcast' jid='{DAVE}'/>")
    assert sent_to(out, BOB)[0].x.item["affiliation"] == "outcast"
    out = muc.admin(ALICE, "<item affiliation='member' jid='bob@localhost'/>")
    assert not sent_to(out, "bob@localhost")  # in the room: its presence says it
    assert all(s.name == "presence" for s in out if s.name != "iq")


# -- §10.2 the owner and admin lists -------------------------------------------------------

def test_the_form_lists_owners_and_admins_as_jid_multi() -> None:
    muc = opened()
    muc.admin(ALICE, f"<item affiliation='admin' jid='{DAVE}'/>")
    [result] = muc.iq(ALICE, "get", f"<query xmlns='{ns.MUC_OWNER}'/>")
    fields = {f["var"]: f for f in result.query.x.elements(ns.X_DATA, "field")}
    for var, jid in (("muc#roomconfig_roomowners", "alice@localhost"),
                     ("muc#roomconfig_roomadmins", DAVE)):
        assert fields[var]["type"] == "jid-multi"
        assert [str(v) for v in fields[var].elements(ns.X_DATA, "value")] == [jid]


def test_submitted_lists_are_the_full_lists() -> None:
    muc = opened((BOB, "Bob"))
    out = muc.iq(ALICE, "set", lists_form(roomadmins=["bob@localhost/b", DAVE],
                                          roomowners=["alice@localhost", "carol@localhost"]))
    assert out[-1]["type"] == "result"
    room = muc.service.rooms["lounge"]
    assert room.affiliations == {"alice@localhost": "owner", "carol@localhost": "owner",
                                 "bob@localhost": "admin", DAVE: "admin"}
    bob = [s for s in sent_to(out, BOB) if s.name == "presence"]
    assert bob[0].x.item["affiliation"] == "admin" and bob[0].x.item["role"] == "moderator"
    assert sent_to(out, "carol@localhost")[0].x.item["affiliation"] == "owner"
    out = muc.iq(ALICE, "set", lists_form(roomadmins=[]))  # an empty field: nobody
    assert room.affiliations == {"alice@localhost": "owner", "carol@localhost": "owner"}
    out = muc.iq(ALICE, "set", lists_form(roomowners=["carol@localhost"]))
    assert room.affiliation("alice@localhost") == "none"  # replaced: allowed
    assert room.affiliation("carol@localhost") == "owner"


def test_lists_follow_the_rules_of_affiliation_changes() -> None:
    muc = opened((BOB, "Bob"))
    room = muc.service.rooms["lounge"]
    [refused] = muc.iq(ALICE, "set", lists_form(roomowners=[], roomdesc=[]))
    assert refused.error.firstChildElement().name == "conflict"  # a room keeps an owner
    [refused] = muc.iq(ALICE, "set", lists_form(roomadmins=["@@@"]))
    assert refused.error.firstChildElement().name == "jid-malformed"
    muc.admin(ALICE, "<item affiliation='admin' jid='bob@localhost'/>")
    [refused] = muc.iq(BOB, "set", lists_form(roomadmins=[]))
    assert refused.error.firstChildElement().name == "forbidden"  # owners configure
    assert room.affiliations == {"alice@localhost": "owner", "bob@localhost": "admin"}


def test_a_refused_list_changes_nothing_else_in_the_form() -> None:
    muc = Muc()
    muc.join(ALICE, "Al")
    muc.configure()
    muc.iq(ALICE, "set", lists_form(roomowners=[], roomname=["New"]))
    assert muc.service.rooms["lounge"].config.name == ""
    assert muc.join(CAROL, "Carol")[-1].name == "message"  # still open


# -- end to end ------------------------------------------------------------------------------

async def test_slixmpp_owner_adds_an_admin_who_is_told_with_101(server):
    alice = await muc_login(server, "alice")
    bob = await muc_login(server, "bob")
    await create(alice)
    form = await alice["xep_0045"].get_room_config(ROOM)
    fields = form.get_fields()
    assert fields["muc#roomconfig_roomowners"]["type"] == "jid-multi"
    assert fields["muc#roomconfig_roomowners"]["value"] == ["alice@localhost"]
    submit = alice["xep_0004"].make_form(ftype="submit")
    submit.add_field(var="FORM_TYPE", ftype="hidden", value=ns.MUC_ROOMCONFIG)
    submit.add_field(var="muc#roomconfig_roomadmins", ftype="jid-multi",
                     value=["bob@localhost"])
    await alice["xep_0045"].set_room_config(ROOM, submit)
    await eventually(lambda: any("101" in {str(c) for c in m["muc"]["status_codes"]}
                                 for m in bob.messages))
    admins = await alice["xep_0045"].get_affiliation_list(ROOM, "admin")
    assert [str(j) for j in admins] == ["bob@localhost"]
    pres, *_ = await join(bob, ROOM, "Bob")
    assert pres["muc"]["affiliation"] == "admin" and pres["muc"]["role"] == "moderator"
    submit = alice["xep_0004"].make_form(ftype="submit")
    submit.add_field(var="muc#roomconfig_roomowners", ftype="jid-multi", value=[])
    try:
        await alice["xep_0045"].set_room_config(ROOM, submit)
        raise AssertionError("the last owner removed")
    except IqError as e:
        assert e.condition == "conflict"
    await close(alice, bob)


async def test_aioxmpp_owner_edits_the_owner_list_in_the_form(server):
    alice = await muc_login(server, "alice")
    await create(alice)
    client = aioxmpp.PresenceManagedClient(
        aioxmpp.JID.fromstr("carol@localhost/aio"),
        aioxmpp.make_security_layer("carol", no_verify=True),
        override_peer=[("127.0.0.1", server.port, aioxmpp.connector.STARTTLSConnector())])
    async with client.connected():
        muc = client.summon(aioxmpp.MUCClient)
        submit = alice["xep_0004"].make_form(ftype="submit")
        submit.add_field(var="muc#roomconfig_roomowners", ftype="jid-multi",
                         value=["alice@localhost", "carol@localhost"])
        await alice["xep_0045"].set_room_config(ROOM, submit)
        data = await muc.get_room_config(aioxmpp.JID.fromstr(ROOM))
        form = aioxmpp.muc.xso.ConfigurationForm.from_xso(data)
        assert {str(j) for j in form.roomowners.value} == {"alice@localhost",
                                                          "carol@localhost"}
        form.roomowners.value = [aioxmpp.JID.fromstr("carol@localhost")]
        form.roomadmins.value = [aioxmpp.JID.fromstr("alice@localhost")]
        await muc.set_room_config(aioxmpp.JID.fromstr(ROOM), form.render_reply())
        await asyncio.sleep(0)
    room = server.muc.rooms["lounge"]
    assert room.affiliations == {"carol@localhost": "owner", "alice@localhost": "admin"}
    await close(alice)
