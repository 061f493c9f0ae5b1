"""When to push (``shared/specs/push-rules.md``, "When to push").

Plain functions over plain objects: which messages are push-worthy, and which
registration gets a notification for which reason.
"""

from __future__ import annotations

from collections.abc import Iterable

from twisted.words.protocols.jabber import jid
from twisted.words.xish import domish

from minixmpp import addressing
from minixmpp.sessions import Session
from minixmpp.storage.interfaces import PushRegistration

#: Payloads that stand for an encrypted body (OMEMO legacy and v2, OX, legacy PGP).
ENCRYPTED = {
    ("eu.siacs.conversations.axolotl", "encrypted"),
    ("urn:xmpp:omemo:2", "encrypted"),
    ("urn:xmpp:openpgp:0", "openpgp"),
    ("jabber:x:encrypted", "x"),
}
NS_CARBONS = "urn:xmpp:carbons:2"

#: Why a registration is notified.
OFFLINE = "offline"
HIBERNATED = "hibernated"
AWAY = "away"
ARCHIVED = "archived"


def body_of(stanza: domish.Element) -> str | None:
    for child in stanza.elements():
        if child.name == "body" and child.uri in (None, "jabber:client"):
            return str(child)
    return None


def encrypted(stanza: domish.Element) -> bool:
    return any((c.uri, c.name) in ENCRYPTED for c in stanza.elements())


def push_worthy(stanza: domish.Element, user: str) -> bool:
    """A chat/normal message to the account, from someone else, with a body or an
    encrypted payload; never errors, headlines, groupchat, chat states, receipts or
    carbon copies alone."""
    if stanza.name != "message":
        return False
    if (stanza.getAttribute("type") or "normal") not in ("chat", "normal"):
        return False
    try:
        sender = addressing.parse(stanza.getAttribute("from") or "")
    except jid.InvalidFormat:
        return False
    if sender.user == user and sender.host == addressing.parse(stanza["to"]).host:
        return False  # the account's own messages
    if any(c.uri == NS_CARBONS for c in stanza.elements()):
        return False
    return body_of(stanza) is not None or encrypted(stanza)


def plainly_available(session: Session) -> bool:
    """Available with no ``<show/>`` or ``<show>chat</show>`` (push-rules rule 3)."""
    return session.available and session.show in (None, "chat")


def reasons(registrations: Iterable[PushRegistration], sessions: list[Session], *,
            offline: bool, hibernated: bool = False, archived: bool = False
            ) -> list[tuple[PushRegistration, str]]:
    """Which registrations to notify, at most once each, and why.

    ``offline``: the message went to offline storage (rule 1); ``hibernated``: it was
    queued for a hibernated stream-management session (rule 2); ``sessions``: the
    account's sessions, for rule 3. A hibernated session keeps its presence, so it
    still counts as plainly available: while it sleeps, rule 2 alone decides.
    ``archived`` (``--push-on-archive``): the message was archived, which notifies a
    registration whose own session is not live (Prosody and ejabberd do this).
    """
    nobody_plainly_available = not any(plainly_available(s) for s in sessions)
    live = {s.resource for s in sessions if not s.hibernated}
    out = []
    for registration in registrations:
        if offline:
            out.append((registration, OFFLINE))
        elif hibernated:
            out.append((registration, HIBERNATED))
        elif registration.away and nobody_plainly_available:
            out.append((registration, AWAY))
        elif archived and registration.resource not in live:
            out.append((registration, ARCHIVED))
    return out
