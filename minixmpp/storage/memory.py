"""In-memory storage (the default): fast, and gone when the process ends."""

from __future__ import annotations

import functools
import hmac
from collections.abc import Callable
from dataclasses import replace
from typing import TypeVar

from scramp import ScramException, ScramMechanism
from scramp.utils import saslprep

from minixmpp.storage.interfaces import (
    AccountExists,
    ArchivedMessage,
    ArchivePrefs,
    FastToken,
    InvalidPassword,
    NodeSubscription,
    NoSuchAccount,
    PepItem,
    PepNode,
    PushRegistration,
    RosterItem,
    ScramCredentials,
    StoredRoom,
    Upload,
)

#: SCRAM mechanisms whose keys are stored for every account (RFC 5802, RFC 7677).
SCRAM_MECHANISMS = ("SCRAM-SHA-512", "SCRAM-SHA-256", "SCRAM-SHA-1")
#: PBKDF2 iteration count for stored keys (RFC 7677 §4 recommends at least 4096).
ITERATIONS = 4096

_mechanisms = {name: ScramMechanism(name) for name in SCRAM_MECHANISMS}


def check_password(password: str) -> None:
    """:class:`InvalidPassword` if SASLprep (RFC 4013) refuses ``password``."""
    try:
        saslprep(password)
    except ScramException as e:
        raise InvalidPassword(str(e.args[0])) from None


def make_credentials(password: str, salt: bytes | None = None) -> dict[str, ScramCredentials]:
    """SCRAM keys for every stored mechanism (:class:`InvalidPassword` for a password
    SASLprep refuses); the password is not kept."""
    check_password(password)
    out = {}
    for name, mechanism in _mechanisms.items():
        s, stored, server, i = mechanism.make_auth_info(password, ITERATIONS, salt)
        out[name] = ScramCredentials(s, stored, server, i)
    return out


@functools.lru_cache(maxsize=256)
def _memory_credentials(password: str) -> tuple[tuple[str, ScramCredentials], ...]:
    """Keys for in-memory accounts, derived once per password per process: a test suite
    starts hundreds of servers with the same accounts, and PBKDF2 (3 x 4096 rounds)
    was most of a start. Nothing outlives the process; durable (SQLite) accounts always
    get a fresh salt."""
    return tuple(make_credentials(password).items())


def verify_password(creds: ScramCredentials, password: str) -> bool:
    """Check a plaintext password (SASL PLAIN) against stored SCRAM-SHA-256 keys; one
    SASLprep refuses never matches."""
    try:
        _, stored, _, _ = _mechanisms["SCRAM-SHA-256"].make_auth_info(
            password, creds.iteration_count, creds.salt)
    except ScramException:
        return False
    return hmac.compare_digest(stored, creds.stored_key)


T = TypeVar("T")


def _copy(record: T) -> T:
    """A shallow copy of a stored dataclass (read on the message and push paths: no
    field introspection, unlike ``dataclasses.replace``)."""
    new = object.__new__(type(record))
    new.__dict__.update(record.__dict__)
    return new


class MemoryAccountStore:
    """Accounts in a dict: name → SCRAM credentials per mechanism."""

    def __init__(self) -> None:
        self._accounts: dict[str, dict[str, ScramCredentials]] = {}

    def create(self, user: str, password: str) -> None:
        if user in self._accounts:
            raise AccountExists(user)
        self._accounts[user] = dict(_memory_credentials(password))

    def delete(self, user: str) -> None:
        if self._accounts.pop(user, None) is None:
            raise NoSuchAccount(user)

    def exists(self, user: str) -> bool:
        return user in self._accounts

    def users(self) -> list[str]:
        return sorted(self._accounts)

    def set_password(self, user: str, password: str) -> None:
        if user not in self._accounts:
            raise NoSuchAccount(user)
        self._accounts[user] = make_credentials(password)

    def scram(self, user: str, mechanism: str) -> ScramCredentials | None:
        return self._accounts.get(user, {}).get(mechanism)

    def set_scram(self, user: str, mechanism: str, credentials: ScramCredentials) -> None:
        if user not in self._accounts:
            raise NoSuchAccount(user)
        self._accounts[user] = {**self._accounts[user], mechanism: credentials}

    def check_password(self, user: str, password: str) -> bool:
        creds = self.scram(user, "SCRAM-SHA-256")
        return creds is not None and verify_password(creds, password)


