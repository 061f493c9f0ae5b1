"""Room rules (XEP-0045 §5 roles and affiliations, §7 joining, §8–§10 privileges).

Plain Python: no XML here. A broken rule raises :class:`MucError` with the stanza error
condition XEP-0045 names for it; the protocol layer turns it into an error stanza.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from typing import Any

from minixmpp.storage.interfaces import StoredRoom

#: §5.2: affiliations, by rank.
RANK = {"outcast": -1, "none": 0, "member": 1, "admin": 2, "owner": 3}
#: §5.1: roles, by rank.
ROLE_RANK = {"none": 0, "visitor": 1, "participant": 2, "moderator": 3}
ALLOW_PM = ("anyone", "participants", "moderators", "none")
WHOIS = ("moderators", "anyone")


class MucError(Exception):
    """A rule says no: ``condition`` is the RFC 6120 stanza error condition."""

    TYPES = {"not-authorized": "auth", "forbidden": "auth", "registration-required": "auth",
             "resource-constraint": "wait",
             "bad-request": "modify", "jid-malformed": "modify", "not-acceptable": "modify",
             "policy-violation": "modify"}

    def __init__(self, condition: str, text: str | None = None,
                 type: str | None = None) -> None:
        super().__init__(text or condition)
        self.condition = condition
        self.text = text
        self.type = type or self.TYPES.get(condition, "cancel")


@dataclass
class RoomConfig:
    """The ``muc#roomconfig`` settings (§10.2), by short name."""

    name: str = ""
    description: str = ""
    persistent: bool = False
    public: bool = True
    members_only: bool = False
    moderated: bool = False
    password_protected: bool = False
    password: str = ""
    max_users: int = 0  # 0: the service's limit
    whois: str = "moderators"  # semi-anonymous; "anyone": non-anonymous
    allow_pm: str = "anyone"
    change_subject: bool = False
    history_length: int = 20
    allow_invites: bool = False
    archiving: bool = True
    language: str = ""  # xml:lang of the room (Prosody's muc#roomconfig_lang)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> RoomConfig:
        known = set(cls.__dataclass_fields__)
        return cls(**{k: v for k, v in data.items() if k in known})


@dataclass
class Occupant:
    """One nick in a room (§5): a real bare JID with one or more joined resources."""

    nick: str
    bare: str
    role: str
    #: full JID -> last presence it sent to the room (opaque to the rules)
    sessions: dict[str, Any] = field(default_factory=dict)

    @property
    def jid(self) -> str:
        """The full JID shown to those allowed to see it (the latest session)."""
        return next(reversed(self.sessions))


