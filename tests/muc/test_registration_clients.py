"""Registering with a room (XEP-0045 §7.10) the way client libraries do it: slixmpp's
XEP-0077 plugin (the data form), aioxmpp's ``ibr.Query`` (the XEP-0077 fields, no form);
the reserved nick discovered (§7.12, node ``x-roomuser-item``) and kept from others."""

from __future__ import annotations

import pytest
from slixmpp.exceptions import IqError, PresenceError

from minixmpp import ns
from tests.helpers import close, login
from tests.muc.helpers import MUC_PLUGINS, ROOM, create, join, muc_login
from tests.muc.test_rules import ALICE, BOB, CAROL, opened, sent_to

aioxmpp = pytest.importorskip("aioxmpp", reason="aioxmpp (the second client library) is "
                              "not installed: pip install -e '.[test]'")
ibr = pytest.importorskip("aioxmpp.ibr")

ROOMUSER = f"<query xmlns='{ns.DISCO_INFO}' node='x-roomuser-item'/>"


def register_form(nick: str) -> str:
    return (f"<query xmlns='{ns.REGISTER}'><x xmlns='{ns.X_DATA}' type='submit'>"
            f"<field var='FORM_TYPE'><value>{ns.MUC_REGISTER}</value></field>"
            f"<field var='muc#register_roomnick'><value>{nick}</value></field></x></query>")


# -- without sockets ------------------------------------------------------------------------

def test_the_form_also_names_the_xep_0077_nick_field_and_takes_it_back() -> None:
    muc = opened()
    [form] = muc.iq(CAROL, "get", f"<query xmlns='{ns.REGISTER}'/>")
    assert form.query.instructions is not None and form.query.nick is not None
    assert form.query.x["type"] == "form"
    [result] = muc.iq(CAROL, "set", f"<query xmlns='{ns.REGISTER}'><nick>Caro</nick></query>")
    assert result["type"] == "result"
    assert muc.service.rooms["lounge"].nicks["carol@localhost"] == "Caro"
    [refused] = muc.iq(BOB, "set", f"<query xmlns='{ns.REGISTER}'/>")
    assert refused.error.firstChildElement().name == "bad-request"  # §7.10: no form


def test_the_reserved_nick_is_discovered_at_x_roomuser_item() -> None:
    muc = opened()
    [empty] = muc.iq(CAROL, "get", ROOMUSER)
    assert empty["type"] == "result" and empty.query["node"] == "x-roomuser-item"
    assert not list(empty.query.elements())  # §7.12: an empty query, not an error
    muc.iq(CAROL, "set", register_form("Caro"))
    [found] = muc.iq(CAROL, "get", ROOMUSER)
    assert found.query.identity["name"] == "Caro"
    assert found.query.identity["category"] == "conference"
    [other] = muc.iq(BOB, "get", f"<query xmlns='{ns.DISCO_INFO}' node='other'/>")
    assert other.error.firstChildElement().name == "item-not-found"  # wokkel's, as before


def test_a_reserved_nick_is_a_conflict_for_anyone_else() -> None:
    muc = opened((BOB, "Bob"))
    muc.iq(CAROL, "set", register_form("Caro"))
    [refused] = muc.join("dave@localhost/d", "Caro")
    assert refused["type"] == "error" and refused.error.conflict is not None
    [refused] = muc.feed(f"<presence from='{BOB}' to='{ROOM}/Caro'/>")  # §7.6
    assert refused.error.conflict is not None
    out = muc.join(CAROL, "Caro")  # its owner enters with it
    assert sent_to(out, ALICE)[0]["from"] == f"{ROOM}/Caro"


# -- end to end ------------------------------------------------------------------------------

