"""Registering with a room (XEP-0045 §7.10: a reserved nick, and membership), the reserved
nick discovered (§7.12) and voice requests (§7.13 a visitor asks, §8.6 a moderator
approves)."""

from __future__ import annotations

from collections.abc import Callable

from twisted.words.xish import domish

from minixmpp import forms, ns
from minixmpp.muc.administration import Administration
from minixmpp.muc.occupancy import Occupancy
from minixmpp.muc.registry import RoomRegistry
from minixmpp.muc.request import Request, child_text, nickname
from minixmpp.muc.room import RANK, MucError

#: §7.12: the disco node of the sender's reserved nick
ROOMUSER_ITEM = "x-roomuser-item"
#: Tigase's opt-in for copies to members not in the room (we send them to every member)
TIGASE_OFFLINE = f"{{{ns.TIGASE_MUC}}}offline"


class Registration:
    """In-band registration (XEP-0077, ``ns.REGISTER``) on every room, and the
    ``ns.MUC_REQUEST`` forms."""

    def __init__(self, registry: RoomRegistry, send: Callable[[domish.Element], None],
                 occupancy: Occupancy, administration: Administration) -> None:
        self.registry = registry
        self.send = send
        self.occupancy = occupancy
        self.administration = administration

    # -- §7.10 ------------------------------------------------------------------------------

    def form(self, request: Request) -> domish.Element:
        """§7.10.1: the registration form, or the nick already registered (§7.10.2)."""
        room, bare = request.existing_room(), request.bare
        affiliation = room.affiliation(bare)
        if affiliation == "outcast":
            raise MucError("forbidden", "you are banned from this room")
        out = domish.Element((ns.REGISTER, "query"))
        if RANK[affiliation] >= RANK["member"] and bare in room.nicks:
            out.addElement("registered")
            out.addElement("username", content=room.nicks[bare])
            return out
        if room.config.members_only and affiliation == "none":
            raise MucError("registration-required", "members only")
        out.addElement("instructions", content="Choose the nickname reserved for you in "
                                               "this room; you become a member.")
        out.addElement("nick")  # XEP-0077 §3.1's field, for clients without data forms
        x = forms.form(ns.MUC_REGISTER, "form", f"Register with {room.jid}")
        forms.field(x, "muc#register_roomnick", "text-single", [], "Nickname", required=True)
        forms.field(x, TIGASE_OFFLINE, "boolean", ["1"],
                    "Receive messages while not connected to the room")
        out.addChild(x)
        return out

    def register(self, request: Request) -> None:
        """§7.10.1: a submitted form reserves the nick and makes the account a member;
        ``<remove/>`` (XEP-0077 §3.2) gives a member its registration back."""
        room, bare, query = request.existing_room(), request.bare, request.payload
        affiliation = room.affiliation(bare)
        if affiliation == "outcast":
            raise MucError("forbidden", "you are banned from this room")
        assert query is not None
        if next(query.elements(ns.REGISTER, "remove"), None) is not None:
            if affiliation == "member":  # back to no affiliation
                self.administration.set_affiliation(room, bare, None, "none", None, None)
                self.registry.save(room)
            return None
        form = forms.find(query, ns.MUC_REGISTER)
        if form is not None:
            nick = forms.values(form).get("muc#register_roomnick", "").strip()
        else:  # XEP-0077 §3.1 fields (aioxmpp's ibr.Query has no data form)
            legacy = child_text(query, "nick") or child_text(query, "username")
            if legacy is None:
                raise MucError("bad-request", f"a {ns.MUC_REGISTER} form is needed")
            nick = legacy.strip()
        if not nick:
            raise MucError("not-acceptable", "a nickname is needed")
        nick = nickname(nick)
        taken = [j for j, n in room.nicks.items() if n == nick and j != bare] + [
            o.bare for o in room.occupants_of_nick(nick) if o.bare != bare]
        if taken:
            raise MucError("conflict", "that nickname is taken")
        if room.config.members_only and affiliation == "none":
            raise MucError("registration-required", "members only")
        room.set_affiliation(bare, "member" if affiliation == "none" else affiliation, nick)
        self.registry.save(room)
        for occupant in room.occupants_of(bare):
            occupant.role = room.role_after_affiliation(occupant)
            self.occupancy.broadcast(room, occupant)
        return None

    def reserved(self, request: Request) -> domish.Element:
        """§7.12: disco#info at node ``x-roomuser-item``: the sender's reserved nick as an
        identity, or an empty query when it has none."""
        room = request.existing_room()
        out = domish.Element((ns.DISCO_INFO, "query"))
        out["node"] = ROOMUSER_ITEM
        nick = room.nicks.get(request.bare)
        if nick is not None:
            identity = out.addElement("identity")
            identity["category"], identity["type"], identity["name"] = "conference", "text", nick
        return out

    # -- §7.13, §8.6 ------------------------------------------------------------------------

    def voice(self, request: Request) -> None:
        """A ``muc#request`` form to the room: a visitor's request goes to every moderator
        (§7.13); a moderator's submitted answer grants voice (§8.6)."""
        room = request.existing_room()
        form = forms.find(request.stanza, ns.MUC_REQUEST)
        if form is None:
            raise MucError("bad-request", "messages to a room are groupchat messages")
        occupant = request.occupant
        if occupant is None:
            raise MucError("not-acceptable", "only occupants ask for voice")
        values = forms.values(form)
        if form.getAttribute("type") == "submit" and "muc#request_allow" in values:
            if occupant.role != "moderator":
                raise MucError("forbidden", "only moderators grant voice")
            if values["muc#request_allow"].strip().lower() in ("1", "true"):
                target = room.occupants.get(values.get("muc#roomnick", ""))
                if target is not None and target.role == "visitor":
                    target.role = "participant"
                    self.occupancy.broadcast(room, target, actor=occupant.nick)
            return
        if occupant.role != "visitor":
            return  # nothing to ask for
        for moderator, full in room.sessions():
            if moderator.role != "moderator":
                continue
            out = domish.Element((None, "message"))
            out["from"], out["to"] = room.jid, full
            x = forms.form(ns.MUC_REQUEST, "form", "Voice request")
            for var, kind, value in (("muc#role", "list-single", "participant"),
                                     ("muc#jid", "jid-single", occupant.jid),
                                     ("muc#roomnick", "text-single", occupant.nick),
                                     ("muc#request_allow", "boolean", "false")):
                forms.field(x, var, kind, [value])
            out.addChild(x)
            self.send(out)
