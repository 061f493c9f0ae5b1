"""``--log-stanzas``: one readable line per stanza, with secrets masked."""

from __future__ import annotations

from twisted.logger import Logger
from twisted.words.xish import domish

from minixmpp import ns
from minixmpp.stanza import deep_copy

MASK = "***"

log = Logger(namespace="minixmpp.stanzas")


#: top-level elements of these namespaces carry credentials somewhere inside
SECRET_NAMESPACES = frozenset((ns.SASL, ns.SASL2, ns.SASL_UPGRADE))
#: elements whose text is a credential: SASL and SASL2 payloads (RFC 6120 §6.4,
#: XEP-0388), a SASL upgrade's salted hash (XEP-0480), a password (XEP-0077)
SECRET_TEXT = frozenset(((ns.SASL, "auth"), (ns.SASL, "response"), (ns.SASL, "challenge"),
                         (ns.SASL, "success"), (ns.SASL2, "initial-response"),
                         (ns.SASL2, "response"), (ns.SASL2, "challenge"),
                         (ns.SASL2, "additional-data"), (ns.SASL_UPGRADE, "hash")))


def _secret(e: domish.Element) -> bool:
    """Does ``e`` hold a credential: a password (XEP-0077), a data form field about a
    password (XEP-0133), a FAST token (XEP-0484), a SASL payload?"""
    name = e.name
    return (name == "password" or (e.uri, name) in SECRET_TEXT
            or (name == "token" and e.uri == ns.FAST)
            or (name == "field" and "password" in (e.getAttribute("var") or "")))


def sensitive(element: domish.Element) -> bool:
    """Might ``element`` show a credential when serialized? (Only SASL and IQs can.)"""
    if element.uri in SECRET_NAMESPACES:
        return True
    return element.name == "iq" and any(_secret(e) for e in _walk(element))


def masked(element: domish.Element) -> str:
    """Serialize ``element`` with SASL payloads, passwords, password form fields and
    FAST tokens replaced by ``***`` (the element's shape is kept)."""
    if not sensitive(element):
        return element.toXml()
    copy = deep_copy(element)
    for e in _walk(copy):
        if not _secret(e):
            continue
        if e.name == "field":
            for value in e.elements():
                if value.name == "value":
                    value.children = [MASK]
        elif any(isinstance(c, str) and c.strip() for c in e.children):
            e.children = [MASK]
        if e.getAttribute("token"):
            e["token"] = MASK
    return copy.toXml()


def _walk(element: domish.Element):
    yield element
    for child in element.elements():
        yield from _walk(child)


def stanza(direction: str, who: str, element: domish.Element) -> None:
    """Log one stanza: ``direction`` is ``IN`` or ``OUT``, ``who`` the peer."""
    log.info("{direction} {who}: {xml}", direction=direction, who=who, xml=masked(element))