async def test_slixmpp_registers_with_its_xep_0077_plugin(server):
    alice = await muc_login(server, "alice")
    await create(alice, persistentroom=True)
    bob = await login(server, "bob", plugins=MUC_PLUGINS + ("xep_0077",))
    got = await bob["xep_0077"].get_registration(jid=ROOM)
    assert not got["register"]["registered"]
    fields = got["register"]["form"].get_fields()
    assert fields["muc#register_roomnick"]["required"]
    iq = bob.make_iq_set(ito=ROOM)
    form = bob["xep_0004"].make_form(ftype="submit")
    form.add_field(var="FORM_TYPE", value=ns.MUC_REGISTER)
    form.add_field(var="muc#register_roomnick", value="Bobby")
    iq["register"].append(form)
    await iq.send(timeout=5)
    got = await bob["xep_0077"].get_registration(jid=ROOM)
    assert got["register"]["registered"] and got["register"]["username"] == "Bobby"
    info = await bob["xep_0030"].get_info(jid=ROOM, node="x-roomuser-item")
    assert [i[3] for i in info["disco_info"]["identities"]] == ["Bobby"]
    carol = await muc_login(server, "carol")
    try:
        await join(carol, ROOM, "Bobby")
        raise AssertionError("joined with another's reserved nick")
    except PresenceError as e:
        assert e.condition == "conflict"
    pres, *_ = await join(bob, ROOM, "Bobby")
    assert pres["muc"]["affiliation"] == "member"
    await bob["xep_0077"].cancel_registration(jid=ROOM)
    assert server.muc.rooms["lounge"].affiliation("bob@localhost") == "none"
    await close(alice, bob, carol)


async def test_aioxmpp_registers_with_ibr_query_fields(server):
    alice = await muc_login(server, "alice")
    await create(alice)
    room = aioxmpp.JID.fromstr(ROOM)
    client = aioxmpp.PresenceManagedClient(
        aioxmpp.JID.fromstr("carol@localhost/aio"),
        aioxmpp.make_security_layer("carol", no_verify=True),
        override_peer=[("127.0.0.1", server.port, aioxmpp.connector.STARTTLSConnector())])
    async with client.connected():
        fields = await client.send(aioxmpp.IQ(type_=aioxmpp.IQType.GET, to=room,
                                              payload=ibr.Query()))
        assert not fields.registered and fields.nick == "" and fields.instructions
        await client.send(aioxmpp.IQ(type_=aioxmpp.IQType.SET, to=room,
                                     payload=ibr.Query(aux_fields={"nick": "Caro"})))
        fields = await client.send(aioxmpp.IQ(type_=aioxmpp.IQType.GET, to=room,
                                              payload=ibr.Query()))
        assert fields.registered and fields.username == "Caro"
        with pytest.raises(aioxmpp.errors.XMPPCancelError) as refused:
            query = ibr.Query(aux_fields={"nick": "owner"})  # alice's nick
            await client.send(aioxmpp.IQ(type_=aioxmpp.IQType.SET, to=room, payload=query))
        assert refused.value.condition == aioxmpp.ErrorCondition.CONFLICT
        remove = ibr.Query()
        remove.remove = True
        await client.send(aioxmpp.IQ(type_=aioxmpp.IQType.SET, to=room, payload=remove))
    assert server.muc.rooms["lounge"].affiliation("carol@localhost") == "none"
    await close(alice)


async def test_a_nick_taken_by_registration_is_refused_to_a_slixmpp_registrant(server):
    alice = await muc_login(server, "alice")
    await create(alice)
    bob = await login(server, "bob", plugins=MUC_PLUGINS + ("xep_0077",))
    iq = bob.make_iq_set(ito=ROOM)
    iq["register"]["nick"] = "owner"  # the XEP-0077 field, alice's nick
    with pytest.raises(IqError) as refused:
        await iq.send(timeout=5)
    assert refused.value.condition == "conflict"
    await close(alice, bob)


def test_the_node_asked_of_the_service_is_still_wokkels_to_answer() -> None:
    muc = opened()
    [answer] = muc.iq(CAROL, "get", ROOMUSER, to="conference.localhost")
    assert answer["type"] == "error"  # not swallowed: answered item-not-found
    assert answer.error.firstChildElement().name == "item-not-found"
