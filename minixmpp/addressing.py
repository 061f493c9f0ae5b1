"""JIDs (RFC 7622): strict and cached.

Twisted's ``JID`` accepts a few invalid forms (``@domain``, ``user@domain/``), which
are ``jid-malformed`` here, and it runs stringprep (pure Python, slow) on every parse.
Parsed JIDs are immutable values, so they are cached: a login or a routed stanza parses
the same few addresses again and again.
"""

from __future__ import annotations

from functools import lru_cache

from twisted.words.protocols.jabber import jid

MAX_PART = 1023  # bytes, RFC 7622 §3.2–3.4
CACHE = 65536


def _check(parsed: jid.JID) -> jid.JID:
    for part in (parsed.user, parsed.host, parsed.resource):
        if part is not None and len(part.encode()) > MAX_PART:
            raise jid.InvalidFormat("a JID part is longer than 1023 bytes")
    return parsed


@lru_cache(maxsize=CACHE)
def parse(text: str) -> jid.JID:
    """A JID, or ``jid.InvalidFormat`` for anything RFC 7622 forbids."""
    if not text:
        raise jid.InvalidFormat("empty JID")
    slash = text.find("/")
    bare = text if slash < 0 else text[:slash]
    if bare.startswith("@") or bare.endswith("@") or text.endswith("/"):
        raise jid.InvalidFormat("empty localpart or resourcepart")
    return _check(jid.JID(text))


@lru_cache(maxsize=CACHE)
def prepared(text: str) -> str:
    """The prepared form of a JID (RFC 7622 §3), or ``jid.InvalidFormat``: what a
    stanza's ``to`` is rewritten to."""
    return parse(text).full()


@lru_cache(maxsize=CACHE)
def make(user: str | None, host: str, resource: str | None = None) -> jid.JID:
    """A JID from its parts (each prepared), or ``jid.InvalidFormat``."""
    return _check(jid.JID(tuple=(user, host, resource)))
