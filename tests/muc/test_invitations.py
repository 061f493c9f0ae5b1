"""Invitations (XEP-0045 §7.8.2 mediated, with declines; XEP-0249 direct)."""

from __future__ import annotations

from slixmpp.xmlstream.handler import Callback
from slixmpp.xmlstream.matcher import StanzaPath

from tests.helpers import close, eventually
from tests.muc.helpers import ROOM, create, expect, join, muc_login, next_error


async def test_mediated_invitation_adds_member_and_decline_returns(server):
    alice = await muc_login(server, "alice")
    bob = await muc_login(server, "bob")
    await create(alice, membersonly=True)
    invited = expect(bob, "groupchat_invite")
    alice["xep_0045"].invite(ROOM, "bob@localhost", reason="join us")
    invite = await invited
    assert invite["from"].full == ROOM
    assert invite["muc"]["invite"]["from"] == "alice@localhost"
    assert invite["muc"]["invite"]["reason"] == "join us"
    pres, *_ = await join(bob, ROOM, "Bob")  # members-only: the invitation made him one
    assert pres["muc"]["affiliation"] == "member"
    carol = await muc_login(server, "carol")
    declines = []  # slixmpp's groupchat_decline never fires for a client: match it here
    alice.register_handler(Callback("decline", StanzaPath("message/muc/decline"),
                                    declines.append))
    carol["xep_0045"].decline(ROOM, "alice@localhost", reason="busy")
    await eventually(lambda: declines)
    decline = declines[0]
    assert decline["muc"]["decline"]["from"] == "carol@localhost"
    # a non-occupant may not invite
    carol["xep_0045"].invite(ROOM, "bob@localhost")
    assert await next_error(carol) == "not-acceptable"
    await close(alice, bob, carol)


async def test_direct_invitation_passes_through(server):
    alice = await muc_login(server, "alice")
    bob = await muc_login(server, "bob")
    await create(alice)
    got = expect(bob, "groupchat_direct_invite")
    alice["xep_0249"].send_invitation("bob@localhost/test", ROOM, reason="come")
    invite = await got
    assert invite["groupchat_invite"]["jid"] == ROOM and invite["from"].bare == \
        "alice@localhost"
    await close(alice, bob)
