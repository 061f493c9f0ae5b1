"""Storage interfaces.

The interface is synchronous on purpose: the memory backend answers at once, and a
durable backend commits before it returns, so that a client is told of success only
after the write (as Prosody does with its storage drivers on its main loop).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, NamedTuple, Protocol


class StorageError(Exception):
    """A backend cannot be opened or used (the message is one line for the user)."""


class InvalidPassword(ValueError):
    """A password SASLprep refuses (RFC 4013 §2.3, §5: unassigned code points, control
    and bidi characters...): no SCRAM keys can be made from it, and it never logs in."""


class AccountExists(Exception):
    """The account name is taken."""


class NoSuchAccount(Exception):
    """There is no such account."""


@dataclass(frozen=True)
class ScramCredentials:
    """SCRAM keys for one hash (RFC 5802 §3): never the password itself."""

    salt: bytes
    stored_key: bytes
    server_key: bytes
    iteration_count: int


@dataclass
class RosterItem:
    """One roster item (RFC 6121 §2.1.2), plus the pending-in flag of §3.1.3.

    ``in_roster`` is false for an item that exists only to remember a subscription
    request the user has not answered yet: it is not shown in roster results.
    """

    jid: str
    name: str | None = None
    groups: tuple[str, ...] = ()
    subscription: str = "none"  # none | to | from | both
    ask: bool = False  # outbound subscription request pending ("ask='subscribe'")
    pending_in: bool = False  # inbound subscription request waiting for an answer
    in_roster: bool = True
    #: the user pre-approved the contact's subscription request (RFC 6121 §3.4)
    approved: bool = False
    #: the subscribe stanza (XML) to re-deliver while pending_in
    pending_stanza: str | None = field(default=None, compare=False)


class IAccountStore(Protocol):
    """Accounts with SCRAM credentials (RFC 6120 §6, RFC 5802)."""

    def create(self, user: str, password: str) -> None: ...

    def delete(self, user: str) -> None: ...

    def exists(self, user: str) -> bool: ...

    def users(self) -> list[str]: ...

    def set_password(self, user: str, password: str) -> None: ...

    def scram(self, user: str, mechanism: str) -> ScramCredentials | None: ...

    def set_scram(self, user: str, mechanism: str, credentials: ScramCredentials) -> None:
        """Store one hash's keys beside the others (XEP-0480 upgrade tasks)."""

    def check_password(self, user: str, password: str) -> bool: ...


class IRosterStore(Protocol):
    """Rosters (RFC 6121 §2), keyed by account name and contact bare JID."""

    def items(self, user: str) -> list[RosterItem]: ...

    def pending_in(self, user: str) -> int:
        """How many contacts wait for the account to approve their subscription request
        (RFC 6121 §3.1.3): the push summary's ``pending-subscription-count``."""
        ...

    def get(self, user: str, contact: str) -> RosterItem | None: ...

    def put(self, user: str, item: RosterItem) -> None: ...

    def remove(self, user: str, contact: str) -> None: ...

    def drop(self, user: str) -> None: ...


@dataclass
class PushRegistration:
    """One XEP-0357 registration (§5) of an account, with the AWAY/XA flag.

    ``publish_options`` is the submitted form, serialized verbatim (XEP-0357 §5: sent
    back with every publish). ``resource`` is the resource that enabled it.
    """

    jid: str
    node: str | None
    away: bool = False
    publish_options: str | None = None
    resource: str | None = None
    created: float = 0.0
    #: transient failures in a row (XEP-0357 §7.1 / push-rules "App Server replies")
    errors: int = 0
    last_error: str | None = None
    notifications: int = 0
    #: Tigase push extensions enabled with it (push/extensions.py), as plain JSON;
    #: replaced as a whole on re-enable, never changed in place
    extensions: dict[str, Any] = field(default_factory=dict)


class IOfflineStore(Protocol):
    """Offline messages (XEP-0160), serialized stanzas in arrival order."""

    def store(self, user: str, stanza: str) -> None: ...

    def count(self, user: str) -> int: ...

    def peek(self, user: str) -> list[str]: ...

    def pop_all(self, user: str) -> list[str]: ...


class IPushStore(Protocol):
    """Push registrations per account (XEP-0357 §5, §6)."""

    def registrations(self, user: str) -> list[PushRegistration]: ...

    def put(self, user: str, registration: PushRegistration) -> None: ...

    def remove(self, user: str, jid: str, node: str | None) -> bool:
        """Remove exactly the registration (jid, node); ``node=None`` is the node-less
        registration, not a wildcard. True if there was one."""
        ...

    def remove_service(self, user: str, jid: str) -> int:
        """Remove every registration of ``user`` at App Server ``jid``, node-less or not
        (XEP-0357 §6, disable without node); how many went."""
        ...

    def users(self) -> list[str]: ...


