"""Registering with a room (XEP-0045 §7.10) and voice requests (§7.13, §8.6)."""

from __future__ import annotations

from tests.helpers import close, eventually
from tests.muc.helpers import ROOM, create, expect, join, muc_login, next_error, next_groupchat
from tests.raw import raw_login, stanza_error
from tests.xmlassert import assert_xml


async def test_registration_reserves_a_nick_and_makes_a_member(server):
    """§7.10 with raw XML (slixmpp's xep_0045 has no registration)."""
    alice = await muc_login(server, "alice")
    await create(alice, persistentroom=True)
    raw = await raw_login(server, "bob")
    raw.send(f"<iq type='get' id='r1' to='{ROOM}'><query xmlns='jabber:iq:register'/></iq>")
    form = await raw.next("<iq id='r1'/>")
    assert_xml(form, """
        <iq type='result'><query xmlns='jabber:iq:register'><x xmlns='jabber:x:data'>
          <field var='muc#register_roomnick'><required/></field>
          <field var='{http://tigase.org/protocol/muc}offline'/>
        </x></query></iq>""")
    raw.send(f"<iq type='set' id='r2' to='{ROOM}'><query xmlns='jabber:iq:register'>"
             "<x xmlns='jabber:x:data' type='submit'><field var='FORM_TYPE'><value>"
             "http://jabber.org/protocol/muc#register</value></field><field var='muc#"
             "register_roomnick'><value>owner</value></field></x></query></iq>")
    assert_xml(await raw.next("<iq id='r2'/>"), stanza_error("iq", "conflict"))  # alice's
    raw.send(f"<iq type='set' id='r3' to='{ROOM}'><query xmlns='jabber:iq:register'>"
             "<x xmlns='jabber:x:data' type='submit'><field var='FORM_TYPE'><value>"
             "http://jabber.org/protocol/muc#register</value></field><field var='muc#"
             "register_roomnick'><value>Bobby</value></field></x></query></iq>")
    assert_xml(await raw.next("<iq id='r3'/>"), "<iq type='result'/>")
    assert server.muc.rooms["lounge"].affiliation("bob@localhost") == "member"
    assert server.muc.nick(ROOM, "bob@localhost") == "Bobby"
    assert server.storage.rooms.get("lounge").nicks["bob@localhost"] == "Bobby"
    raw.send(f"<iq type='get' id='r4' to='{ROOM}'><query xmlns='jabber:iq:register'/></iq>")
    assert_xml(await raw.next("<iq id='r4'/>"), "<iq type='result'><query xmlns="
               "'jabber:iq:register'><registered/><username>Bobby</username></query></iq>")
    raw.send(f"<iq type='set' id='r5' to='{ROOM}'><query xmlns='jabber:iq:register'>"
             "<remove/></query></iq>")
    assert_xml(await raw.next("<iq id='r5'/>"), "<iq type='result'/>")
    assert server.muc.rooms["lounge"].affiliation("bob@localhost") == "none"
    raw.close()
    await close(alice)


async def test_moderated_room_visitor_voice_request_and_grant(server):
    alice = await muc_login(server, "alice")
    bob = await muc_login(server, "bob")
    await create(alice, moderatedroom=True)
    pres, *_ = await join(bob, ROOM, "Bob")
    assert pres["muc"]["role"] == "visitor"
    bob.send_message(mto=ROOM, mbody="can I speak?", mtype="groupchat")
    assert await next_error(bob) == "forbidden"
    request = expect(alice, "message_xform")
    bob["xep_0045"].request_voice(ROOM, "participant")
    request = await request
    fields = request["form"].get_fields()
    assert fields["muc#roomnick"]["value"] == "Bob" and fields["muc#role"]["value"] == \
        "participant"
    answer = alice.make_message(mto=ROOM)
    form = alice["xep_0004"].make_form(ftype="submit")
    form.add_field(var="FORM_TYPE", value="http://jabber.org/protocol/muc#request")
    form.add_field(var="muc#role", value="participant")
    form.add_field(var="muc#roomnick", value="Bob")
    form.add_field(var="muc#request_allow", value="true")
    answer.append(form)
    bob.muc_presences.clear()
    answer.send()
    await eventually(lambda: any(p["muc"]["role"] == "participant"
                                     for p in bob.muc_presences))
    bob.messages.clear()
    bob.send_message(mto=ROOM, mbody="thanks", mtype="groupchat")
    assert (await next_groupchat(bob))["body"] == "thanks"
    await close(alice, bob)
