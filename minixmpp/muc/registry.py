"""The rooms of one MUC service (XEP-0045 §10.1 creating, §10.9 destroying): the rooms
and their join history, persistence (``IRoomStore``, the room archive), the service's
limits, the lock of a new room (§10.1.1, opened after Prosody's
``muc_room_lock_timeout``) and temporary rooms vanishing with their last occupant
(§10.1.3)."""

from __future__ import annotations

from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from twisted.logger import Logger
from twisted.words.protocols.jabber import jid

from minixmpp import addressing
from minixmpp.muc.room import MucError, Room, RoomConfig
from minixmpp.storage.interfaces import ArchivedMessage, IArchiveStore, IRoomStore

#: seconds a room nobody configured stays locked (Prosody's muc_room_lock_timeout)
LOCK_TIMEOUT = 300.0


@dataclass
class Limits:
    """The service's limits (each an option, see SECURITY.md)."""

    rooms: int = 1000  # rooms on the service
    occupants: int = 200  # occupants per room (a room's max users is at most this)
    history: int = 50  # history messages kept per room for joins
    rate: float = 10.0  # groupchat messages per second per occupant (0: no limit)
    archive: int = 10000  # archived messages per room
    vcard: int = 131072  # bytes of a room's vCard (XEP-0486; --pep-max-item-size)
    search: int = 50  # rooms in one page of a channel search (XEP-0433)


class RoomRegistry:
    """All rooms of the service at ``jid``, kept in memory, persistent ones stored."""

    log = Logger()

    def __init__(self, jid: str, domain: str, store: IRoomStore, archive: IArchiveStore,
                 limits: Limits, clock: Callable[[], float]) -> None:
        self.jid = jid
        self.domain = domain
        self.store = store
        self.archive = archive
        self.limits = limits
        self.clock = clock
        self.rooms: dict[str, Room] = {}
        #: the last ``limits.history`` messages of each room, for joins (§7.2.13)
        self.history: dict[str, deque[ArchivedMessage]] = {}
        for stored in store.rooms():
            room = Room.restore(stored, f"{stored.name}@{jid}")
            self.rooms[room.name] = room
            self.history[room.name] = deque(archive.messages(room.name)[-limits.history:],
                                            maxlen=limits.history)

    # -- the life of a room ----------------------------------------------------------------

    def new(self, name: str, owner: str, locked: bool) -> Room:
        """§10.1.1: the room ``owner`` creates by entering it; not listed until
        :meth:`add` (the join may still fail)."""
        if len(self.rooms) >= self.limits.rooms:
            raise MucError("not-allowed", "this service has as many rooms as it may")
        room = Room(name, f"{name}@{self.jid}",
                    RoomConfig(history_length=min(20, self.limits.history)),
                    created=self.clock())
        room.affiliations[owner] = "owner"
        room.locked = locked
        return room

    def add(self, room: Room, creator: str) -> None:
        self.rooms[room.name] = room
        self.history[room.name] = deque(maxlen=self.limits.history)
        self.archive.drop(room.name)  # an old room's messages are not this room's
        self.log.info("room {room} created by {jid}", room=room.jid, jid=creator)

    def expire_lock(self, room: Room) -> None:
        """A room left unconfigured opens after :data:`LOCK_TIMEOUT` (as Prosody)."""
        if room.locked and self.clock() - room.created > LOCK_TIMEOUT:
            room.locked = False

    def save(self, room: Room) -> None:
        if room.config.persistent:
            self.store.put(room.stored())

    def reconfigured(self, room: Room, before: RoomConfig) -> None:
        """§10.2: stored once it became persistent, forgotten once it became temporary."""
        if room.config.persistent:
            self.store.put(room.stored())
        elif before.persistent:
            self.store.delete(room.name)

    def vanish(self, room: Room) -> None:
        """§10.1.3: a temporary room is destroyed when its last occupant leaves."""
        if room.empty and not room.config.persistent:
            self.log.info("temporary room {room} is empty: gone", room=room.jid)
            self.drop(room.name)

    def drop(self, name: str) -> None:
        """The room, its history and its archive are gone."""
        self.rooms.pop(name, None)
        self.history.pop(name, None)
        self.store.delete(name)
        self.archive.drop(name)

    # -- for push, accounts and the status page ---------------------------------------

    def nick(self, room_jid: str, account: str) -> str | None:
        """The nick of ``account`` (a bare JID) in the room: its joined nick, else its
        reserved or last-used one; None when the room does not know the account."""
        try:
            parsed = addressing.parse(room_jid)
        except jid.InvalidFormat:
            return None
        room = self.rooms.get(parsed.user or "") if parsed.host == self.jid else None
        if room is None:
            return None
        joined = room.occupants_of(account)
        if joined:
            return joined[0].nick
        return room.nicks.get(account)

    def forget(self, account: str) -> None:
        """Account deletion: its affiliations and nicks go from every room."""
        for room in self.rooms.values():
            if account in room.affiliations or account in room.nicks:
                room.affiliations.pop(account, None)
                room.nicks.pop(account, None)
                self.save(room)

    def clear(self) -> None:
        """Reset: no rooms, no room archives."""
        for name in list(self.rooms):
            self.drop(name)
        for stored in self.store.rooms():
            self.drop(stored.name)

    def describe(self) -> list[dict[str, Any]]:
        """The rooms and their occupants, for the status page and the control API."""
        return [{"jid": room.jid, "name": room.config.name, "persistent": room.config.persistent,
                 "public": room.config.public, "members_only": room.config.members_only,
                 "locked": room.locked, "subject": room.subject,
                 "affiliations": dict(room.affiliations),
                 "occupants": [{"nick": o.nick, "jid": o.bare, "role": o.role,
                                "affiliation": room.affiliation(o.bare),
                                "sessions": list(o.sessions)}
                               for o in room.occupants.values()]}
                for _, room in sorted(self.rooms.items())]
