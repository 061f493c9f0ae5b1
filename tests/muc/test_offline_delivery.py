"""Members with no joined occupant get groupchat messages at their bare JID (as
Prosody's mod_muc_offline_delivery and Tigase), and push turns them into notifications
(XEP-0357 with the in-process MUC, Tigase's per-room filter)."""

from __future__ import annotations

import pytest

from tests.helpers import barrier, close
from tests.muc.helpers import ROOM, create, join, muc_login, talk
from tests.xmlassert import as_element, assert_xml, matches


async def test_members_without_occupant_get_the_message_at_their_bare_jid(server):
    """For push (Prosody's mod_muc_offline_delivery, Tigase): a groupchat copy goes to
    the bare JID of every member on our domain with no joined occupant."""
    seen = []

    class Spy:  # a delivery listener (im/message.py), as the push notifier is one
        def delivered(self, outcome):
            seen.append((outcome.user, as_element(outcome.stanza.toXml()), outcome.result))

    server.local.messages.listeners = (*server.local.messages.listeners, Spy())
    alice = await muc_login(server, "alice")
    bob = await muc_login(server, "bob")
    await create(alice, persistentroom=True)
    for member in ("bob@localhost", "carol@localhost", "dave@elsewhere.example"):
        await alice["xep_0045"].set_affiliation(ROOM, "member", jid=member,
                                                    nick=member[0].upper())
    await join(bob, ROOM, "Bob")  # bob is in the room: no copy for him
    seen.clear()
    await talk(alice, "hello Carol")
    await barrier(alice)
    copies = [(user, stanza, result) for user, stanza, result in seen
              if matches(stanza, "<message to='carol@localhost'/>")]
    assert len(copies) == 1
    assert_xml(copies[0][1], f"""
        <message type='groupchat' from='{ROOM}/owner' to='carol@localhost'>
          <body>hello Carol</body><stanza-id xmlns='urn:xmpp:sid:0'/>
        </message>""")
    assert copies[0][2] == "bounced"  # RFC 6121 §8.5.2: the listeners (push) are told
    to_bob = [stanza["to"] for user, stanza, _ in seen if user == "bob"]
    assert "bob@localhost" not in to_bob and "bob@localhost/test" in to_bob
    assert server.muc.nick(ROOM, "carol@localhost") == "C"
    assert server.muc.nick(ROOM, "bob@localhost") == "Bob"  # joined: the nick in use
    await close(alice, bob)


async def offline_member_with_push(server, name="carol", **enable):
    """``name`` registers push, becomes a member of the room with the nick 'Caro', and
    goes offline (no session at all)."""
    from tests.helpers import enable_push, login

    client = await login(server, name, resource="phone")
    await enable_push(client, "node-" + name, **enable)
    await close(client)


@pytest.mark.server_options(push_groupchat="mentions")
async def test_offline_member_is_pushed_when_mentioned(server):
    from tests.helpers import wait_push

    await offline_member_with_push(server)
    alice = await muc_login(server, "alice")
    await create(alice, persistentroom=True)
    await alice["xep_0045"].set_affiliation(ROOM, "member", jid="carol@localhost",
                                                nick="Caro")
    await talk(alice, "nothing for her")
    await barrier(alice)
    assert server.appserver.find(account="carol") == []
    await talk(alice, "Caro: are you there?")  # the nick from MUC's lookup
    n = await wait_push(server, account="carol")
    assert n.fields["last-message-body"] == "Caro: are you there?"
    assert n.fields["last-message-sender"] == f"{ROOM}/owner"
    await close(alice)


@pytest.mark.server_options(push_groupchat="always")
async def test_offline_member_is_pushed_always_but_a_joined_one_is_not(server):
    from tests.helpers import wait_push

    await offline_member_with_push(server)
    await offline_member_with_push(server, "bob")
    alice = await muc_login(server, "alice")
    await create(alice, persistentroom=True)
    for member in ("carol@localhost", "bob@localhost"):
        await alice["xep_0045"].set_affiliation(ROOM, "member", jid=member)
    bob = await muc_login(server, "bob", resource="desk")
    await join(bob, ROOM, "Bob")  # bob is in the room, plainly available
    await talk(alice, "hello all")
    n = await wait_push(server, account="carol")
    assert n.fields["last-message-body"] == "hello all"
    await barrier(bob)
    assert server.appserver.find(account="bob") == []
    await close(alice, bob)


async def test_offline_member_tigase_filter_per_room(server):
    from tests.helpers import wait_push

    await offline_member_with_push(server)  # no filter, default never: control below
    from tests.helpers import login

    carol = await login(server, "carol", resource="phone2")
    iq = carol.make_iq_set()
    import xml.etree.ElementTree as ET
    enable = ET.fromstring(
        "<enable xmlns='urn:xmpp:push:0' jid='push.localhost' node='filtered'>"
        "<groupchat xmlns='tigase:push:filter:groupchat:0'>"
        f"<room jid='{ROOM}' allow='mentioned' nick='C4'/></groupchat></enable>")
    iq.xml.append(enable)
    await iq.send(timeout=5)
    await close(carol)
    alice = await muc_login(server, "alice")
    await create(alice, persistentroom=True)
    await alice["xep_0045"].set_affiliation(ROOM, "member", jid="carol@localhost",
                                                nick="Caro")
    await talk(alice, "Caro is not the filter's nick")
    await barrier(alice)
    assert server.appserver.find(account="carol") == []
    await talk(alice, "ping C4")
    n = await wait_push(server, account="carol", node="filtered")
    assert n.fields["last-message-body"] == "ping C4"
    assert server.appserver.find(account="carol", node="node-carol") == []  # default never
    await close(alice)
