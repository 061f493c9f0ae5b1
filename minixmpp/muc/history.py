"""What a room remembers: the history sent on joining and the subject (XEP-0045
§7.2.13–§7.2.15, §8.1), the room archive (XEP-0313 on a room, with XEP-0359 stanza ids)
and moderation of what it keeps (XEP-0425, in the current and the 0.2 wire format)."""

from __future__ import annotations

import itertools
import secrets
from collections.abc import Callable

from twisted.words.protocols.jabber import error
from twisted.words.xish import domish

from minixmpp import ns
from minixmpp.im import mam_query
from minixmpp.muc import render
from minixmpp.muc.registry import RoomRegistry
from minixmpp.muc.request import Request, child_text
from minixmpp.muc.room import RANK, MucError, Occupant, Room
from minixmpp.stanza import parse
from minixmpp.storage.interfaces import ArchivedMessage
from minixmpp.timestamps import utc_stamp


class History:
    """Join history, subject, archive and moderation of every room of the registry."""

    def __init__(self, registry: RoomRegistry, send: Callable[[domish.Element], None]
                 ) -> None:
        self.registry = registry
        self.send = send
        self._ids = itertools.count(1)
        #: archive ids are unique across restarts: a prefix of this run, then a counter
        self._prefix = secrets.token_hex(3)

    # -- §7.2.13–§7.2.15 on entering ---------------------------------------------------------

    def replay(self, room: Room, to: str, x: domish.Element | None) -> None:
        """§7.2.13: the last messages, with their delay (XEP-0203), filtered by the
        ``<history/>`` the client asked for (§7.2.14)."""
        length = room.config.history_length
        history = list(self.registry.history.get(room.name, ()))[-length:] if length else []
        request = next(x.elements(ns.MUC, "history"), None) if x is not None else None
        if request is not None:
            history = _filter(history, request, self.registry.clock())
        for item in history:
            message = parse(item.xml)
            message["to"] = to
            delay = message.addElement((ns.DELAY, "delay"))
            delay["from"], delay["stamp"] = room.jid, utc_stamp(item.timestamp)
            self.send(message)

    def subject(self, room: Room, to: str) -> domish.Element:
        """§7.2.15: the subject, always sent (empty when there is none), after the history."""
        message = domish.Element((None, "message"))
        message["from"] = (render.occupant_jid(room, room.subject_nick) if room.subject_nick
                           else room.jid)
        message["to"], message["type"] = to, "groupchat"
        message["id"] = f"subject-{next(self._ids)}"
        message.addElement("subject", content=room.subject)
        return message

    def change_subject(self, room: Room, sender: Occupant, subject: str) -> None:
        """§8.1 (checked by the caller with ``Room.check_subject``)."""
        room.subject, room.subject_nick = subject, sender.nick
        self.registry.save(room)

    # -- §7.4: what the room keeps of a message --------------------------------------------

    def record(self, room: Room, message: domish.Element) -> None:
        """Give the room's ``message`` its stanza id (XEP-0359 §3) and keep it for joins
        and, when the room archives, in the archive."""
        archive_id = f"{self._prefix}-{next(self._ids):x}"
        sid = message.addElement((ns.SID, "stanza-id"))
        sid["id"], sid["by"] = archive_id, room.jid
        item = ArchivedMessage(archive_id, self.registry.clock(), message["from"],
                               message.toXml())
        self.registry.history[room.name].append(item)
        if room.config.archiving:
            self.registry.archive.append(room.name, item, self.registry.limits.archive)

    # -- XEP-0313 on the room ----------------------------------------------------------------

    def archive_form(self, request: Request) -> domish.Element:
        """XEP-0313 §4.1.5: the query form's fields."""
        self._check_archive(request)
        return mam_query.fields_form()

    def archive_query(self, request: Request) -> domish.Element:
        """XEP-0313 §4 (as Prosody's mod_muc_mam): the results, then ``<fin/>``."""
        room = self._check_archive(request)
        assert request.payload is not None
        return mam_query.answer(self.registry.archive.messages(room.name), request.payload,
                                self.send, request.full, room.jid)

    def archive_metadata(self, request: Request) -> domish.Element:
        """XEP-0313 §5: the room archive's first and last message (Prosody's
        mod_muc_mam advertises ``#extended`` but has no metadata query)."""
        room = self._check_archive(request)
        return mam_query.metadata(self.registry.archive.messages(room.name))

    def _check_archive(self, request: Request) -> Room:
        """Anyone but outcasts, and members only in a members-only room."""
        room = request.existing_room()
        affiliation = room.affiliation(request.bare)
        if affiliation == "outcast" or (room.config.members_only
                                        and RANK[affiliation] < RANK["member"]):
            raise MucError("forbidden", "this archive is for members only")
        return room

    # -- XEP-0425 moderation ----------------------------------------------------------------

    def moderate(self, request: Request) -> None:
        """XEP-0425 §4: ``<moderate id=…><retract/><reason/></moderate>``."""
        moderate = request.payload
        assert moderate is not None
        self._retract(request, moderate.getAttribute("id", ""), child_text(moderate, "reason"),
                      next(moderate.elements(ns.RETRACT, "retract"), None) is not None)

    def moderate_0(self, request: Request) -> None:
        """XEP-0425 0.2: ``<apply-to id=…><moderate><retract/></moderate></apply-to>``
        (XEP-0422 fastening)."""
        apply_to = request.payload
        assert apply_to is not None
        moderate = next(apply_to.elements(ns.MODERATE_0, "moderate"), None)
        if moderate is None:
            raise MucError("service-unavailable")
        self._retract(request, apply_to.getAttribute("id", ""), child_text(moderate, "reason"),
                      next(moderate.elements(ns.RETRACT_0, "retract"), None) is not None)

    def _retract(self, request: Request, target_id: str, reason: str | None,
                 retract: bool) -> None:
        """A moderator retracts a message; everyone is told (in both wire formats), and
        the archive and the join history keep a tombstone in its place."""
        room = request.existing_room()
        actor = request.occupant
        if actor is None or actor.role != "moderator":
            raise MucError("forbidden", "only moderators moderate")
        if not retract:
            raise MucError("bad-request", "only retraction is supported")
        history = self.registry.history.get(room.name)
        item = next((m for m in self.registry.archive.messages(room.name)
                     if m.id == target_id), None) \
            or next((m for m in history or () if m.id == target_id), None)
        if item is None:
            raise MucError("item-not-found", "no message with that stanza-id")
        moderated = domish.Element((ns.MODERATE, "moderated"))
        moderated["by"] = render.occupant_jid(room, actor.nick)
        render.occupant_id(moderated, room, actor.bare)
        tombstone = _tombstone(parse(item.xml), moderated, reason, self.registry.clock())
        self.registry.archive.replace(room.name, target_id, tombstone)
        if history is not None:
            for i, m in enumerate(history):
                if m.id == target_id:
                    history[i] = ArchivedMessage(m.id, m.timestamp, m.with_jid, tombstone)
        announcement = _announcement(room, target_id, moderated, reason,
                                     f"retract-{next(self._ids):x}")
        for _, full in room.sessions():
            self.send(render.copy_to(announcement, full))


