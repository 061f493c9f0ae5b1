"""Small helpers on ``domish`` elements: copies and parsing of stored stanzas.

(``copy.copy`` does not work on ``domish.Element``: its ``__getattr__`` recurses.)
"""

from __future__ import annotations

from twisted.words.xish import domish


def shallow_copy(element: domish.Element) -> domish.Element:
    """A new element with the same attributes (copied) and the same children (shared)."""
    new = domish.Element((element.uri, element.name), element.defaultUri,
                         dict(element.attributes), element.localPrefixes)
    new.children = list(element.children)
    return new


def deep_copy(element: domish.Element) -> domish.Element:
    """A new element tree, safe to change anywhere."""
    new = domish.Element((element.uri, element.name), element.defaultUri,
                         dict(element.attributes), dict(element.localPrefixes or {}))
    for child in element.children:
        new.children.append(deep_copy(child) if isinstance(child, domish.Element) else child)
    return new


def readdressed(element: domish.Element, frm: str, to: str) -> domish.Element:
    """A shallow copy of ``element`` with new ``from`` and ``to``."""
    new = shallow_copy(element)
    new["from"] = frm
    new["to"] = to
    return new


def parse(xml: str, namespace: str = "jabber:client") -> domish.Element:
    """Parse one serialized stanza (as stored) back into an element."""
    result: list[domish.Element] = []
    stream = domish.elementStream()
    stream.DocumentStartEvent = lambda root: None
    stream.ElementEvent = result.append
    stream.DocumentEndEvent = lambda: None
    stream.parse(f"<r xmlns='{namespace}'>".encode() + xml.encode() + b"</r>")
    return result[0]