class MemoryRosterStore:
    """Rosters in a dict: account → contact bare JID → item."""

    def __init__(self) -> None:
        self._rosters: dict[str, dict[str, RosterItem]] = {}

    def items(self, user: str) -> list[RosterItem]:
        return [_copy(i) for i in self._rosters.get(user, {}).values()]

    def pending_in(self, user: str) -> int:
        return sum(1 for i in self._rosters.get(user, {}).values() if i.pending_in)

    def get(self, user: str, contact: str) -> RosterItem | None:
        item = self._rosters.get(user, {}).get(contact)
        return _copy(item) if item else None

    def put(self, user: str, item: RosterItem) -> None:
        self._rosters.setdefault(user, {})[item.jid] = replace(item)

    def remove(self, user: str, contact: str) -> None:
        self._rosters.get(user, {}).pop(contact, None)

    def drop(self, user: str) -> None:
        self._rosters.pop(user, None)


class MemoryOfflineStore:
    """Offline messages in lists, oldest first."""

    def __init__(self) -> None:
        self._queues: dict[str, list[str]] = {}

    def store(self, user: str, stanza: str) -> None:
        self._queues.setdefault(user, []).append(stanza)

    def count(self, user: str) -> int:
        return len(self._queues.get(user, ()))

    def peek(self, user: str) -> list[str]:
        return list(self._queues.get(user, ()))

    def pop_all(self, user: str) -> list[str]:
        return self._queues.pop(user, [])


class MemoryPushStore:
    """Push registrations in lists, oldest first."""

    def __init__(self) -> None:
        self._registrations: dict[str, list[PushRegistration]] = {}

    def registrations(self, user: str) -> list[PushRegistration]:
        return [_copy(r) for r in self._registrations.get(user, ())]

    def put(self, user: str, registration: PushRegistration) -> None:
        regs = self._registrations.setdefault(user, [])
        for i, r in enumerate(regs):
            if (r.jid, r.node) == (registration.jid, registration.node):
                regs[i] = replace(registration)
                return
        regs.append(replace(registration))

    def remove(self, user: str, jid: str, node: str | None) -> bool:
        return self._drop(user, lambda r: (r.jid, r.node) == (jid, node)) > 0

    def remove_service(self, user: str, jid: str) -> int:
        return self._drop(user, lambda r: r.jid == jid)

    def _drop(self, user: str, match: Callable[[PushRegistration], bool]) -> int:
        regs = self._registrations.get(user, [])
        kept = [r for r in regs if not match(r)]
        if kept:
            self._registrations[user] = kept
        else:
            self._registrations.pop(user, None)
        return len(regs) - len(kept)

    def users(self) -> list[str]:
        return sorted(self._registrations)


class MemoryArchiveStore:
    """Archives in lists; past the limit the oldest messages go. Each message is kept
    as a plain tuple: the garbage collector untracks tuples of strings and numbers, and
    a full collection over 100,000 archived dataclasses took 100–230 ms, a stall every
    second or so while messages were archived at 18,000 a second."""

    def __init__(self) -> None:
        self._archives: dict[str, list[tuple[str, float, str, str]]] = {}

    def append(self, user: str, message: ArchivedMessage, limit: int) -> None:
        archive = self._archives.setdefault(user, [])
        archive.append(tuple(message))  # type: ignore[arg-type]
        if len(archive) > limit:
            del archive[:len(archive) - limit]

    def messages(self, user: str) -> list[ArchivedMessage]:
        return list(map(ArchivedMessage._make, self._archives.get(user, ())))

    def drop(self, user: str) -> None:
        self._archives.pop(user, None)

    def replace(self, user: str, id: str, xml: str) -> bool:
        archive = self._archives.get(user, [])
        for i, m in enumerate(archive):
            if m[0] == id:
                archive[i] = (m[0], m[1], m[2], xml)
                return True
        return False


class MemoryArchivePrefsStore:
    """Archiving preferences in a dict (frozen values: no copies needed)."""

    def __init__(self) -> None:
        self._prefs: dict[str, ArchivePrefs] = {}

    def get(self, user: str) -> ArchivePrefs | None:
        return self._prefs.get(user)

    def put(self, user: str, prefs: ArchivePrefs) -> None:
        self._prefs[user] = prefs

    def drop(self, user: str) -> None:
        self._prefs.pop(user, None)