def _tombstone(original: domish.Element, moderated: domish.Element, reason: str | None,
               now: float) -> str:
    """XEP-0425 §5, XEP-0424 §5.1: what the archive keeps of a retracted message."""
    tombstone = domish.Element((None, "message"))
    tombstone["type"], tombstone["from"] = "groupchat", original["from"]
    retracted = tombstone.addElement((ns.RETRACT, "retracted"))
    retracted["stamp"] = utc_stamp(now)
    retracted.addChild(moderated)
    if reason:
        retracted.addElement("reason", content=reason)
    for child in original.elements():
        if (child.uri, child.name) in ((ns.OCCUPANT_ID, "occupant-id"),
                                       (ns.SID, "stanza-id")):
            tombstone.addChild(child)
    return tombstone.toXml()


def _announcement(room: Room, target_id: str, moderated: domish.Element,
                  reason: str | None, message_id: str) -> domish.Element:
    """XEP-0425 §4 Example 3, with the 0.2 ``apply-to`` for older clients."""
    announcement = domish.Element((None, "message"))
    announcement["type"], announcement["from"] = "groupchat", room.jid
    announcement["id"] = message_id
    element = announcement.addElement((ns.RETRACT, "retract"))
    element["id"] = target_id
    element.addChild(moderated)
    if reason:
        element.addElement("reason", content=reason)
    announcement.addElement("body", content="This message was retracted by a moderator")
    announcement.addElement((ns.FALLBACK, "fallback"))["for"] = ns.RETRACT
    old = announcement.addElement((ns.FASTEN, "apply-to"))
    old["id"] = target_id
    old_moderated = old.addElement((ns.MODERATE_0, "moderated"))
    old_moderated["by"] = moderated["by"]
    old_moderated.addElement((ns.RETRACT_0, "retract"))
    if reason:
        old_moderated.addElement("reason", content=reason)
    return announcement


def _filter(history: list[ArchivedMessage], request: domish.Element,
            now: float) -> list[ArchivedMessage]:
    """§7.2.14: ``maxstanzas``, ``maxchars``, ``seconds``, ``since`` (all that are given)."""
    def number(name: str) -> int | None:
        value = request.getAttribute(name)
        if value is None:
            return None
        try:
            return max(0, int(value))
        except ValueError:
            return None

    seconds = number("seconds")
    if seconds is not None:
        history = [m for m in history if m.timestamp >= now - seconds]
    since = request.getAttribute("since")
    if since:
        try:
            moment: float | None = mam_query.parse_time(since)
        except error.StanzaError:
            moment = None
        if moment is not None:
            history = [m for m in history if m.timestamp >= moment]
    stanzas = number("maxstanzas")
    if stanzas is not None:
        history = history[len(history) - stanzas:] if stanzas else []
    chars = number("maxchars")
    if chars is not None:
        kept: list[ArchivedMessage] = []
        total = 0
        for m in reversed(history):
            total += len(m.xml)
            if total > chars:
                break
            kept.append(m)
        history = list(reversed(kept))
    return history
