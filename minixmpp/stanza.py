"""Small helpers on ``domish`` elements: copies and parsing of stored stanzas.

(``copy.copy`` does not work on ``domish.Element``: its ``__getattr__`` recurses.)
"""

from __future__ import annotations

from typing import Any

from twisted.words.protocols.jabber import error
from twisted.words.xish import domish
from wokkel.generic import stripNamespace

from minixmpp import ns


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


def parse(xml: str, namespace: str = ns.CLIENT, neutral: bool = True) -> domish.Element:
    """Parse one serialized element (as stored); stanzas come back namespace-neutral."""
    result: list[domish.Element] = []
    stream = domish.elementStream()
    stream.DocumentStartEvent = lambda root: None
    stream.ElementEvent = result.append
    stream.DocumentEndEvent = lambda: None
    stream.parse(f"<r xmlns='{namespace}'>".encode() + xml.encode() + b"</r>")
    return stripNamespace(result[0]) if neutral else result[0]


def strip_namespace(element: domish.Element) -> domish.Element:
    """Make a stanza namespace-neutral (wokkel's ``stripNamespace``): each stream then
    writes it in its own default namespace (``jabber:client``,
    ``jabber:component:accept``). What wokkel's ``stripNamespace`` does, in one loop
    instead of a call per element: every stanza a client sends passes here."""
    namespace = element.uri
    if namespace is None:
        return element
    todo = [element]
    while todo:
        current = todo.pop()
        if current.uri != namespace:
            continue  # another namespace: its subtree says what it is
        current.uri = None
        if current.defaultUri == namespace:
            current.defaultUri = None
        for child in current.children:
            if isinstance(child, domish.Element):
                todo.append(child)
    return element


def qualified(element: domish.Element, namespace: str = ns.CLIENT) -> domish.Element:
    """A deep copy whose namespace-neutral elements get ``namespace`` back: for a
    stanza nested in another one (XEP-0297 forwarding), which must say its namespace."""
    new = domish.Element((element.uri or namespace, element.name),
                         element.defaultUri or namespace, dict(element.attributes),
                         dict(element.localPrefixes or {}))
    for child in element.children:
        new.children.append(qualified(child, namespace) if isinstance(child, domish.Element)
                            and child.uri is None else (deep_copy(child) if isinstance(
                                child, domish.Element) else child))
    return new


def only_child(element: domish.Element) -> domish.Element | None:
    """The single child element of ``element``, or None when it has none or several."""
    children = list(element.elements())
    return children[0] if len(children) == 1 else None


def bounce(stanza: domish.Element, condition: str, route: Any, text: str | None = None) -> None:
    """Answer ``stanza`` with a stanza error, unless it is itself an error or result
    (RFC 6120 §8.3.1: never answer an error with an error)."""
    if stanza.getAttribute("type") in ("error", "result") or not stanza.getAttribute("from"):
        return
    route(error.StanzaError(condition, text=text).toResponse(stanza))
