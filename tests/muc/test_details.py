"""What testers check in a room's disco#info (issue 23): ``muc#stable_id`` (XEP-0045
§7.4: the client's id reflected, one id of the room's for every copy otherwise),
``muc#self-ping-optimization`` (XEP-0410 §3.2) and ``muc#request`` (§7.13, §8.6), each
made true; aioxmpp's voice request end to end."""

from __future__ import annotations

import asyncio

import pytest

from minixmpp import ns
from tests.helpers import close, eventually
from tests.muc.helpers import ROOM, create, expect, join, muc_login
from tests.muc.test_rules import ALICE, BOB, CAROL, opened, sent_to

aioxmpp = pytest.importorskip("aioxmpp", reason="aioxmpp (the second client library) is "
                              "not installed: pip install -e '.[test]'")

FEATURES = (ns.MUC_STABLE_ID, ns.MUC_SELF_PING, ns.MUC_REQUEST)


def features(stanza) -> set[str]:
    return {f["var"] for f in stanza.query.elements(ns.DISCO_INFO, "feature")}


# -- without sockets ------------------------------------------------------------------------

def test_room_and_service_disco_promise_stable_ids_self_ping_and_voice_requests() -> None:
    muc = opened()
    [room] = muc.iq(BOB, "get", f"<query xmlns='{ns.DISCO_INFO}'/>")
    assert set(FEATURES) <= features(room)
    [service] = muc.iq(BOB, "get", f"<query xmlns='{ns.DISCO_INFO}'/>",
                       to="conference.localhost")
    assert ns.MUC_STABLE_ID in features(service)  # §7.4: "on both the service and rooms"


def test_a_message_without_id_gets_one_id_for_every_copy() -> None:
    muc = opened((BOB, "Bob"), (CAROL, "Carol"))
    out = muc.say(BOB, "no id")
    ids = {m.getAttribute("id") for m in out if m.name == "message"}
    assert len(ids) == 1 and None not in ids and len(out) == 3
    out = muc.feed(f"<message type='groupchat' id='mine' from='{BOB}' to='{ROOM}'>"
                   "<body>with id</body></message>")
    assert {m.getAttribute("id") for m in out} == {"mine"}
    [copy] = sent_to(out, ALICE)
    assert copy.getAttribute("id") == "mine"


def test_the_room_answers_a_self_ping_without_asking_the_client() -> None:
    muc = opened((BOB, "Bob"))
    [pong] = muc.iq(BOB, "get", f"<ping xmlns='{ns.PING}'/>", to=f"{ROOM}/Bob")
    assert pong["type"] == "result" and pong["to"] == BOB  # nothing went to bob's client
    [refused] = muc.iq(CAROL, "get", f"<ping xmlns='{ns.PING}'/>", to=f"{ROOM}/Bob")
    assert refused["type"] == "error" and refused.error.firstChildElement().name == \
        "not-acceptable"  # §3.2: the client is not joined


# -- end to end ------------------------------------------------------------------------------

async def test_slixmpp_sees_the_features_and_the_id_it_sent(server):
    alice = await muc_login(server, "alice")
    await create(alice)
    info = await alice["xep_0030"].get_info(jid=ROOM)
    assert set(FEATURES) <= set(info["disco_info"]["features"])
    info = await alice["xep_0030"].get_info(jid="conference.localhost")
    assert ns.MUC_STABLE_ID in info["disco_info"]["features"]
    message = alice.make_message(mto=ROOM, mbody="tracked", mtype="groupchat")
    message["id"] = "track-1"
    echoed = expect(alice, "groupchat_message")
    message.send()
    assert (await echoed)["id"] == "track-1"
    await close(alice)


def aioxmpp_client(server, user: str):
    return aioxmpp.PresenceManagedClient(
        aioxmpp.JID.fromstr(f"{user}@localhost/aio"),
        aioxmpp.make_security_layer(user, no_verify=True),
        override_peer=[("127.0.0.1", server.port, aioxmpp.connector.STARTTLSConnector())])