class ArchivedMessage(NamedTuple):
    """One message in an account's archive (XEP-0313). A tuple of strings and a float:
    the memory store keeps each as a plain tuple, which the cyclic garbage collector
    stops tracking, so a large archive adds nothing to every full collection."""

    id: str
    timestamp: float
    with_jid: str  # the other party, full JID as seen on the message
    xml: str


class IArchiveStore(Protocol):
    """Per-account message archives, oldest first, bounded."""

    def append(self, user: str, message: ArchivedMessage, limit: int) -> None: ...

    def messages(self, user: str) -> list[ArchivedMessage]: ...

    def drop(self, user: str) -> None: ...

    def replace(self, user: str, id: str, xml: str) -> bool:
        """Put ``xml`` in place of message ``id`` (a XEP-0425 tombstone); False if absent."""
        ...


@dataclass(frozen=True)
class ArchivePrefs:
    """An account's archiving preferences (XEP-0441 §2.1): the default (``always``,
    ``never`` or ``roster``) and the JIDs always and never archived, prepared, in the
    order given."""

    default: str = "always"
    always: tuple[str, ...] = ()
    never: tuple[str, ...] = ()


class IArchivePrefsStore(Protocol):
    """Archiving preferences per account (XEP-0441); None: never set."""

    def get(self, user: str) -> ArchivePrefs | None: ...

    def put(self, user: str, prefs: ArchivePrefs) -> None: ...

    def drop(self, user: str) -> None: ...


@dataclass
class StoredRoom:
    """One persistent group chat room (XEP-0045): its configuration (the
    ``muc#roomconfig`` values by short name), affiliations and nicks by bare JID, subject.
    """

    name: str  # the room JID's localpart
    config: dict = field(default_factory=dict)
    affiliations: dict = field(default_factory=dict)  # bare JID -> owner|admin|member|outcast
    nicks: dict = field(default_factory=dict)  # bare JID -> reserved or last-used nick
    subject: str = ""
    subject_nick: str = ""
    created: float = 0.0
    #: the room's secret for XEP-0421 occupant ids (stable across restarts)
    salt: str = ""
    #: XEP-0486: the room's vCard (``vcard-temp`` XML, "" for none) and its PHOTO hashes
    vcard: str = ""
    avatar_hashes: list = field(default_factory=list)


class IRoomStore(Protocol):
    """Persistent rooms of the MUC service, by name; each room's messages are in an
    :class:`IArchiveStore` of their own, keyed by room name."""

    def rooms(self) -> list[StoredRoom]: ...

    def get(self, name: str) -> StoredRoom | None: ...

    def put(self, room: StoredRoom) -> None: ...

    def delete(self, name: str) -> None: ...

@dataclass
class PepNode:
    """One PEP node of an account (XEP-0163 §5) and its configuration (XEP-0060 §16.4.4
    ``pubsub#`` fields, values as strings)."""

    name: str
    config: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class PepItem:
    """One published item: its id, its payload (serialized XML), who published it, when."""

    id: str
    payload: str
    publisher: str = ""
    timestamp: float = 0.0


class IPepStore(Protocol):
    """PEP nodes and items per account (XEP-0163), or the pubsub service's by its JID;
    items oldest first."""

    def nodes(self, user: str) -> list[PepNode]: ...

    def node(self, user: str, name: str) -> PepNode | None: ...

    def put_node(self, user: str, node: PepNode) -> None: ...

    def delete_node(self, user: str, name: str) -> bool: ...

    def items(self, user: str, name: str) -> list[PepItem]: ...

    def item(self, user: str, name: str, item_id: str) -> PepItem | None: ...

    def publish(self, user: str, name: str, item: PepItem, keep: int) -> None:
        """Store ``item`` as the newest (replacing one with its id); keep the newest
        ``keep`` items."""

    def retract(self, user: str, name: str, item_id: str) -> bool: ...

    def purge(self, user: str, name: str) -> None: ...

    def drop(self, user: str) -> None: ...


