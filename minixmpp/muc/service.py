"""The MUC service's protocol (XEP-0045): presence, messages and IQs of the service and
its rooms, rendered from the rules in :mod:`minixmpp.muc.room`.

Also on each room: its archive (XEP-0313, with XEP-0359 stanza ids), self-ping
(XEP-0410), occupant ids (XEP-0421) and moderation (XEP-0425). Members with no joined
occupant get a copy of each groupchat message at their bare JID (as Prosody's
mod_muc_offline_delivery and Tigase do), for push notifications.
"""

from __future__ import annotations

import itertools
import secrets
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from twisted.logger import Logger
from twisted.words.protocols.jabber import error, jid
from twisted.words.xish import domish
from wokkel.subprotocols import XMPPHandler

from minixmpp import addressing, forms, ns
from minixmpp.im import mam
from minixmpp.muc import config as roomconfig
from minixmpp.muc.room import RANK, MucError, Occupant, Room, RoomConfig
from minixmpp.stanza import deep_copy, parse
from minixmpp.storage.interfaces import ArchivedMessage, IArchiveStore, IRoomStore
from minixmpp.timestamps import utc_stamp

#: Tigase's opt-in for copies to members not in the room (we send them to every member)
TIGASE_OFFLINE = f"{{{ns.TIGASE_MUC}}}offline"
LOCK_TIMEOUT = 300.0
#: delivery errors that remove the occupant who sent them (Prosody's list)
KICKABLE = {"gone", "internal-server-error", "item-not-found", "jid-malformed",
            "recipient-unavailable", "redirect", "remote-server-not-found",
            "remote-server-timeout", "service-unavailable"}
#: children the room never passes on from a client (it sets its own)
FORGEABLE = {(ns.OCCUPANT_ID, "occupant-id"), (ns.MUC_USER, "x")}


@dataclass
class Limits:
    """The service's limits (each an option, see SECURITY.md)."""

    rooms: int = 1000  # rooms on the service
    occupants: int = 200  # occupants per room (a room's max users is at most this)
    history: int = 50  # history messages kept per room for joins
    rate: float = 10.0  # groupchat messages per second per occupant (0: no limit)
    archive: int = 10000  # archived messages per room


