"""Strict JID parsing (RFC 7622 §3): Twisted's ``JID`` accepts a few invalid forms
(``@domain``, ``user@domain/``), which must be ``jid-malformed`` here."""

from __future__ import annotations

from twisted.words.protocols.jabber import jid

MAX_PART = 1023  # bytes, RFC 7622 §3.2–3.4


def parse(text: str) -> jid.JID:
    """A JID, or ``jid.InvalidFormat`` for anything RFC 7622 forbids."""
    if not text:
        raise jid.InvalidFormat("empty JID")
    slash = text.find("/")
    bare = text if slash < 0 else text[:slash]
    if bare.startswith("@") or bare.endswith("@") or text.endswith("/"):
        raise jid.InvalidFormat("empty localpart or resourcepart")
    parsed = jid.JID(text)
    for part in (parsed.user, parsed.host, parsed.resource):
        if part is not None and len(part.encode()) > MAX_PART:
            raise jid.InvalidFormat("a JID part is longer than 1023 bytes")
    return parsed
