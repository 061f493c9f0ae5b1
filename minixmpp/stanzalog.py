"""``--log-stanzas``: one readable line per stanza, with secrets masked."""

from __future__ import annotations

from twisted.logger import Logger
from twisted.words.xish import domish

from minixmpp import ns
from minixmpp.stanza import deep_copy, shallow_copy

MASK = "***"

log = Logger(namespace="minixmpp.stanzas")


def masked(element: domish.Element) -> str:
    """Serialize ``element`` with SASL payloads and passwords replaced by ``***``."""
    if element.uri == ns.SASL:
        if not any(isinstance(c, str) and c.strip() for c in element.children):
            return element.toXml()
        element = shallow_copy(element)
        element.children = [MASK]
        return element.toXml()
    if element.name == "iq" and _has_password(element):
        element = deep_copy(element)
        for e in _walk(element):
            if e.name == "password":
                e.children = [MASK]
        return element.toXml()
    return element.toXml()


def _walk(element: domish.Element):
    yield element
    for child in element.elements():
        yield from _walk(child)


def _has_password(element: domish.Element) -> bool:
    return any(e.name == "password" for e in _walk(element))


def stanza(direction: str, who: str, element: domish.Element) -> None:
    """Log one stanza: ``direction`` is ``IN`` or ``OUT``, ``who`` the peer."""
    log.info("{direction} {who}: {xml}", direction=direction, who=who, xml=masked(element))
