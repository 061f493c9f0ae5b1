"""JIDs (RFC 7622): strict and cached.

Twisted's ``JID`` accepts a few invalid forms (``@domain``, ``user@domain/``, a part that
stringprep maps to nothing), which are ``jid-malformed`` here; it fails with an
``IndexError`` on an empty domain label (``.localhost``, ``local..host``) and keeps a final
dot; and it runs stringprep (pure Python, slow) on every parse. Every JID the server reads
from its input goes through :func:`parse` or :func:`make`, which raise
``jid.InvalidFormat`` for all of that. Parsed JIDs are immutable values, so they are
cached: a login or a routed stanza parses the same few addresses again and again.
"""

from __future__ import annotations

from encodings import idna
from functools import lru_cache

from twisted.words.protocols.jabber import jid
from twisted.words.protocols.jabber.xmpp_stringprep import nameprep, nodeprep, resourceprep

MAX_PART = 1023  # octets, RFC 7622 §3.2–3.4
MAX_LABEL = 63  # octets of a DNS label (RFC 1035 §2.3.4; an A-label, RFC 5890 §2.3.2.1)
CACHE = 65536


def _domain(host: str) -> str:
    """The domainpart before stringprep, checked label by label (RFC 7622 §3.2).

    A final dot is stripped (§3.2.1); then there is no empty label (``.localhost``,
    ``local..host``, ``localhost..``), and no label longer than 63 octets, also as an
    A-label, or that stringprep maps to nothing.
    """
    if host.endswith("."):
        host = host[:-1]
    for label in idna.dots.split(host):
        if label.isascii():
            if not label or len(label) > MAX_LABEL:
                raise jid.InvalidFormat("a domain label is empty or longer than 63 octets")
            continue
        try:
            idna.ToASCII(label)  # nameprep, punycode: "label empty or too long"
        except UnicodeError:
            raise jid.InvalidFormat(f"invalid domain label {label!r}") from None
    return host


def _build(user: str | None, host: str, resource: str | None) -> jid.JID:
    """Prepare the parts (RFC 7622 §3.2–§3.4): each present part is 1 to 1023 octets
    once prepared. The localpart and domainpart are prepared once per distinct string;
    a resourcepart, new at nearly every login, skips stringprep when it is printable
    ASCII, which Resourceprep (RFC 3920 Appendix B) neither maps nor forbids."""
    parsed = jid.JID.__new__(jid.JID)  # the parts are prepared here, not again by JID()
    parsed.user = _node(user) if user else None
    parsed.host = _name(_domain(host))
    parsed.resource = _resource(resource) if resource else None
    for part in (parsed.user, parsed.host, parsed.resource):
        if part is not None:
            _length(part)
    return parsed


@lru_cache(maxsize=CACHE)
def _node(text: str) -> str:
    try:
        return nodeprep.prepare(text)
    except UnicodeError:
        raise jid.InvalidFormat("Invalid character in username") from None


@lru_cache(maxsize=CACHE)
def _name(text: str) -> str:
    if not text:
        raise jid.InvalidFormat("Server address required.")
    try:
        return nameprep.prepare(text)
    except UnicodeError:
        raise jid.InvalidFormat("Invalid character in hostname") from None


def _resource(text: str) -> str:
    if text.isascii() and text.isprintable():  # U+0020–U+007E: Resourceprep's identity
        return text
    try:
        return resourceprep.prepare(text)
    except UnicodeError:
        raise jid.InvalidFormat("Invalid character in resource") from None


def _length(part: str) -> str:
    if not part:
        raise jid.InvalidFormat("a JID part is empty once prepared")
    if len(part.encode()) > MAX_PART:
        raise jid.InvalidFormat("a JID part is longer than 1023 octets")
    return part


@lru_cache(maxsize=CACHE)
def parse(text: str) -> jid.JID:
    """A JID, or ``jid.InvalidFormat`` for anything RFC 7622 forbids.

    The parts are split as RFC 7622 §3.1 says: the resourcepart follows the first
    ``/``, the localpart precedes the first ``@`` before it.
    """
    if not text:
        raise jid.InvalidFormat("empty JID")
    slash = text.find("/")
    bare, resource = (text, None) if slash < 0 else (text[:slash], text[slash + 1:])
    at = bare.find("@")
    user, host = (None, bare) if at < 0 else (bare[:at], bare[at + 1:])
    if user == "" or resource == "":
        raise jid.InvalidFormat("empty localpart or resourcepart")
    return _build(user, host, resource)


@lru_cache(maxsize=CACHE)
def prepared(text: str) -> str:
    """The prepared form of a JID (RFC 7622 §3), or ``jid.InvalidFormat``: what a
    stanza's ``to`` is rewritten to."""
    return parse(text).full()


@lru_cache(maxsize=CACHE)
def make(user: str | None, host: str, resource: str | None = None) -> jid.JID:
    """A JID from its parts (each prepared; an empty one is left out), or
    ``jid.InvalidFormat``."""
    return _build(user or None, host, resource or None)


def resourcepart(text: str) -> str:
    """A resourcepart alone, prepared (RFC 7622 §3.4: 1 to 1023 octets once prepared),
    or ``jid.InvalidFormat``: a MUC nickname given in a payload (XEP-0045 §7.10, §9.3)."""
    try:
        return _length(resourceprep.prepare(text))
    except UnicodeError:
        raise jid.InvalidFormat(f"invalid resourcepart {text!r}") from None
