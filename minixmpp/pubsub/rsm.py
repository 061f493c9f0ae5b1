"""Result Set Management (XEP-0059) for item retrieval (XEP-0060 §6.5.4): a page of the
node's items in the order they are kept (oldest first, as they come without RSM).

``<max/>`` is the page size, ``<after/>`` and ``<before/>`` an item id (an empty
``<before/>``: the last page), ``<index/>`` a position; the answer's ``<set/>`` has the
page's first (with its index) and last id and the count of the whole set.
"""

from __future__ import annotations

from dataclasses import dataclass

from twisted.words.xish import domish

from minixmpp import ns
from minixmpp.pubsub.errors import PubSubRefusal


@dataclass(frozen=True)
class Page:
    """The slice ``start:end`` of ``count`` items."""

    start: int
    end: int
    count: int


def requested(pubsub: domish.Element) -> domish.Element | None:
    """The request's ``<set/>``, if it pages."""
    return next(pubsub.elements(ns.RSM, "set"), None)


def page(ids: list[str], rsm: domish.Element) -> Page:
    """XEP-0059 §2.1–§2.5 over ``ids``; an unknown id is ``item-not-found``."""
    size, after, before, index = len(ids), None, None, None
    for child in rsm.elements():
        text = str(child).strip()
        if child.name in ("max", "index"):
            if not text.isdigit():
                raise PubSubRefusal("bad-request", text=f"<{child.name}/> is a number")
            if child.name == "max":
                size = int(text)
            else:
                index = int(text)
        elif child.name == "after":
            after = text
        elif child.name == "before":
            before = text
    if before is not None:
        end = len(ids) if before == "" else _position(ids, before)
        return Page(max(0, end - size), end, len(ids))
    start = _position(ids, after) + 1 if after else min(index or 0, len(ids))
    return Page(start, min(len(ids), start + size), len(ids))


def _position(ids: list[str], wanted: str) -> int:
    try:
        return ids.index(wanted)
    except ValueError:
        raise PubSubRefusal("item-not-found", text=f"no item {wanted!r} to page from"
                            ) from None


def answer(ids: list[str], at: Page) -> domish.Element:
    """The answer's ``<set/>`` (XEP-0059 §2.6: ``<first/>`` and ``<last/>`` only for a
    page with items)."""
    element = domish.Element((ns.RSM, "set"))
    shown = ids[at.start:at.end]
    if shown:
        element.addElement("first", content=shown[0])["index"] = str(at.start)
        element.addElement("last", content=shown[-1])
    element.addElement("count", content=str(at.count))
    return element
