"""Mediated invitations and their declines (XEP-0045 §7.8.2). Direct invitations
(XEP-0249) go from client to client and never reach the room."""

from __future__ import annotations

from collections.abc import Callable

from twisted.words.protocols.jabber import jid
from twisted.words.xish import domish

from minixmpp import addressing, ns
from minixmpp.muc.registry import RoomRegistry
from minixmpp.muc.request import Request, child_text
from minixmpp.muc.room import RANK, MucError, Occupant, Room


class Invitations:
    """``<x xmlns='…muc#user'><invite/></x>`` and ``<decline/>`` sent to a room."""

    def __init__(self, registry: RoomRegistry, send: Callable[[domish.Element], None]
                 ) -> None:
        self.registry = registry
        self.send = send

    def mediated(self, request: Request) -> None:
        """Each invitation goes to its invitee from the room, each decline to its inviter."""
        room = request.existing_room()
        x = request.child(ns.MUC_USER, "x")
        assert x is not None
        for invite in x.elements(ns.MUC_USER, "invite"):
            self._invite(room, request.occupant, request.bare, invite)
        for decline in x.elements(ns.MUC_USER, "decline"):
            self._decline(room, request.bare, decline)

    def _invite(self, room: Room, occupant: Occupant | None, bare: str,
                invite: domish.Element) -> None:
        """An invitation to a members-only room makes the invitee a member (as Prosody),
        and carries the room's password."""
        room.check_invite(occupant, bare)
        try:
            invitee = addressing.parse(invite.getAttribute("to") or "")
        except jid.InvalidFormat:
            raise MucError("jid-malformed", "the invitee's JID is not valid") from None
        if room.config.members_only and RANK[room.affiliation(invitee.userhost())] < RANK[
                "member"]:
            room.set_affiliation(invitee.userhost(), "member")
            self.registry.save(room)
        out = domish.Element((None, "message"))
        out["from"], out["to"] = room.jid, invitee.full()
        x = out.addElement((ns.MUC_USER, "x"))
        element = x.addElement("invite")
        element["from"] = bare
        reason = child_text(invite, "reason")
        if reason:
            element.addElement("reason", content=reason)
        if room.config.password_protected:
            x.addElement("password", content=room.config.password)
        out.addElement("body", content=f"{bare} invites you to the room {room.jid}"
                       + (f": {reason}" if reason else ""))
        self.send(out)

    def _decline(self, room: Room, bare: str, decline: domish.Element) -> None:
        try:
            inviter = addressing.parse(decline.getAttribute("to") or "")
        except jid.InvalidFormat:
            raise MucError("jid-malformed", "the inviter's JID is not valid") from None
        out = domish.Element((None, "message"))
        out["from"], out["to"] = room.jid, inviter.full()
        element = out.addElement((ns.MUC_USER, "x")).addElement("decline")
        element["from"] = bare
        reason = child_text(decline, "reason")
        if reason:
            element.addElement("reason", content=reason)
        self.send(out)
