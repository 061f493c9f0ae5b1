"""Presence to a room (XEP-0045 §7.1–§7.3 entering, §7.6 changing nick, §7.7 changing
availability, §7.14 exiting): who is in the room and how the others are told, and
occupants removed by a moderator (§8.2, §9.1, §9.4) or by their own delivery errors
(Prosody's kickable errors, status 333)."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any

from twisted.words.xish import domish

from minixmpp import ns
from minixmpp.muc import render
from minixmpp.muc.history import History
from minixmpp.muc.registry import RoomRegistry
from minixmpp.muc.request import Request, child_text
from minixmpp.muc.room import MucError, Occupant, Room

if TYPE_CHECKING:
    from minixmpp.muc.messages import Rates

#: delivery errors that remove the occupant who sent them (Prosody's list)
KICKABLE = {"gone", "internal-server-error", "item-not-found", "jid-malformed",
            "recipient-unavailable", "redirect", "remote-server-not-found",
            "remote-server-timeout", "service-unavailable"}


class Occupancy:
    """Entering, staying in and leaving every room of the registry."""

    def __init__(self, registry: RoomRegistry, send: Callable[[domish.Element], None],
                 history: History, rates: Rates) -> None:
        self.registry = registry
        self.send = send
        self.history = history
        self.rates = rates

    # -- presence the table routes here ----------------------------------------------------

    def available(self, request: Request) -> None:
        """Available presence to ``room/nick``: entering (§7.2), a nick change (§7.6),
        entering again from a joined session, or a new status (§7.7)."""
        nick = request.nick
        if not nick or not nick.strip():
            raise MucError("jid-malformed", "a nickname is needed to join")  # §7.2.3
        room, full, presence = request.found, request.full, request.stanza
        occupant = room.occupant_of(full) if room is not None else None
        if room is None or occupant is None:
            self.join(request, nick)
        elif occupant.nick != nick:
            self.change_nick(room, occupant, full, nick, presence)
        elif request.child(ns.MUC, "x") is not None:
            self.rejoin(room, occupant, full, presence)
        else:
            occupant.sessions[full] = render.clean(presence)
            self.broadcast(room, occupant)

    def unavailable(self, request: Request) -> None:
        """§7.14: an occupant's session leaves."""
        room = request.found
        if room is not None and room.occupant_of(request.full) is not None:
            self.leave(room, request.full, request.stanza)

    def bounced(self, request: Request) -> None:
        """An occupant's client answered the room with a delivery error: that session
        leaves, with 333 (as Prosody's handle_kickable)."""
        room, full = request.found, request.full
        if room is None or room.occupant_of(full) is None:
            return  # not an occupant (e.g. the bounce of a member's bare-JID copy)
        element = next((c for c in request.stanza.elements() if c.name == "error"), None)
        condition = next((c.name for c in element.elements()
                          if c.uri == ns.STANZAS and c.name != "text"), None) \
            if element is not None else None
        if condition is not None and condition not in KICKABLE:
            return
        status = domish.Element((None, "presence"))
        status["type"] = "unavailable"
        status.addElement("status", content="Kicked: " + (condition or "error").replace(
            "-", " "))
        self.leave(room, full, status, codes=("333",))

    # -- §7.2 entering -------------------------------------------------------------------

    def join(self, request: Request, nick: str) -> None:
        """§7.2: the checks of §7.2.5–§7.2.10, then the occupants to the newcomer, the
        newcomer to the occupants, its own presence, the history and the subject. A room
        that does not exist is created (§10.1.1): locked until configured, unless the
        client is a gc-1.0 one (no ``<x/>``), which gets an instant room."""
        x = request.child(ns.MUC, "x")
        room, full, bare = request.found, request.full, request.bare
        created = room is None
        if room is None:
            assert request.to.user is not None
            room = self.registry.new(request.to.user, bare, locked=x is not None)
        self.registry.expire_lock(room)
        existing = room.check_join(full, bare, nick, child_text(x, "password"),
                                   self.registry.limits.occupants)
        if created:
            self.registry.add(room, full)
        occupant = room.add(full, bare, nick, render.clean(request.stanza))
        self._enter(room, occupant, full, x, render.self_codes(room, created),
                    announce=existing is None)
        self.registry.save(room)

    def rejoin(self, room: Room, occupant: Occupant, full: str,
               presence: domish.Element) -> None:
        """A join presence from a session that is already in (a client that lost its
        state, as after a failed resumption): the join flow again for that session, as
        Prosody does; the others only see a presence update."""
        occupant.sessions[full] = render.clean(presence)
        self._enter(room, occupant, full, next(presence.elements(ns.MUC, "x"), None),
                    render.self_codes(room), announce=True)

    def _enter(self, room: Room, occupant: Occupant, full: str, x: domish.Element | None,
               codes: list[str], announce: bool) -> None:
        for other in list(room.occupants.values()):  # §7.2.3 existing occupants first
            if other is not occupant:
                self.send(render.presence(room, other, full, room.sees_jid(occupant)))
        if announce:
            self.broadcast(room, occupant, exclude=full)
        self.send(render.presence(room, occupant, full, True, codes=codes))
        self.history.replay(room, full, x)
        self.send(self.history.subject(room, full))  # §7.2.15
        if room.avatar_hashes:  # XEP-0486 §5.2, as Prosody: after the join flow
            self.send(render.avatar_presence(room, full))

    # -- §7.6 changing nick, §7.14 exiting -----------------------------------------------

    def change_nick(self, room: Room, occupant: Occupant, full: str, new: str,
                    presence: domish.Element) -> None:
        """§7.6: unavailable from the old nick with 303, then available from the new."""
        room.check_nick(occupant, new)
        self.broadcast(room, occupant, unavailable=True, codes=("303",), nick=new)
        room.rename(occupant, new)
        occupant.sessions[full] = render.clean(presence)
        self.broadcast(room, occupant)
        self.registry.save(room)

    def leave(self, room: Room, full: str, presence: domish.Element | None,
              codes: tuple[str, ...] = ()) -> None:
        """§7.14: the unavailable presence goes to everyone, the leaver included; when
        another session of the occupant stays, only the leaving session is told."""
        occupant = room.occupant_of(full)
        if occupant is None:
            return
        last = len(occupant.sessions) == 1
        if presence is not None:
            occupant.sessions[full] = render.clean(presence)
        if last:
            self.broadcast(room, occupant, unavailable=True, codes=codes)
        else:
            self.send(render.presence(room, occupant, full, True, unavailable=True,
                                      codes=("110", *codes)))
        room.remove_session(full)
        self.rates.forget(room, full)
        self.registry.vanish(room)

    def remove(self, room: Room, occupant: Occupant, code: str, actor: Occupant | None,
               reason: str | None) -> None:
        """§8.2 kick (307), §9.1 ban (301), §9.3/§10.2 members-only (321/322)."""
        self.broadcast(room, occupant, unavailable=True, codes=(code,),
                       actor=actor.nick if actor else None, reason=reason)
        room.remove_occupant(occupant)
        self.registry.vanish(room)

    # -- telling everyone -----------------------------------------------------------------

    def broadcast(self, room: Room, occupant: Occupant, *, unavailable: bool = False,
                  codes: Iterable[str] = (), exclude: str | None = None, **item: Any) -> None:
        """``occupant``'s presence to every session in the room, each seeing what it may
        (§7.2.3–§7.2.4), its own sessions with 110."""
        codes = tuple(codes)
        for receiver, full in room.sessions():
            if full == exclude:
                continue
            mine = receiver is occupant
            self.send(render.presence(room, occupant, full, room.sees_jid(receiver) or mine,
                                      unavailable=unavailable,
                                      codes=(("110",) if mine else ()) + codes, **item))