class MemoryRoomStore:
    """Persistent rooms in a dict (copies in and out)."""

    def __init__(self) -> None:
        self._rooms: dict[str, StoredRoom] = {}

    @staticmethod
    def _copy(room: StoredRoom) -> StoredRoom:
        return replace(room, config=dict(room.config), affiliations=dict(room.affiliations),
                       nicks=dict(room.nicks), avatar_hashes=list(room.avatar_hashes))

    def rooms(self) -> list[StoredRoom]:
        return [self._copy(r) for _, r in sorted(self._rooms.items())]

    def get(self, name: str) -> StoredRoom | None:
        room = self._rooms.get(name)
        return self._copy(room) if room else None

    def put(self, room: StoredRoom) -> None:
        self._rooms[room.name] = self._copy(room)

    def delete(self, name: str) -> None:
        self._rooms.pop(name, None)

class MemoryPepStore:
    """PEP nodes in dicts (insertion order is creation order), items in lists."""

    def __init__(self) -> None:
        self._nodes: dict[str, dict[str, PepNode]] = {}
        self._items: dict[tuple[str, str], list[PepItem]] = {}

    def nodes(self, user: str) -> list[PepNode]:
        return [PepNode(n.name, dict(n.config)) for n in self._nodes.get(user, {}).values()]

    def node(self, user: str, name: str) -> PepNode | None:
        n = self._nodes.get(user, {}).get(name)
        return PepNode(n.name, dict(n.config)) if n else None

    def put_node(self, user: str, node: PepNode) -> None:
        self._nodes.setdefault(user, {})[node.name] = PepNode(node.name, dict(node.config))

    def delete_node(self, user: str, name: str) -> bool:
        self._items.pop((user, name), None)
        return self._nodes.get(user, {}).pop(name, None) is not None

    def items(self, user: str, name: str) -> list[PepItem]:
        return list(self._items.get((user, name), ()))

    def item(self, user: str, name: str, item_id: str) -> PepItem | None:
        return next((i for i in self._items.get((user, name), ()) if i.id == item_id), None)

    def publish(self, user: str, name: str, item: PepItem, keep: int) -> None:
        items = [i for i in self._items.get((user, name), ()) if i.id != item.id] + [item]
        self._items[(user, name)] = items[-keep:] if keep > 0 else []

    def retract(self, user: str, name: str, item_id: str) -> bool:
        items = self._items.get((user, name), [])
        kept = [i for i in items if i.id != item_id]
        self._items[(user, name)] = kept
        return len(kept) != len(items)

    def purge(self, user: str, name: str) -> None:
        self._items.pop((user, name), None)

    def drop(self, user: str) -> None:
        for name in self._nodes.pop(user, {}):
            self._items.pop((user, name), None)


class MemorySubscriptionStore:
    """Affiliations and subscriptions in dicts by (service, node); copies in and out."""

    def __init__(self) -> None:
        self._affiliations: dict[tuple[str, str], dict[str, str]] = {}
        self._subscriptions: dict[tuple[str, str], dict[str, NodeSubscription]] = {}

    @staticmethod
    def _copy(s: NodeSubscription) -> NodeSubscription:
        return NodeSubscription(s.jid, s.state, dict(s.options))

    def affiliations(self, service: str, node: str) -> dict[str, str]:
        return dict(self._affiliations.get((service, node), {}))

    def set_affiliation(self, service: str, node: str, jid: str,
                        affiliation: str | None) -> None:
        affs = self._affiliations.setdefault((service, node), {})
        if affiliation in (None, "none"):
            affs.pop(jid, None)
        else:
            affs[jid] = affiliation
        if not affs:
            del self._affiliations[(service, node)]

    def affiliated(self, service: str, jid: str) -> dict[str, str]:
        return {node: affs[jid] for (s, node), affs in self._affiliations.items()
                if s == service and jid in affs}

    def subscriptions(self, service: str, node: str) -> list[NodeSubscription]:
        return [self._copy(s) for s in self._subscriptions.get((service, node), {}).values()]

    def subscription(self, service: str, node: str, jid: str) -> NodeSubscription | None:
        s = self._subscriptions.get((service, node), {}).get(jid)
        return self._copy(s) if s else None

    def subscribe(self, service: str, node: str, subscription: NodeSubscription) -> None:
        self._subscriptions.setdefault((service, node), {})[subscription.jid] = \
            self._copy(subscription)

    def unsubscribe(self, service: str, node: str, jid: str) -> bool:
        subs = self._subscriptions.get((service, node), {})
        gone = subs.pop(jid, None) is not None
        if not subs:
            self._subscriptions.pop((service, node), None)
        return gone

    def subscribed(self, service: str, jid: str) -> list[tuple[str, NodeSubscription]]:
        return [(node, self._copy(s)) for (svc, node), subs in self._subscriptions.items()
                if svc == service for s in subs.values() if s.bare == jid]

    def drop_node(self, service: str, node: str) -> None:
        self._affiliations.pop((service, node), None)
        self._subscriptions.pop((service, node), None)

    def drop_service(self, service: str) -> None:
        for table in (self._affiliations, self._subscriptions):
            for key in [k for k in table if k[0] == service]:
                del table[key]

    def forget(self, jid: str) -> None:
        for (service, node), affs in list(self._affiliations.items()):
            if jid in affs:
                self.set_affiliation(service, node, jid, None)
        for (service, node), subs in list(self._subscriptions.items()):
            for s in [s for s in subs.values() if s.bare == jid]:
                self.unsubscribe(service, node, s.jid)