@dataclass
class NodeSubscription:
    """One subscription to a pubsub node (XEP-0060 §4.2): the JID as subscribed (bare or
    full), its state and its options (``pubsub#subscribe_options`` values, §6.3)."""

    jid: str
    state: str = "subscribed"  # subscribed | pending (an ``authorize`` node, §6.1.4)
    options: dict[str, str] = field(default_factory=dict)

    @property
    def bare(self) -> str:
        return self.jid.split("/", 1)[0]


class ISubscriptionStore(Protocol):
    """Affiliations and subscriptions of pubsub nodes (XEP-0060 §4.1, §4.2) by service
    (a PEP service: the account's bare JID; the pubsub service: its JID) and node.
    Affiliations are by bare JID, subscriptions by the JID as subscribed, oldest first."""

    def affiliations(self, service: str, node: str) -> dict[str, str]: ...

    def set_affiliation(self, service: str, node: str, jid: str,
                        affiliation: str | None) -> None:
        """Set ``jid``'s affiliation; None removes it (``none``, §8.9.3)."""

    def affiliated(self, service: str, jid: str) -> dict[str, str]:
        """node → affiliation of one bare JID at a service (§5.7)."""
        ...

    def subscriptions(self, service: str, node: str) -> list[NodeSubscription]: ...

    def subscription(self, service: str, node: str, jid: str) -> NodeSubscription | None: ...

    def subscribe(self, service: str, node: str, subscription: NodeSubscription) -> None:
        """Add the subscription, or replace the one of its JID (keeping its place)."""

    def unsubscribe(self, service: str, node: str, jid: str) -> bool: ...

    def subscribed(self, service: str, jid: str) -> list[tuple[str, NodeSubscription]]:
        """(node, subscription) of every JID whose bare JID is ``jid`` at a service (§5.6)."""
        ...

    def drop_node(self, service: str, node: str) -> None: ...

    def drop_service(self, service: str) -> None: ...

    def forget(self, jid: str) -> None:
        """A bare JID's affiliations and subscriptions, at every service, are gone."""


class IPrivateStore(Protocol):
    """Per-account XML documents by key: private XML (XEP-0049) and vCards (XEP-0054)."""

    def get(self, user: str, key: str) -> str | None: ...

    def put(self, user: str, key: str, xml: str | None) -> None:
        """Store ``xml`` under ``key``; None removes it."""

    def drop(self, user: str) -> None: ...


@dataclass
class Upload:
    """One HTTP upload slot (XEP-0363 §4) and, once PUT, the file behind it.

    ``slot`` is the secret part of the PUT/GET URL; the file lives on disk under it.
    """

    slot: str
    user: str
    filename: str
    size: int
    content_type: str
    created: float
    expires: float  # the PUT must come before this
    uploaded: float | None = None  # when the PUT completed; None while only a slot


class IUploadStore(Protocol):
    """Upload slots and files per account (XEP-0363), oldest first."""

    def put(self, upload: Upload) -> None: ...

    def get(self, slot: str) -> Upload | None: ...

    def remove(self, slot: str) -> None: ...

    def for_user(self, user: str) -> list[Upload]: ...

    def all(self) -> list[Upload]: ...


class IBlockStore(Protocol):
    """Block lists (XEP-0191 §3): JIDs as the user gave them, in the order blocked."""

    def blocked(self, user: str) -> list[str]: ...

    def block(self, user: str, jids: list[str]) -> list[str]:
        """Add ``jids``; returns the ones that were not blocked before."""
        ...

    def unblock(self, user: str, jids: list[str] | None) -> list[str]:
        """Remove ``jids`` (None: all); returns the ones removed."""
        ...


class ILastActivityStore(Protocol):
    """When each account's last resource went offline, and its status (XEP-0012 §4)."""

    def get(self, user: str) -> tuple[float, str] | None: ...

    def put(self, user: str, when: float, status: str) -> None: ...


    def drop(self, user: str) -> None: ...


@dataclass
class FastToken:
    """A FAST token (XEP-0484) of one account and client (its SASL2 user-agent id).

    ``previous`` stays valid until ``current`` is first used (rotation, §3.4); ``count``
    is the highest ``<fast count/>`` seen, so a replayed login fails (§3.3).
    """

    mechanism: str
    current: str
    expiry: float
    previous: str | None = None
    count: int = 0


class ITokenStore(Protocol):
    """FAST tokens by (account, user-agent id)."""

    def get(self, user: str, agent: str) -> FastToken | None: ...

    def put(self, user: str, agent: str, token: FastToken) -> None: ...

    def delete(self, user: str, agent: str) -> None: ...

    def drop(self, user: str) -> None: ...