async def test_aioxmpp_asks_for_voice_and_a_slixmpp_moderator_grants_it(server):
    """aioxmpp's own voice-request test runs only where the room has ``muc#request``;
    the same flow end to end: the feature, the request, the grant, the new role."""
    alice = await muc_login(server, "alice")
    await create(alice, moderatedroom=True)
    client = aioxmpp_client(server, "carol")
    async with client.connected():
        info = await client.summon(aioxmpp.DiscoClient).query_info(
            aioxmpp.JID.fromstr(ROOM), require_fresh=True)
        assert ns.MUC_REQUEST in info.features
        room, joined = client.summon(aioxmpp.MUCClient).join(
            aioxmpp.JID.fromstr(ROOM), "Carol")
        await asyncio.wait_for(joined, 5)
        assert room.me.role == "visitor"
        roles: list[str] = []
        room.on_muc_role_changed.connect(lambda *args, **kw: roles.append(room.me.role))
        request = expect(alice, "message_xform")
        await room.muc_request_voice()
        fields = (await request)["form"].get_fields()
        assert fields["muc#roomnick"]["value"] == "Carol"
        assert fields["muc#jid"]["value"] == "carol@localhost/aio"
        answer = alice.make_message(mto=ROOM)
        form = alice["xep_0004"].make_form(ftype="submit")
        form.add_field(var="FORM_TYPE", value=ns.MUC_REQUEST)
        form.add_field(var="muc#roomnick", value="Carol")
        form.add_field(var="muc#request_allow", value="true")
        answer.append(form)
        answer.send()
        await eventually(lambda: "participant" in roles)
        assert room.me.role == "participant"
        await room.leave()
    await close(alice)


async def test_a_self_ping_with_aioxmpp_is_answered_by_the_room(server):
    """aioxmpp's MUC self-ping (XEP-0410) keeps the room joined: the room answers."""
    alice = await muc_login(server, "alice")
    await create(alice)
    client = aioxmpp_client(server, "bob")
    async with client.connected():
        room, joined = client.summon(aioxmpp.MUCClient).join(aioxmpp.JID.fromstr(ROOM), "Bob")
        await asyncio.wait_for(joined, 5)
        await client.send(aioxmpp.IQ(type_=aioxmpp.IQType.GET,
                                     to=aioxmpp.JID.fromstr(f"{ROOM}/Bob"),
                                     payload=aioxmpp.ping.Ping()))
        await room.leave()
    await close(alice)


async def test_an_aioxmpp_moderator_answers_a_slixmpp_voice_request(server):
    """The request form the room sends is one aioxmpp reads (``on_muc_role_request``), and
    the answer aioxmpp renders from it grants voice."""
    bob = await muc_login(server, "bob")
    client = aioxmpp_client(server, "carol")
    async with client.connected():
        muc = client.summon(aioxmpp.MUCClient)
        room, joined = muc.join(aioxmpp.JID.fromstr(ROOM), "Carol")
        await asyncio.wait_for(joined, 5)
        form = aioxmpp.muc.xso.ConfigurationForm.from_xso(
            await muc.get_room_config(aioxmpp.JID.fromstr(ROOM)))
        form.moderatedroom.value = True
        await muc.set_room_config(aioxmpp.JID.fromstr(ROOM), form.render_reply())
        asked: list[str] = []

        def on_request(request, answer) -> None:
            asked.append(request.roomnick.value)
            request.request_allow.value = True
            answer.set_result(request.render_reply())

        room.on_muc_role_request.connect(on_request)
        pres, *_ = await join(bob, ROOM, "Bob")
        assert pres["muc"]["role"] == "visitor"
        bob.muc_presences.clear()
        bob["xep_0045"].request_voice(ROOM, "participant")
        await eventually(lambda: any(p["muc"]["role"] == "participant"
                                     for p in bob.muc_presences))
        assert asked == ["Bob"]
        await room.leave()
    await close(bob)