class Room:
    """A room's state and the rules over it."""

    def __init__(self, name: str, jid: str, config: RoomConfig | None = None, *,
                 created: float = 0.0, salt: str | None = None) -> None:
        self.name = name
        self.jid = jid
        self.config = config or RoomConfig()
        self.affiliations: dict[str, str] = {}
        self.nicks: dict[str, str] = {}  # reserved / last-used nick of affiliated JIDs
        self.occupants: dict[str, Occupant] = {}  # by nick
        self.by_jid: dict[str, Occupant] = {}  # by joined full JID
        self.subject = ""
        self.subject_nick = ""
        self.created = created
        self.salt = salt or secrets.token_hex(16)
        #: §10.1.1: a new room is locked until its owner configures it
        self.locked = False
        #: XEP-0486: the room's vCard (XML text, "" for none) and the SHA-1 of each PHOTO
        self.vcard = ""
        self.avatar_hashes: list[str] = []
        #: voice requests / invitations: nothing stored

    # -- persistence ---------------------------------------------------------------------------

    def stored(self) -> StoredRoom:
        return StoredRoom(self.name, asdict(self.config), dict(self.affiliations),
                          dict(self.nicks), self.subject, self.subject_nick, self.created,
                          self.salt, self.vcard, list(self.avatar_hashes))

    @classmethod
    def restore(cls, stored: StoredRoom, jid: str) -> Room:
        room = cls(stored.name, jid, RoomConfig.from_dict(stored.config),
                   created=stored.created, salt=stored.salt or None)
        room.affiliations = dict(stored.affiliations)
        room.nicks = dict(stored.nicks)
        room.subject, room.subject_nick = stored.subject, stored.subject_nick
        room.vcard, room.avatar_hashes = stored.vcard, list(stored.avatar_hashes)
        return room

    # -- who is who ------------------------------------------------------------------------------

    def affiliation(self, bare: str) -> str:
        return self.affiliations.get(bare, "none")

    def default_role(self, affiliation: str) -> str:
        """§5.1.2: the role an occupant gets on entering."""
        if affiliation in ("owner", "admin"):
            return "moderator"
        if affiliation == "member" or not self.config.moderated:
            return "participant"
        return "visitor"

    def occupant_of(self, full: str) -> Occupant | None:
        return self.by_jid.get(full)

    def occupants_of(self, bare: str) -> list[Occupant]:
        return [o for o in self.occupants.values() if o.bare == bare]

    def occupants_of_nick(self, nick: str) -> list[Occupant]:
        occupant = self.occupants.get(nick)
        return [occupant] if occupant is not None else []

    def reserved_by(self, nick: str) -> str | None:
        """§7.10, §7.12: the affiliated bare JID whose reserved (or last used) nick this is."""
        return next((bare for bare, reserved in self.nicks.items() if reserved == nick), None)

    def sees_jid(self, viewer: Occupant | None) -> bool:
        """§5.2.1/§7.2.3–4: real JIDs are shown to moderators, or to all when non-anonymous."""
        return self.config.whois == "anyone" or (viewer is not None
                                                 and viewer.role == "moderator")

    def occupant_id(self, bare: str) -> str:
        """XEP-0421 §4: stable per real bare JID and room, opaque to others."""
        digest = hmac.new(self.salt.encode(), bare.encode(), hashlib.sha256).digest()
        return base64.b64encode(digest[:18]).decode()

    def sessions(self) -> Iterator[tuple[Occupant, str]]:
        """Every joined session (its full JID) with its occupant; the room may change while
        they are visited (a broadcast that removes someone)."""
        for occupant in list(self.occupants.values()):
            for full in list(occupant.sessions):
                yield occupant, full

    @property
    def empty(self) -> bool:
        return not self.occupants

    def owners(self) -> list[str]:
        return [j for j, a in self.affiliations.items() if a == "owner"]

    # -- §7.2 entering ---------------------------------------------------------------------

    def check_join(self, full: str, bare: str, nick: str, password: str | None,
                   service_limit: int) -> Occupant | None:
        """The checks of §7.2.5–§7.2.10, in Prosody's order; returns the existing occupant
        when another resource of the same account joins under its nick (§7.2: one
        occupant, several sessions)."""
        affiliation = self.affiliation(bare)
        if affiliation == "outcast":
            raise MucError("forbidden", "you are banned from this room")  # §7.2.7
        existing = self.occupants.get(nick)
        if existing is not None and existing.bare != bare:
            raise MucError("conflict", "that nickname is taken")  # §7.2.9
        if self.reserved_by(nick) not in (None, bare):
            raise MucError("conflict", "that nickname is reserved")  # §7.12
        if self.locked and affiliation != "owner":
            raise MucError("item-not-found", "the room is being set up")  # §10.1.1
        if (self.config.members_only and RANK[affiliation] < RANK["member"]):
            raise MucError("registration-required", "members only")  # §7.2.6
        if (self.config.password_protected and affiliation not in ("owner", "admin")
                and password != self.config.password):
            raise MucError("not-authorized", "a password is required")  # §7.2.5
        if existing is not None:
            return existing
        limit = self.config.max_users or service_limit
        if limit and len(self.occupants) >= limit and affiliation not in ("owner", "admin"):
            raise MucError("service-unavailable", "the room is full", "wait")  # §7.2.10
        return None

    def add(self, full: str, bare: str, nick: str, presence: Any) -> Occupant:
        occupant = self.occupants.get(nick)
        if occupant is None:
            occupant = Occupant(nick, bare, self.default_role(self.affiliation(bare)))
            self.occupants[nick] = occupant
        occupant.sessions[full] = presence
        self.by_jid[full] = occupant
        if self.affiliation(bare) != "none":
            self.nicks[bare] = nick
        return occupant

    def remove_session(self, full: str) -> Occupant | None:
        """A resource left; returns its occupant (gone from the room if that was its last
        session)."""
        occupant = self.by_jid.pop(full, None)
        if occupant is None:
            return None
        occupant.sessions.pop(full, None)
        if not occupant.sessions:
            self.occupants.pop(occupant.nick, None)
        return occupant

    def remove_occupant(self, occupant: Occupant) -> None:
        for full in list(occupant.sessions):
            self.by_jid.pop(full, None)
        self.occupants.pop(occupant.nick, None)

    def rename(self, occupant: Occupant, new: str) -> None:
        """§7.6: a nick change (checked by the caller with :meth:`check_nick`)."""
        self.occupants.pop(occupant.nick, None)
        occupant.nick = new
        self.occupants[new] = occupant
        if self.affiliation(occupant.bare) != "none":
            self.nicks[occupant.bare] = new

    def check_nick(self, occupant: Occupant, new: str) -> None:
        other = self.occupants.get(new)
        if other is not None and other is not occupant:
            raise MucError("conflict", "that nickname is taken")  # §7.6.2
        if self.reserved_by(new) not in (None, occupant.bare):
            raise MucError("conflict", "that nickname is reserved")  # §7.12

    # -- §7.4–§7.5, §8.1 speaking ----------------------------------------------------------

    def check_groupchat(self, sender: Occupant | None) -> Occupant:
        if sender is None:
            raise MucError("not-acceptable", "only occupants may send to the room")  # §7.4
        if sender.role == "visitor":
            raise MucError("forbidden", "visitors have no voice in a moderated room")  # §7.4
        return sender

    def check_subject(self, sender: Occupant | None) -> Occupant:
        sender = self.check_groupchat(sender)
        if sender.role != "moderator" and not self.config.change_subject:
            raise MucError("forbidden", "only moderators may change the subject")  # §8.1
        return sender

    def check_private(self, sender: Occupant | None, nick: str) -> Occupant:
        """§7.5: a private message to ``nick``."""
        if sender is None:
            raise MucError("not-acceptable", "only occupants may send private messages")
        allowed = self.config.allow_pm
        if allowed == "none" or (allowed == "moderators" and sender.role != "moderator") or (
                allowed == "participants" and sender.role == "visitor"):
            raise MucError("forbidden", "private messages are not allowed in this room")
        target = self.occupants.get(nick)
        if target is None:
            raise MucError("item-not-found", f"no occupant {nick!r}")
        return target

    # -- §8–§9 moderator and admin use cases -----------------------------------------------

    def check_role_change(self, actor: Occupant | None, actor_bare: str, target: Occupant,
                          role: str) -> None:
        """§8.2–§8.5, §9.6–§9.7: who may kick, grant or revoke voice or moderator."""
        if role not in ROLE_RANK:
            raise MucError("bad-request", f"unknown role {role!r}")
        actor_aff = self.affiliation(actor_bare)
        target_aff = self.affiliation(target.bare)
        if actor is None or actor.role != "moderator":
            raise MucError("forbidden", "only moderators change roles")
        if role == "moderator" or target.role == "moderator" and role != "none":
            if RANK[actor_aff] < RANK["admin"]:
                raise MucError("forbidden", "only admins and owners change moderators")
        if RANK[target_aff] >= RANK["admin"] and role != "moderator":
            # §8.2/§8.5: an admin or owner cannot be kicked or devoiced.
            raise MucError("not-allowed", "admins and owners keep their role")
        if target_aff == "member" and role == "visitor" and RANK[actor_aff] < RANK["admin"]:
            pass  # Prosody allows moderators to silence members: so do we

    def check_affiliation_change(self, actor_bare: str, target: str, affiliation: str) -> None:
        """§9.1–§9.5, §10.3–§10.8: admins manage members and outcasts below them,
        owners manage everything; a room always keeps an owner."""
        if affiliation not in RANK:
            raise MucError("bad-request", f"unknown affiliation {affiliation!r}")
        actor_aff = self.affiliation(actor_bare)
        current = self.affiliation(target)
        if actor_aff == "owner":
            if current == "owner" and affiliation != "owner" and self.owners() == [target]:
                raise MucError("conflict", "a room needs an owner")  # §10.6 / §10.7
            return
        if actor_aff != "admin":
            raise MucError("forbidden", "only admins and owners change affiliations")
        if RANK[current] >= RANK["admin"] or affiliation in ("admin", "owner"):
            raise MucError("not-allowed", "admins manage members and outcasts only")

    def list_changes(self, actor_bare: str, lists: dict[str, list[str]]
                     ) -> list[tuple[str, str]]:
        """§10.2 ``muc#roomconfig_roomowners`` / ``_roomadmins``: the full lists of owners
        and admins (bare JIDs) as (JID, new affiliation) changes, each allowed as an
        affiliation change (:meth:`check_affiliation_change`); a JID in both lists is an
        owner; a room keeps an owner (§10.6)."""
        wanted = {j: a for a in ("admin", "owner") for j in lists.get(a, ())}
        changes = []
        for bare, current in self.affiliations.items():
            if current in lists and bare not in wanted:
                changes.append((bare, "none"))
        changes += [(j, a) for j, a in wanted.items() if self.affiliation(j) != a]
        owners = set(self.owners()) - {j for j, a in changes if a != "owner"} | {
            j for j, a in changes if a == "owner"}
        if not owners:
            raise MucError("conflict", "a room needs an owner")
        for bare, affiliation in changes:
            if self.owners() != [bare]:  # the last owner may go: the list names another
                self.check_affiliation_change(actor_bare, bare, affiliation)
        return changes

    def set_affiliation(self, bare: str, affiliation: str, nick: str | None = None) -> None:
        if affiliation == "none":
            self.affiliations.pop(bare, None)
            self.nicks.pop(bare, None)
        else:
            self.affiliations[bare] = affiliation
            if nick:
                self.nicks[bare] = nick

    def role_after_affiliation(self, occupant: Occupant) -> str:
        """§9/§10: the role an occupant has after its affiliation changed."""
        affiliation = self.affiliation(occupant.bare)
        if affiliation in ("owner", "admin"):
            return "moderator"
        if occupant.role == "moderator":
            return self.default_role(affiliation)
        if affiliation == "member" and occupant.role == "visitor":
            return "participant"
        return occupant.role

    def check_owner(self, bare: str) -> None:
        if self.affiliation(bare) != "owner":
            raise MucError("forbidden", "only owners do that")

    def check_invite(self, sender: Occupant | None, bare: str) -> None:
        """§7.8.2: occupants invite; in members-only rooms only admins and owners, unless
        the room lets members invite."""
        if sender is None:
            raise MucError("not-acceptable", "only occupants may invite")
        if self.config.members_only and not self.config.allow_invites and RANK[
                self.affiliation(bare)] < RANK["admin"]:
            raise MucError("forbidden", "only admins and owners invite to this room")

    def members_to_remove(self) -> list[Occupant]:
        """§9.3/§10.2: occupants who are not members once the room is members-only."""
        return [o for o in self.occupants.values()
                if RANK[self.affiliation(o.bare)] < RANK["member"]]