class MucService(XMPPHandler):
    """All rooms of one MUC service at ``jid`` (XEP-0045 §6–§10)."""

    log = Logger()

    def __init__(self, jid: str, domain: str, store: IRoomStore, archive: IArchiveStore,
                 limits: Limits, clock: Callable[[], float]) -> None:
        super().__init__()
        self.jid = jid
        self.domain = domain
        self.store = store
        self.archive = archive
        self.limits = limits
        self.clock = clock
        self.rooms: dict[str, Room] = {}
        self._history: dict[str, deque[ArchivedMessage]] = {}
        self._ids = itertools.count(1)
        self._prefix = secrets.token_hex(3)
        self._buckets: dict[tuple[str, str], tuple[float, float]] = {}
        self._forwarded: dict[str, tuple[str, str, str]] = {}  # IQs between occupants
        for stored in store.rooms():
            room = Room.restore(stored, f"{stored.name}@{jid}")
            self.rooms[room.name] = room
            self._history[room.name] = deque(archive.messages(room.name)[-limits.history:],
                                             maxlen=limits.history)

    def connectionInitialized(self) -> None:
        self.xmlstream.addObserver("/presence", self.onPresence)
        self.xmlstream.addObserver("/message", self.onMessage)
        self.xmlstream.addObserver("/iq", self.onIQ)

    # -- for push and the status page -----------------------------------------------------

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

    def account_nick(self, user: str, room_jid: str) -> str | None:
        """:meth:`nick` with push's ``NickLookup`` arguments: (account name, room JID)."""
        return self.nick(room_jid, f"{user}@{self.domain}")

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

    def forget(self, account: str) -> None:
        """Account deletion: its affiliations and nicks go from every room."""
        for room in self.rooms.values():
            if account in room.affiliations or account in room.nicks:
                room.affiliations.pop(account, None)
                room.nicks.pop(account, None)
                self._save(room)

    def clear(self) -> None:
        """Reset: no rooms, no room archives."""
        for name in list(self.rooms):
            self._drop(name)
        for stored in self.store.rooms():
            self._drop(stored.name)

    def _drop(self, name: str) -> None:
        self.rooms.pop(name, None)
        self._history.pop(name, None)
        self.store.delete(name)
        self.archive.drop(name)

    # -- plumbing ----------------------------------------------------------------------------------

    def _save(self, room: Room) -> None:
        if room.config.persistent:
            self.store.put(room.stored())

    def _occupant_jid(self, room: Room, nick: str) -> str:
        return f"{room.jid}/{nick}"

    def _error(self, stanza: domish.Element, e: MucError) -> None:
        if stanza.getAttribute("type") == "error":
            return
        reply = error.StanzaError(e.condition, e.type, e.text).toResponse(stanza)
        if stanza.name == "presence":
            reply.addElement((ns.MUC, "x"))
        self.send(reply)

    @staticmethod
    def _sessions(occupants: Iterable[Occupant]) -> Iterable[tuple[Occupant, str]]:
        for occupant in list(occupants):
            for full in list(occupant.sessions):
                yield occupant, full

    # -- presence (§7.1–§7.7, §7.14) ---------------------------------------------------------------

    def onPresence(self, presence: domish.Element) -> None:
        try:
            sender = addressing.parse(presence["from"])
            to = addressing.parse(presence["to"])
        except (KeyError, jid.InvalidFormat):
            return
        if to.user is None:
            return
        ptype = presence.getAttribute("type")
        room = self.rooms.get(to.user)
        full = sender.full()
        if ptype == "error":
            if room is not None:
                self._kickable(room, full, presence)
            return
        if ptype not in (None, "unavailable"):
            return  # subscriptions and probes mean nothing to a room
        occupant = room.occupant_of(full) if room is not None else None
        try:
            if ptype == "unavailable":
                if occupant is not None:
                    self._leave(room, full, presence)
            elif not to.resource or not to.resource.strip():
                raise MucError("jid-malformed", "a nickname is needed to join")  # §7.2.3
            elif occupant is None:
                self._join(room, to.user, sender, to.resource, presence)
            elif occupant.nick != to.resource:
                self._change_nick(room, occupant, full, to.resource, presence)
            elif next(presence.elements(ns.MUC, "x"), None) is not None:
                self._rejoin(room, occupant, full, presence)
            else:
                occupant.sessions[full] = _clean(presence)
                self._broadcast_presence(room, occupant)
        except MucError as e:
            self._error(presence, e)

    def _join(self, room: Room | None, name: str, sender: jid.JID, nick: str,
              presence: domish.Element) -> None:
        x = next(presence.elements(ns.MUC, "x"), None)
        password = _child_text(x, "password") if x is not None else None
        created = room is None
        bare = sender.userhost()
        if room is None:
            if len(self.rooms) >= self.limits.rooms:
                raise MucError("not-allowed", "this service has as many rooms as it may")
            room = Room(name, f"{name}@{self.jid}",
                        RoomConfig(history_length=min(20, self.limits.history)),
                        created=self.clock())
            room.affiliations[bare] = "owner"
            room.locked = x is not None  # §10.1.1; a gc-1.0 client gets an instant room
        self._expire_lock(room)
        existing = room.check_join(sender.full(), bare, nick, password, self.limits.occupants)
        if created:
            self.rooms[name] = room
            self._history[name] = deque(maxlen=self.limits.history)
            self.archive.drop(name)  # an old room's messages are not this room's
            self.log.info("room {room} created by {jid}", room=room.jid, jid=sender.full())
        occupant = room.add(sender.full(), bare, nick, _clean(presence))
        full = sender.full()
        for other in list(room.occupants.values()):  # §7.2.3 existing occupants first
            if other is not occupant:
                self.send(self._presence(room, other, full, room.sees_jid(occupant)))
        if existing is None:
            self._broadcast_presence(room, occupant, exclude=full)
        codes = ["110"]
        if room.config.whois == "anyone":
            codes.append("100")  # §7.2.4
        if room.config.archiving:
            codes.append("170")  # §7.2.12
        if created:
            codes.append("201")  # §10.1.1
        self.send(self._presence(room, occupant, full, True, codes=codes))
        self._send_history(room, full, x)
        self.send(self._subject(room, full))  # §7.2.15
        self._save(room)

    def _rejoin(self, room: Room, occupant: Occupant, full: str,
                presence: domish.Element) -> None:
        """A join presence from a session that is already in (a client that lost its
        state, as after a failed resumption): the join flow again for that session, as
        Prosody does; the others only see a presence update."""
        occupant.sessions[full] = _clean(presence)
        for other in list(room.occupants.values()):
            if other is not occupant:
                self.send(self._presence(room, other, full, room.sees_jid(occupant)))
        self._broadcast_presence(room, occupant, exclude=full)
        codes = ["110"] + (["100"] if room.config.whois == "anyone" else []) + (
            ["170"] if room.config.archiving else [])
        self.send(self._presence(room, occupant, full, True, codes=codes))
        self._send_history(room, full, next(presence.elements(ns.MUC, "x"), None))
        self.send(self._subject(room, full))

    def _leave(self, room: Room, full: str, presence: domish.Element | None,
               codes: tuple[str, ...] = ()) -> None:
        """§7.14: the unavailable presence goes to everyone, the leaver included."""
        occupant = room.occupant_of(full)
        if occupant is None:
            return
        last = len(occupant.sessions) == 1
        if presence is not None:
            occupant.sessions[full] = _clean(presence)
        if last:
            self._broadcast_presence(room, occupant, unavailable=True, codes=codes)
        else:
            self.send(self._presence(room, occupant, full, True, unavailable=True,
                                     codes=("110", *codes)))
        room.remove_session(full)
        self._buckets.pop((room.name, full), None)
        self._maybe_vanish(room)

    def _expire_lock(self, room: Room) -> None:
        """Prosody's ``muc_room_lock_timeout``: a room left unconfigured opens after 5 min."""
        if room.locked and self.clock() - room.created > LOCK_TIMEOUT:
            room.locked = False

    def _kickable(self, room: Room, full: str, stanza: domish.Element) -> None:
        """An occupant's client answered the room with a delivery error: that session
        leaves, with 333 (as Prosody's handle_kickable)."""
        if room.occupant_of(full) is None:
            return  # not an occupant (e.g. the bounce of a member's bare-JID copy)
        element = next((c for c in stanza.elements() if c.name == "error"), None)
        condition = next((c.name for c in element.elements()
                          if c.uri == ns.STANZAS
                          and c.name != "text"), None) if element is not None else None
        if condition is not None and condition not in KICKABLE:
            return
        status = domish.Element((None, "presence"))
        status["type"] = "unavailable"
        status.addElement("status", content="Kicked: " + (condition or "error").replace(
            "-", " "))
        self._leave(room, full, status, codes=("333",))

    def _maybe_vanish(self, room: Room) -> None:
        """§10.1.3: a temporary room is destroyed when its last occupant leaves."""
        if room.empty and not room.config.persistent:
            self.log.info("temporary room {room} is empty: gone", room=room.jid)
            self._drop(room.name)

    def _change_nick(self, room: Room, occupant: Occupant, full: str, new: str,
                     presence: domish.Element) -> None:
        """§7.6: unavailable from the old nick with 303, then available from the new."""
        room.check_nick(occupant, new)
        self._broadcast_presence(room, occupant, unavailable=True, codes=("303",), nick=new)
        room.rename(occupant, new)
        occupant.sessions[full] = _clean(presence)
        self._broadcast_presence(room, occupant)
        self._save(room)

    def _broadcast_presence(self, room: Room, occupant: Occupant, *, unavailable: bool = False,
                            codes: Iterable[str] = (), exclude: str | None = None,
                            **item: Any) -> None:
        codes = tuple(codes)
        for receiver, full in self._sessions(room.occupants.values()):
            if full == exclude:
                continue
            mine = receiver is occupant
            self.send(self._presence(room, occupant, full, room.sees_jid(receiver) or mine,
                                     unavailable=unavailable,
                                     codes=(("110",) if mine else ()) + codes, **item))

    def _presence(self, room: Room, occupant: Occupant, to: str, show_jid: bool, *,
                  unavailable: bool = False, codes: Iterable[str] = (), nick: str | None = None,
                  actor: str | None = None, reason: str | None = None,
                  role: str | None = None, affiliation: str | None = None,
                  destroy: domish.Element | None = None) -> domish.Element:
        """§7.2.3: an occupant's presence, with its ``muc#user`` item as ``to`` may see it."""
        last = occupant.sessions.get(occupant.jid) if occupant.sessions else None
        stanza = domish.Element((None, "presence"))
        if last is not None and not unavailable:
            stanza.children = [c for c in last.children]
        elif last is not None:
            stanza.children = [c for c in last.children if isinstance(c, domish.Element)
                               and c.name == "status"]
        stanza["from"] = self._occupant_jid(room, occupant.nick)
        stanza["to"] = to
        if unavailable:
            stanza["type"] = "unavailable"
        x = stanza.addElement((ns.MUC_USER, "x"))
        element = x.addElement("item")
        element["affiliation"] = affiliation or room.affiliation(occupant.bare)
        element["role"] = role or ("none" if unavailable else occupant.role)
        if show_jid:
            element["jid"] = occupant.jid
        if nick:
            element["nick"] = nick
        if actor:
            element.addElement("actor")["nick"] = actor
        if reason:
            element.addElement("reason", content=reason)
        if destroy is not None:
            x.addChild(destroy)
        for code in codes:
            x.addElement("status")["code"] = code
        stanza.addElement((ns.OCCUPANT_ID, "occupant-id"))["id"] = room.occupant_id(
            occupant.bare)
        return stanza

    def _remove(self, room: Room, occupant: Occupant, code: str, actor: Occupant | None,
                reason: str | None) -> None:
        """§8.2 kick (307), §9.1 ban (301), §9.3/§10.2 members-only (321/322)."""
        self._broadcast_presence(room, occupant, unavailable=True, codes=(code,),
                                 actor=actor.nick if actor else None, reason=reason)
        room.remove_occupant(occupant)
        self._maybe_vanish(room)

    # -- history and subject (§7.2.13–§7.2.15) ---------------------------------------------

    def _send_history(self, room: Room, to: str, x: domish.Element | None) -> None:
        history = list(self._history.get(room.name, ()))[-room.config.history_length:] \
            if room.config.history_length else []
        request = next(x.elements(ns.MUC, "history"), None) if x is not None else None
        if request is not None:
            history = _filter_history(history, request, self.clock())
        for item in history:
            message = parse(item.xml)
            message["to"] = to
            delay = message.addElement((ns.DELAY, "delay"))
            delay["from"], delay["stamp"] = room.jid, utc_stamp(item.timestamp)
            self.send(message)

    def _subject(self, room: Room, to: str) -> domish.Element:
        message = domish.Element((None, "message"))
        message["from"] = (self._occupant_jid(room, room.subject_nick) if room.subject_nick
                           else room.jid)
        message["to"], message["type"] = to, "groupchat"
        message["id"] = f"subject-{next(self._ids)}"
        message.addElement("subject", content=room.subject)
        return message

    # -- messages (§7.4, §7.5, §7.8, §7.13, §8.1, §8.6) ------------------------------------

    def onMessage(self, message: domish.Element) -> None:
        try:
            sender = addressing.parse(message["from"])
            to = addressing.parse(message["to"])
        except (KeyError, jid.InvalidFormat):
            return
        mtype = message.getAttribute("type") or "normal"
        room = self.rooms.get(to.user or "")
        try:
            if to.user is None:
                if mtype != "error":
                    raise MucError("service-unavailable", "the service takes no messages")
                return
            if room is None:
                if mtype != "error":
                    raise MucError("item-not-found", "no such room")
                return
            occupant = room.occupant_of(sender.full())
            if mtype == "error":
                self._kickable(room, sender.full(), message)
                return
            if to.resource is not None:
                if mtype == "groupchat":
                    raise MucError("bad-request", "a groupchat message goes to the room")
                self._private(room, occupant, to.resource, message)
            elif mtype == "groupchat":
                self._groupchat(room, occupant, sender.full(), message)
            else:
                self._to_room(room, occupant, sender, message)
        except MucError as e:
            self._error(message, e)

    def _groupchat(self, room: Room, occupant: Occupant | None, full: str,
                   message: domish.Element) -> None:
        subject = next((c for c in message.elements() if c.name == "subject"), None)
        has_body = any(c.name == "body" for c in message.elements())
        if subject is not None and not has_body:  # §8.1
            sender = room.check_subject(occupant)
            room.subject, room.subject_nick = str(subject), sender.nick
            self._save(room)
        else:
            sender = room.check_groupchat(occupant)
            self._check_rate(room, full)
        out = domish.Element((None, "message"))
        out["type"] = "groupchat"
        out["from"] = self._occupant_jid(room, sender.nick)
        if message.getAttribute("id"):
            out["id"] = message["id"]
        out.children = [c for c in message.children if not (
            isinstance(c, domish.Element) and ((c.uri, c.name) in FORGEABLE or (
                c.uri == ns.SID and c.getAttribute("by") == room.jid)))]
        out.addElement((ns.OCCUPANT_ID, "occupant-id"))["id"] = room.occupant_id(sender.bare)
        if has_body:
            archive_id = f"{self._prefix}-{next(self._ids):x}"
            sid = out.addElement((ns.SID, "stanza-id"))
            sid["id"], sid["by"] = archive_id, room.jid
            item = ArchivedMessage(archive_id, self.clock(), out["from"], out.toXml())
            self._history[room.name].append(item)
            if room.config.archiving:
                self.archive.append(room.name, item, self.limits.archive)
        for _, to in self._sessions(room.occupants.values()):
            copy = _readdressed(out, to)
            self.send(copy)
        if has_body:
            self._offline_members(room, out)

    def _offline_members(self, room: Room, message: domish.Element) -> None:
        """Members of the room on our domain with no joined occupant get the message at
        their bare JID (Prosody's mod_muc_offline_delivery, Tigase): the local domain's
        push policy decides whether it becomes a notification."""
        for bare, affiliation in list(room.affiliations.items()):
            if RANK[affiliation] < RANK["member"] or room.occupants_of(bare):
                continue
            if bare.partition("@")[2] != self.domain:
                continue
            self.send(_readdressed(message, bare))

    def _check_rate(self, room: Room, full: str) -> None:
        """At most ``limits.rate`` groupchat messages per second per occupant (a token
        bucket with one second of burst), as Prosody's mod_muc_limits."""
        rate = self.limits.rate
        if not rate:
            return
        now = self.clock()
        tokens, last = self._buckets.get((room.name, full), (rate, now))
        tokens = min(rate, tokens + (now - last) * rate)
        if tokens < 1:
            self._buckets[(room.name, full)] = (tokens, now)
            raise MucError("policy-violation", "the room is overactive: slow down", "wait")
        self._buckets[(room.name, full)] = (tokens - 1, now)

    def _private(self, room: Room, occupant: Occupant | None, nick: str,
                 message: domish.Element) -> None:
        """§7.5: from one occupant to another, from the sender's occupant JID."""
        target = room.check_private(occupant, nick)
        assert occupant is not None
        out = domish.Element((None, "message"))
        for key, value in message.attributes.items():
            if key not in ("from", "to"):
                out[key] = value
        out.children = [c for c in message.children if not (
            isinstance(c, domish.Element) and (c.uri, c.name) in FORGEABLE)]
        out["from"] = self._occupant_jid(room, occupant.nick)
        out.addElement((ns.MUC_USER, "x"))
        out.addElement((ns.OCCUPANT_ID, "occupant-id"))["id"] = room.occupant_id(occupant.bare)
        for full in list(target.sessions):
            self.send(_readdressed(out, full))

    def _to_room(self, room: Room, occupant: Occupant | None, sender: jid.JID,
                 message: domish.Element) -> None:
        """Messages to the room that are not groupchat: invitations and declines (§7.8.2),
        voice requests and their approval (§7.13, §8.6)."""
        x = next(message.elements(ns.MUC_USER, "x"), None)
        if x is not None:
            for invite in x.elements(ns.MUC_USER, "invite"):
                self._invite(room, occupant, sender, invite)
            for decline in x.elements(ns.MUC_USER, "decline"):
                self._decline(room, sender, decline)
            return
        form = forms.find(message, ns.MUC_REQUEST)
        if form is not None:
            return self._voice(room, occupant, form)
        raise MucError("bad-request", "messages to a room are groupchat messages")

    def _invite(self, room: Room, occupant: Occupant | None, sender: jid.JID,
                invite: domish.Element) -> None:
        bare = sender.userhost()
        room.check_invite(occupant, bare)
        try:
            invitee = addressing.parse(invite.getAttribute("to") or "")
        except jid.InvalidFormat:
            raise MucError("jid-malformed", "the invitee's JID is not valid") from None
        if room.config.members_only and RANK[room.affiliation(invitee.userhost())] < RANK[
                "member"]:
            room.set_affiliation(invitee.userhost(), "member")  # §7.8.2 (as Prosody)
            self._save(room)
        out = domish.Element((None, "message"))
        out["from"], out["to"] = room.jid, invitee.full()
        x = out.addElement((ns.MUC_USER, "x"))
        element = x.addElement("invite")
        element["from"] = bare
        reason = _child_text(invite, "reason")
        if reason:
            element.addElement("reason", content=reason)
        if room.config.password_protected:
            x.addElement("password", content=room.config.password)
        out.addElement("body", content=f"{bare} invites you to the room {room.jid}"
                       + (f": {reason}" if reason else ""))
        self.send(out)

    def _decline(self, room: Room, sender: jid.JID, decline: domish.Element) -> None:
        try:
            inviter = addressing.parse(decline.getAttribute("to") or "")
        except jid.InvalidFormat:
            raise MucError("jid-malformed", "the inviter's JID is not valid") from None
        out = domish.Element((None, "message"))
        out["from"], out["to"] = room.jid, inviter.full()
        element = out.addElement((ns.MUC_USER, "x")).addElement("decline")
        element["from"] = sender.userhost()
        reason = _child_text(decline, "reason")
        if reason:
            element.addElement("reason", content=reason)
        self.send(out)

    def _voice(self, room: Room, occupant: Occupant | None, form: domish.Element) -> None:
        if occupant is None:
            raise MucError("not-acceptable", "only occupants ask for voice")
        values = forms.values(form)
        if form.getAttribute("type") == "submit" and "muc#request_allow" in values:
            # §8.6: a moderator's answer.
            if occupant.role != "moderator":
                raise MucError("forbidden", "only moderators grant voice")
            if values["muc#request_allow"].strip().lower() in ("1", "true"):
                target = room.occupants.get(values.get("muc#roomnick", ""))
                if target is not None and target.role == "visitor":
                    target.role = "participant"
                    self._broadcast_presence(room, target, actor=occupant.nick)
            return
        if occupant.role != "visitor":
            return  # §7.13: nothing to ask for
        for moderator, full in self._sessions(room.occupants.values()):
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

    # -- IQs -------------------------------------------------------------------------------

    def onIQ(self, iq: domish.Element) -> None:
        if getattr(iq, "handled", False):
            return
        iq.handled = True
        itype = iq.getAttribute("type")
        try:
            sender = addressing.parse(iq["from"])
            to = addressing.parse(iq["to"])
        except (KeyError, jid.InvalidFormat):
            return
        if itype in ("result", "error"):
            return self._forwarded_reply(iq, to)
        child = iq.firstChildElement()
        key = (child.uri, child.name) if child is not None else (None, None)
        try:
            reply = self._iq(iq, itype, sender, to, key, child)
        except MucError as e:
            return self._error(iq, e)
        except error.StanzaError as e:
            return self.send(e.toResponse(iq))
        if reply is False:
            return  # answered otherwise (forwarded)
        response = domish.Element((None, "iq"))
        response["type"], response["id"] = "result", iq.getAttribute("id", "")
        response["from"], response["to"] = iq["to"], iq["from"]
        if reply is not None:
            response.addChild(reply)
        self.send(response)

    def _iq(self, iq: domish.Element, itype: str, sender: jid.JID, to: jid.JID,
            key: tuple[str | None, str | None], child: domish.Element | None) -> Any:
        if to.user is None:  # the service itself
            if key == (ns.DISCO_INFO, "query") and itype == "get":
                return self._service_info(child)
            if key == (ns.DISCO_ITEMS, "query") and itype == "get":
                return self._service_items(child)
            if key == (ns.PING, "ping") and itype == "get":
                return None
            raise MucError("service-unavailable")
        room = self.rooms.get(to.user)
        if to.resource is not None:
            return self._iq_to_occupant(iq, room, sender, to, key)
        if room is not None:
            self._expire_lock(room)
        if key == (ns.DISCO_INFO, "query") and itype == "get":
            if room is None or (room.locked and room.affiliation(sender.userhost()) != "owner"):
                raise MucError("item-not-found", "no such room")
            return self._room_info(room, child)
        if room is None:
            raise MucError("item-not-found", "no such room")
        if key == (ns.DISCO_ITEMS, "query") and itype == "get":
            return self._room_items(room, sender, child)
        if key == (ns.MUC_ADMIN, "query"):
            return self._admin(room, sender, child, itype)
        if key == (ns.MUC_OWNER, "query"):
            return self._owner(room, sender, child, itype)
        if key == (ns.MAM, "query"):
            return self._archive_query(room, sender, child, itype)
        if key == (ns.MODERATE, "moderate") and itype == "set":
            return self._moderate(room, sender, child.getAttribute("id", ""),
                                  _child_text(child, "reason"),
                                  next(child.elements(ns.RETRACT, "retract"), None) is not None)
        if key == (ns.FASTEN, "apply-to") and itype == "set":  # XEP-0425 0.2 (moderate:0)
            moderate = next(child.elements(ns.MODERATE_0, "moderate"), None)
            if moderate is None:
                raise MucError("service-unavailable")
            return self._moderate(room, sender, child.getAttribute("id", ""),
                                  _child_text(moderate, "reason"),
                                  next(moderate.elements(ns.RETRACT_0, "retract"), None)
                                  is not None)
        if key == (ns.REGISTER, "query"):
            return self._register(room, sender, child, itype)
        if key == (ns.PING, "ping") and itype == "get":
            return None
        raise MucError("service-unavailable")

    # disco (§6) ---------------------------------------------------------------------------

    def _service_info(self, query: domish.Element) -> domish.Element:
        if query.getAttribute("node"):
            raise MucError("item-not-found")
        out = domish.Element((ns.DISCO_INFO, "query"))
        identity = out.addElement("identity")
        identity["category"], identity["type"], identity["name"] = (
            "conference", "text", "Chatrooms (minixmpp)")
        for feature in (ns.DISCO_INFO, ns.DISCO_ITEMS, ns.MUC, ns.PING, ns.OCCUPANT_ID):
            out.addElement("feature")["var"] = feature
        return out

    def _service_items(self, query: domish.Element) -> domish.Element:
        """§6.3: the public rooms."""
        out = domish.Element((ns.DISCO_ITEMS, "query"))
        for name in sorted(self.rooms):
            room = self.rooms[name]
            if room.config.public and not room.locked:
                item = out.addElement("item")
                item["jid"] = room.jid
                item["name"] = room.config.name or name
        return out

    def _room_info(self, room: Room, query: domish.Element) -> domish.Element:
        """§6.4: identity, the ``muc_*`` features and the ``muc#roominfo`` form."""
        if query.getAttribute("node"):
            raise MucError("item-not-found")
        out = domish.Element((ns.DISCO_INFO, "query"))
        identity = out.addElement("identity")
        identity["category"], identity["type"] = "conference", "text"
        identity["name"] = room.config.name or room.name
        for feature in (ns.MUC, *roomconfig.features(room), ns.MAM, ns.SID,
                        ns.OCCUPANT_ID, ns.MODERATE, ns.MODERATE_0, ns.PING, ns.REGISTER,
                        ns.DISCO_INFO):
            out.addElement("feature")["var"] = feature
        out.addChild(roomconfig.roominfo(room))
        return out

    def _room_items(self, room: Room, sender: jid.JID, query: domish.Element
                    ) -> domish.Element:
        """§6.5: the occupants, to occupants or for public rooms (as Prosody)."""
        out = domish.Element((ns.DISCO_ITEMS, "query"))
        if room.config.public or room.occupants_of(sender.userhost()):
            for nick in sorted(room.occupants):
                out.addElement("item")["jid"] = self._occupant_jid(room, nick)
        return out

    # §7.5-like IQs to occupants, XEP-0410 self-ping --------------------------------------------

    def _iq_to_occupant(self, iq: domish.Element, room: Room | None, sender: jid.JID,
                        to: jid.JID, key: tuple[str | None, str | None]) -> Any:
        occupant = room.occupant_of(sender.full()) if room is not None else None
        if occupant is None:
            raise MucError("not-acceptable", "you are not in this room")  # XEP-0410 §4
        if occupant.nick == to.resource and key == (ns.PING, "ping"):
            return None  # XEP-0410: the room answers a self-ping itself
        target = room.occupants.get(to.resource or "")
        if target is None:
            raise MucError("item-not-found", "no such occupant")
        # §7.? (Prosody): forwarded to the target's session, the answer routed back.
        fid = f"muc-{next(self._ids):x}"
        self._forwarded[fid] = (iq.getAttribute("id", ""), sender.full(), iq["to"])
        while len(self._forwarded) > 10000:
            self._forwarded.pop(next(iter(self._forwarded)))
        out = deep_copy(iq)
        out["id"] = fid
        out["from"] = self._occupant_jid(room, occupant.nick)
        out["to"] = target.jid
        self.send(out)
        return False

    def _forwarded_reply(self, iq: domish.Element, to: jid.JID) -> None:
        entry = self._forwarded.pop(iq.getAttribute("id", ""), None)
        if entry is None:
            return
        original_id, requester, occupant_jid = entry
        out = deep_copy(iq)
        out["id"], out["to"], out["from"] = original_id, requester, occupant_jid
        self.send(out)

    # §8–§9 admin --------------------------------------------------------------------------

    def _admin(self, room: Room, sender: jid.JID, query: domish.Element, itype: str) -> Any:
        bare = sender.userhost()
        actor = room.occupant_of(sender.full())
        items = list(query.elements(ns.MUC_ADMIN, "item"))
        if not items:
            raise MucError("bad-request", "an item is needed")
        if itype == "get":
            return self._admin_list(room, bare, actor, items[0])
        changes: list[tuple[str, Any, str, str | None]] = []
        for item in items:  # check everything first: all or nothing
            reason = _child_text(item, "reason")
            if item.getAttribute("affiliation") is not None:
                target, reserved = item.getAttribute("jid"), item.getAttribute("nick")
                if target is None and reserved:
                    occupant = room.occupants.get(reserved)
                    target, reserved = (occupant.bare if occupant else None), None
                if not target:
                    raise MucError("bad-request", "an affiliation is changed by jid")
                try:
                    target = addressing.parse(target).userhost()
                except jid.InvalidFormat:
                    raise MucError("jid-malformed") from None
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
                self._set_role(room, target, value, actor, reason)
            else:
                self._set_affiliation(room, *target, value, actor, reason)
        self._save(room)
        return None

    def _admin_list(self, room: Room, bare: str, actor: Occupant | None,
                    item: domish.Element) -> domish.Element:
        """§9.5, §10.5, §8.5: affiliation and role lists."""
        out = domish.Element((ns.MUC_ADMIN, "query"))
        affiliation, role = item.getAttribute("affiliation"), item.getAttribute("role")
        mine = room.affiliation(bare)
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
        if actor is None or actor.role != "moderator":
            raise MucError("forbidden", "only moderators see role lists")
        for occupant in room.occupants.values():
            if occupant.role == role:
                element = out.addElement("item")
                element["nick"], element["role"] = occupant.nick, occupant.role
                element["affiliation"] = room.affiliation(occupant.bare)
                element["jid"] = occupant.jid
        return out

    def _set_role(self, room: Room, occupant: Occupant, role: str, actor: Occupant | None,
                  reason: str | None) -> None:
        if role == "none":
            return self._remove(room, occupant, "307", actor, reason)  # §8.2 kick
        occupant.role = role
        self._broadcast_presence(room, occupant, actor=actor.nick if actor else None,
                                 reason=reason)

    def _set_affiliation(self, room: Room, bare: str, nick: str | None, affiliation: str,
                         actor: Occupant | None, reason: str | None) -> None:
        room.set_affiliation(bare, affiliation, nick)
        for occupant in room.occupants_of(bare):
            if affiliation == "outcast":
                self._remove(room, occupant, "301", actor, reason)  # §9.1 ban
            elif room.config.members_only and RANK[affiliation] < RANK["member"]:
                self._remove(room, occupant, "321", actor, reason)  # §9.4
            else:
                occupant.role = room.role_after_affiliation(occupant)
                if affiliation != "none":
                    room.nicks[bare] = occupant.nick
                self._broadcast_presence(room, occupant, actor=actor.nick if actor else None,
                                         reason=reason)

    # §10 owner ----------------------------------------------------------------------------

    def _owner(self, room: Room, sender: jid.JID, query: domish.Element, itype: str) -> Any:
        room.check_owner(sender.userhost())
        if itype == "get":
            out = domish.Element((ns.MUC_OWNER, "query"))
            out.addChild(roomconfig.form(room.config, self.limits.history))
            return out
        destroy = next(query.elements(ns.MUC_OWNER, "destroy"), None)
        if destroy is not None:
            self._destroy(room, destroy)
            return None
        x = next(query.elements(ns.X_DATA, "x"), None)
        if x is None:
            raise MucError("bad-request", "a configuration form or destroy is needed")
        if x.getAttribute("type") == "cancel":
            if room.locked:  # §10.1.3: cancelling the initial configuration destroys
                self._destroy(room, None)
            return None
        before = room.config
        room.config = roomconfig.submitted(x, before, self.limits.history,
                                           self.limits.occupants)
        room.locked = False
        self._configured(room, before)
        return None

    def _configured(self, room: Room, before: RoomConfig) -> None:
        """§10.2.1: status codes for the change; §9.3: non-members leave a room that became
        members-only (322)."""
        after = room.config
        if after.persistent:
            self.store.put(room.stored())
        elif before.persistent:
            self.store.delete(room.name)
        codes = ["104"]
        if after.whois != before.whois:
            codes.append("172" if after.whois == "anyone" else "173")
        if after.archiving != before.archiving:
            codes.append("170" if after.archiving else "171")
        for _, full in self._sessions(room.occupants.values()):
            message = domish.Element((None, "message"))
            message["from"], message["to"], message["type"] = room.jid, full, "groupchat"
            message["id"] = f"config-{next(self._ids)}"
            x = message.addElement((ns.MUC_USER, "x"))
            for code in codes:
                x.addElement("status")["code"] = code
            self.send(message)
        if after.members_only and not before.members_only:
            for occupant in room.members_to_remove():
                self._remove(room, occupant, "322", None, None)
        if after.moderated != before.moderated:
            for occupant in list(room.occupants.values()):
                role = room.default_role(room.affiliation(occupant.bare))
                if role != occupant.role and occupant.role != "moderator":
                    occupant.role = role
                    self._broadcast_presence(room, occupant)

    def _destroy(self, room: Room, destroy: domish.Element | None) -> None:
        """§10.9: everyone leaves with the reason and the alternate venue."""
        for occupant, full in self._sessions(room.occupants.values()):
            element = domish.Element((ns.MUC_USER, "destroy"))
            if destroy is not None:
                if destroy.getAttribute("jid"):
                    element["jid"] = destroy["jid"]
                reason = _child_text(destroy, "reason")
                if reason:
                    element.addElement("reason", content=reason)
                password = _child_text(destroy, "password")
                if password:
                    element.addElement("password", content=password)
            self.send(self._presence(room, occupant, full, True, unavailable=True,
                                     affiliation="none",
                                     role="none", destroy=element))
        self.log.info("room {room} destroyed", room=room.jid)
        self._drop(room.name)

    # XEP-0313 on the room -----------------------------------------------------------------

    def _archive_query(self, room: Room, sender: jid.JID, query: domish.Element,
                       itype: str) -> Any:
        """XEP-0313 §5 (as Prosody's mod_muc_mam): anyone but outcasts, and members only
        in a members-only room."""
        bare = sender.userhost()
        affiliation = room.affiliation(bare)
        if affiliation == "outcast" or (room.config.members_only
                                        and RANK[affiliation] < RANK["member"]):
            raise MucError("forbidden", "this archive is for members only")
        if itype == "get":
            return mam.fields_form()
        page, first_index, complete, count = mam.select(self.archive.messages(room.name),
                                                        query)
        for item in page:
            self.send(mam.result(sender.full(), room.jid, query.getAttribute("queryid"),
                                 item))
        return mam.fin(page, first_index, complete, count)

    # §7.10 registration (a reserved nick, and membership) ------------------------------

    def _register(self, room: Room, sender: jid.JID, query: domish.Element,
                  itype: str) -> Any:
        bare = sender.userhost()
        affiliation = room.affiliation(bare)
        out = domish.Element((ns.REGISTER, "query"))
        if affiliation == "outcast":
            raise MucError("forbidden", "you are banned from this room")
        if itype == "get":
            if RANK[affiliation] >= RANK["member"] and bare in room.nicks:
                out.addElement("registered")
                out.addElement("username", content=room.nicks[bare])
                return out
            if room.config.members_only and affiliation == "none":
                raise MucError("registration-required", "members only")
            x = forms.form(ns.MUC_REGISTER, "form", f"Register with {room.jid}")
            forms.field(x, "muc#register_roomnick", "text-single", [], "Nickname",
                        required=True)
            forms.field(x, TIGASE_OFFLINE, "boolean", ["1"],
                        "Receive messages while not connected to the room")
            out.addChild(x)
            return out
        if next(query.elements(ns.REGISTER, "remove"), None) is not None:
            if affiliation == "member":  # §7.10 (unregister): back to no affiliation
                self._set_affiliation(room, bare, None, "none", None, None)
                self._save(room)
            return None
        form = forms.find(query, ns.MUC_REGISTER)
        if form is None:
            raise MucError("bad-request", f"a {ns.MUC_REGISTER} form is needed")
        nick = forms.values(form).get("muc#register_roomnick", "").strip()
        if not nick:
            raise MucError("not-acceptable", "a nickname is needed")
        try:
            addressing.make(room.name, self.jid, nick)
        except jid.InvalidFormat:
            raise MucError("jid-malformed", "that is not a valid nickname") from None
        taken = [j for j, n in room.nicks.items() if n == nick and j != bare] + [
            o.bare for o in room.occupants_of_nick(nick) if o.bare != bare]
        if taken:
            raise MucError("conflict", "that nickname is taken")
        if room.config.members_only and affiliation == "none":
            raise MucError("registration-required", "members only")
        room.set_affiliation(bare, "member" if affiliation == "none" else affiliation, nick)
        self._save(room)
        for occupant in room.occupants_of(bare):
            occupant.role = room.role_after_affiliation(occupant)
            self._broadcast_presence(room, occupant)
        return None

    # XEP-0425 moderation ------------------------------------------------------------------

    def _moderate(self, room: Room, sender: jid.JID, target_id: str, reason: str | None,
                  retract: bool) -> None:
        """XEP-0425 §4: a moderator retracts a message; everyone is told (in the current
        and the 0.2 wire format), and the archive keeps a tombstone in its place."""
        actor = room.occupant_of(sender.full())
        if actor is None or actor.role != "moderator":
            raise MucError("forbidden", "only moderators moderate")
        if not retract:
            raise MucError("bad-request", "only retraction is supported")
        item = next((m for m in self.archive.messages(room.name) if m.id == target_id), None) \
            or next((m for m in self._history.get(room.name, ()) if m.id == target_id), None)
        if item is None:
            raise MucError("item-not-found", "no message with that stanza-id")
        moderated = domish.Element((ns.MODERATE, "moderated"))
        moderated["by"] = self._occupant_jid(room, actor.nick)
        moderated.addElement((ns.OCCUPANT_ID, "occupant-id"))["id"] = room.occupant_id(
            actor.bare)
        # the tombstone (XEP-0425 §5, XEP-0424 §5.1)
        original = parse(item.xml)
        tombstone = domish.Element((None, "message"))
        tombstone["type"], tombstone["from"] = "groupchat", original["from"]
        retracted = tombstone.addElement((ns.RETRACT, "retracted"))
        retracted["stamp"] = utc_stamp(self.clock())
        retracted.addChild(moderated)
        if reason:
            retracted.addElement("reason", content=reason)
        for child in original.elements():
            if (child.uri, child.name) in ((ns.OCCUPANT_ID, "occupant-id"),
                                           (ns.SID, "stanza-id")):
                tombstone.addChild(child)
        self.archive.replace(room.name, target_id, tombstone.toXml())
        history = self._history.get(room.name)
        if history is not None:
            for i, m in enumerate(history):
                if m.id == target_id:
                    history[i] = ArchivedMessage(m.id, m.timestamp, m.with_jid,
                                                 tombstone.toXml())
        # the announcement (XEP-0425 §4, Example 3)
        announcement = domish.Element((None, "message"))
        announcement["type"], announcement["from"] = "groupchat", room.jid
        announcement["id"] = f"retract-{next(self._ids):x}"
        element = announcement.addElement((ns.RETRACT, "retract"))
        element["id"] = target_id
        element.addChild(moderated)
        if reason:
            element.addElement("reason", content=reason)
        announcement.addElement("body", content="This message was retracted by a moderator")
        announcement.addElement((ns.FALLBACK, "fallback"))["for"] = ns.RETRACT
        old = announcement.addElement((ns.FASTEN, "apply-to"))  # XEP-0425 0.2 clients
        old["id"] = target_id
        old_moderated = old.addElement((ns.MODERATE_0, "moderated"))
        old_moderated["by"] = moderated["by"]
        old_moderated.addElement((ns.RETRACT_0, "retract"))
        if reason:
            old_moderated.addElement("reason", content=reason)
        for _, full in self._sessions(room.occupants.values()):
            self.send(_readdressed(announcement, full))
        return None


# -- helpers -------------------------------------------------------------------------------

def _child_text(element: domish.Element | None, name: str) -> str | None:
    if element is None:
        return None
    for child in element.elements():
        if child.name == name:
            return str(child)
    return None


def _clean(presence: domish.Element) -> domish.Element:
    """The presence an occupant sent, without what only the room may say."""
    out = domish.Element((None, "presence"))
    out.children = [c for c in presence.children if isinstance(c, domish.Element) and not (
        c.uri in (ns.MUC, ns.MUC_USER) or (c.uri, c.name) in FORGEABLE)]
    return out


def _readdressed(stanza: domish.Element, to: str) -> domish.Element:
    """A copy of ``stanza`` for ``to``. Its own list of children: delivery adds to it
    (the recipient archive's stanza-id), which must not show up in the other copies."""
    out = domish.Element((None, stanza.name))
    out.attributes = dict(stanza.attributes)
    out.children = list(stanza.children)
    out["to"] = to
    return out


def _filter_history(history: list[ArchivedMessage], request: domish.Element,
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
            moment = mam.parse_time(since)
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
