"""Resource binding (RFC 6120 §7) and the legacy session IQ (RFC 3921 §3, RFC 6121 App. E)."""

from __future__ import annotations

import secrets

from twisted.words.protocols.jabber import jid

from minixmpp import addressing

NS_BIND = "urn:ietf:params:xml:ns:xmpp-bind"
NS_SESSION = "urn:ietf:params:xml:ns:xmpp-session"


class BadResource(Exception):
    """The requested resource is not a valid resourcepart (RFC 6120 §7.7.2.1)."""


def resourcepart(requested: str | None, user: str, domain: str) -> str:
    """The resource to bind: the client's (prepared) or a generated one (§7.6)."""
    requested = (requested or "").strip()
    if not requested:
        return "minixmpp-" + secrets.token_hex(4)
    try:
        full = addressing.make(user, domain, requested)
    except jid.InvalidFormat as e:
        raise BadResource(str(e)) from None
    if len((full.resource or "").encode()) > 1023:
        raise BadResource("resourcepart longer than 1023 bytes")
    return full.resource or ""
