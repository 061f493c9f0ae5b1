"""Moderators, admins and owners (XEP-0045 §8–§10): roles (§8.2–§8.5, §9.6–§9.7),
affiliations and their lists (§9.1–§9.5, §10.3–§10.8), the room configuration
(§10.1–§10.2) and destroying the room (§10.9)."""

from __future__ import annotations

import itertools
from collections.abc import Callable
from typing import Any

from twisted.logger import Logger
from twisted.words.protocols.jabber import jid
from twisted.words.xish import domish

from minixmpp import addressing, ns
from minixmpp.muc import config as roomconfig
from minixmpp.muc import render
from minixmpp.muc.occupancy import Occupancy
from minixmpp.muc.registry import RoomRegistry
from minixmpp.muc.request import Request, child_text, nickname
from minixmpp.muc.room import RANK, MucError, Occupant, Room, RoomConfig


class Administration:
    """The ``muc#admin`` and ``muc#owner`` queries of every room."""

    log = Logger()

    def __init__(self, registry: RoomRegistry, send: Callable[[domish.Element], None],
                 occupancy: Occupancy) -> None:
        self.registry = registry
        self.send = send
        self.occupancy = occupancy
        self._ids = itertools.count(1)

    # -- muc#admin -------------------------------------------------------------------------

    def lists(self, request: Request) -> domish.Element:
        """§9.5, §10.5 affiliation lists, §8.5 role lists."""
        room, item = request.existing_room(), self._items(request)[0]
        out = domish.Element((ns.MUC_ADMIN, "query"))
        affiliation, role = item.getAttribute("affiliation"), item.getAttribute("role")
        mine = room.affiliation(request.bare)
        if affiliation is not None:
            if affiliation not in RANK or affiliation == "none":
                raise MucError("bad-request", f"no list of affiliation {affiliation!r}")
            needed = "owner" if affiliation in ("owner", "admin") else "admin"
            if RANK[mine] < RANK[needed] and not (
                    affiliation in ("owner", "admin", "member") and RANK[mine] >= RANK["admin"]):
                raise MucError("forbidden", "you may not see that list")
            for member, value in sorted(room.affiliations.items()):
                if value == affiliation:
                    element = out.addElement("item")
                    element["affiliation"], element["jid"] = value, member
                    if member in room.nicks:
                        element["nick"] = room.nicks[member]
            return out
        if role is None:
            raise MucError("bad-request", "ask for an affiliation or a role")
        actor = request.occupant
        if actor is None or actor.role != "moderator":
            raise MucError("forbidden", "only moderators see role lists")
        for occupant in room.occupants.values():
            if occupant.role == role:
                element = out.addElement("item")
                element["nick"], element["role"] = occupant.nick, occupant.role
                element["affiliation"] = room.affiliation(occupant.bare)
                element["jid"] = occupant.jid
        return out

    def change(self, request: Request) -> None:
        """Role and affiliation changes, all checked before any is made (all or nothing)."""
        room, bare, actor = request.existing_room(), request.bare, request.occupant
        changes: list[tuple[str, Any, str, str | None]] = []
        for item in self._items(request):
            reason = child_text(item, "reason")
            if item.getAttribute("affiliation") is not None:
                target, reserved = item.getAttribute("jid"), item.getAttribute("nick")
                if target is None and reserved:
                    occupant = room.occupants.get(reserved)
                    target, reserved = (occupant.bare if occupant else None), None
                if not target:
                    raise MucError("bad-request", "an affiliation is changed by jid")
                target = _bare(target)
                reserved = nickname(reserved) if reserved else None
                room.check_affiliation_change(bare, target, item["affiliation"])
                changes.append(("affiliation", (target, reserved), item["affiliation"], reason))
            elif item.getAttribute("role") is not None:
                occupant = room.occupants.get(item.getAttribute("nick") or "")
                if occupant is None:
                    raise MucError("item-not-found", "no occupant with that nick")
                room.check_role_change(actor, bare, occupant, item["role"])
                changes.append(("role", occupant, item["role"], reason))
            else:
                raise MucError("bad-request", "an item changes a role or an affiliation")
        for kind, target, value, reason in changes:
            if kind == "role":
                self.set_role(room, target, value, actor, reason)
            else:
                self.set_affiliation(room, *target, value, actor, reason)
        self.registry.save(room)

    @staticmethod
    def _items(request: Request) -> list[domish.Element]:
        query = request.payload
        items = list(query.elements(ns.MUC_ADMIN, "item")) if query is not None else []
        if not items:
            raise MucError("bad-request", "an item is needed")
        return items

    def set_role(self, room: Room, occupant: Occupant, role: str, actor: Occupant | None,
                 reason: str | None) -> None:
        """§8.2 kick (role none), §8.3–§8.4 voice, §9.6–§9.7 moderator."""
        if role == "none":
            return self.occupancy.remove(room, occupant, "307", actor, reason)
        occupant.role = role
        self.occupancy.broadcast(room, occupant, actor=actor.nick if actor else None,
                                 reason=reason)

    def set_affiliation(self, room: Room, bare: str, nick: str | None, affiliation: str,
                        actor: Occupant | None, reason: str | None) -> None:
        """§9.1 ban (301), §9.4 membership revoked in a members-only room (321), else the
        role that goes with the new affiliation; for a JID not in the room,
        :meth:`_tell_out_of_room`."""
        room.set_affiliation(bare, affiliation, nick)
        if not room.occupants_of(bare):
            return self._tell_out_of_room(room, bare, affiliation, reason)
        for occupant in room.occupants_of(bare):
            if affiliation == "outcast":
                self.occupancy.remove(room, occupant, "301", actor, reason)
            elif room.config.members_only and RANK[affiliation] < RANK["member"]:
                self.occupancy.remove(room, occupant, "321", actor, reason)
            else:
                occupant.role = room.role_after_affiliation(occupant)
                if affiliation != "none":
                    room.nicks[bare] = occupant.nick
                self.occupancy.broadcast(room, occupant,
                                         actor=actor.nick if actor else None, reason=reason)

    def _tell_out_of_room(self, room: Room, bare: str, affiliation: str,
                          reason: str | None) -> None:
        """The affiliation of a JID not in the room changed: the occupants who may see real
        JIDs are told by a message from the room (§9.3, §10.3, §10.6, as Prosody: every
        occupant of a non-anonymous room, the moderators of a semi-anonymous one), and the
        JID itself at its bare JID with status 101 (§18.1 item 2, Prosody's affiliation_notify)."""
        for occupant, full in room.sessions():
            if room.sees_jid(occupant):
                self.send(render.affiliation_item(room, bare, affiliation, full, reason))
        self.send(render.affiliation_item(room, bare, affiliation, bare, reason, ("101",)))

    # -- muc#owner -------------------------------------------------------------------------

    def config_form(self, request: Request) -> domish.Element:
        """§10.2: the configuration form, to owners."""
        room = request.existing_room()
        room.check_owner(request.bare)
        out = domish.Element((ns.MUC_OWNER, "query"))
        out.addChild(roomconfig.form(room.config, self.registry.limits.history,
                                     room.affiliations))
        return out

    def configure(self, request: Request) -> None:
        """§10.2 a submitted form (which also unlocks a new room, §10.1.1), §10.1.3 the
        initial configuration cancelled, §10.9 destroy."""
        room, query = request.existing_room(), request.payload
        room.check_owner(request.bare)
        assert query is not None
        destroy = next(query.elements(ns.MUC_OWNER, "destroy"), None)
        if destroy is not None:
            return self.destroy(room, destroy)
        x = next(query.elements(ns.X_DATA, "x"), None)
        if x is None:
            raise MucError("bad-request", "a configuration form or destroy is needed")
        if x.getAttribute("type") == "cancel":
            if room.locked:  # §10.1.3: cancelling the initial configuration destroys
                self.destroy(room, None)
            return None
        before = room.config
        config = roomconfig.submitted(x, before, self.registry.limits.history,
                                      self.registry.limits.occupants)
        changes = room.list_changes(request.bare, {
            affiliation: [_bare(j) for j in jids]
            for affiliation, jids in roomconfig.lists(x).items()})
        room.config = config
        room.locked = False
        for bare, affiliation in changes:  # §10.2: the owner and admin lists
            self.set_affiliation(room, bare, None, affiliation, request.occupant, None)
        self._configured(room, before)
        return None

    def _configured(self, room: Room, before: RoomConfig) -> None:
        """§10.2.1: status codes for the change; §9.3: non-members leave a room that became
        members-only (322); a room that became (un)moderated gives the default roles."""
        after = room.config
        self.registry.reconfigured(room, before)
        codes = render.config_codes(before, after)
        for _, full in room.sessions():
            message = domish.Element((None, "message"))
            message["from"], message["to"], message["type"] = room.jid, full, "groupchat"
            message["id"] = f"config-{next(self._ids)}"
            render.user_x(message, codes)
            self.send(message)
        if after.members_only and not before.members_only:
            for occupant in room.members_to_remove():
                self.occupancy.remove(room, occupant, "322", None, None)
        if after.moderated != before.moderated:
            for occupant in list(room.occupants.values()):
                role = room.default_role(room.affiliation(occupant.bare))
                if role != occupant.role and occupant.role != "moderator":
                    occupant.role = role
                    self.occupancy.broadcast(room, occupant)

    def destroy(self, room: Room, destroy: domish.Element | None) -> None:
        """§10.9: everyone leaves with the reason and the alternate venue."""
        for occupant, full in room.sessions():
            self.send(render.presence(room, occupant, full, True, unavailable=True,
                                      affiliation="none", role="none",
                                      destroy=render.destroyed(destroy)))
        self.log.info("room {room} destroyed", room=room.jid)
        self.registry.drop(room.name)


def _bare(text: str) -> str:
    """The bare JID an affiliation is kept by (§5.2), from the JID given."""
    try:
        return addressing.parse(text.strip()).userhost()
    except jid.InvalidFormat:
        raise MucError("jid-malformed", f"{text!r} is not a JID") from None