class MemoryPrivateStore:
    """XML documents in a dict: (account, key) → XML."""

    def __init__(self) -> None:
        self._docs: dict[str, dict[str, str]] = {}

    def get(self, user: str, key: str) -> str | None:
        return self._docs.get(user, {}).get(key)

    def put(self, user: str, key: str, xml: str | None) -> None:
        if xml is None:
            self._docs.get(user, {}).pop(key, None)
        else:
            self._docs.setdefault(user, {})[key] = xml

    def drop(self, user: str) -> None:
        self._docs.pop(user, None)


class MemoryUploadStore:
    def __init__(self) -> None:
        self._uploads: dict[str, Upload] = {}

    def put(self, upload: Upload) -> None:
        self._uploads[upload.slot] = replace(upload)

    def get(self, slot: str) -> Upload | None:
        upload = self._uploads.get(slot)
        return replace(upload) if upload else None

    def remove(self, slot: str) -> None:
        self._uploads.pop(slot, None)

    def for_user(self, user: str) -> list[Upload]:
        return [replace(u) for u in self._uploads.values() if u.user == user]

    def all(self) -> list[Upload]:
        return [replace(u) for u in self._uploads.values()]


class MemoryBlockStore:
    def __init__(self) -> None:
        self._lists: dict[str, list[str]] = {}

    def blocked(self, user: str) -> list[str]:
        return list(self._lists.get(user, ()))

    def block(self, user: str, jids: list[str]) -> list[str]:
        items = self._lists.setdefault(user, [])
        added = [j for j in dict.fromkeys(jids) if j not in items]
        items.extend(added)
        return added

    def unblock(self, user: str, jids: list[str] | None) -> list[str]:
        items = self._lists.get(user, [])
        removed = list(items) if jids is None else [j for j in items if j in jids]
        self._lists[user] = [j for j in items if j not in removed]
        if not self._lists[user]:
            del self._lists[user]
        return removed


class MemoryLastActivityStore:
    def __init__(self) -> None:
        self._last: dict[str, tuple[float, str]] = {}

    def get(self, user: str) -> tuple[float, str] | None:
        return self._last.get(user)

    def put(self, user: str, when: float, status: str) -> None:
        self._last[user] = (when, status)

    def drop(self, user: str) -> None:
        self._last.pop(user, None)


class MemoryTokenStore:
    """FAST tokens in a dict (XEP-0484)."""

    def __init__(self) -> None:
        self._tokens: dict[str, dict[str, FastToken]] = {}

    def get(self, user: str, agent: str) -> FastToken | None:
        token = self._tokens.get(user, {}).get(agent)
        return replace(token) if token is not None else None

    def put(self, user: str, agent: str, token: FastToken) -> None:
        self._tokens.setdefault(user, {})[agent] = replace(token)

    def delete(self, user: str, agent: str) -> None:
        self._tokens.get(user, {}).pop(agent, None)

    def drop(self, user: str) -> None:
        self._tokens.pop(user, None)
