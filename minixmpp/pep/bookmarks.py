"""Bookmarks: XEP-0402 (``urn:xmpp:bookmarks:1``, one PEP item per room) kept in step with
the legacy forms of XEP-0048 — in private XML (XEP-0049, ``#compat``) and in PEP (node
``storage:bookmarks``, ``#compat-pep``), as Prosody's mod_bookmarks does.

XEP-0402 is the store. A legacy write replaces the XEP-0402 items (publishing changed
rooms, retracting missing ones); a legacy read is made from them; and a legacy PEP node,
once a client created it, is republished after each XEP-0402 change so that its
+notify subscribers see it. ``<url/>`` bookmarks have no XEP-0402 form and are dropped.
"""

from __future__ import annotations

from twisted.words.xish import domish

from minixmpp import ns
from minixmpp.pep.resource import PEPResource, parse_payload
from minixmpp.storage.interfaces import PepItem

#: XEP-0402 §3.3 / XEP-0048 §3.3 (XEP-0223): the node options
OPTIONS = {"pubsub#persist_items": "true", "pubsub#max_items": "max",
           "pubsub#send_last_published_item": "never", "pubsub#access_model": "whitelist"}
LEGACY_OPTIONS = {**OPTIONS, "pubsub#max_items": "1"}
FEATURES = (f"{ns.BOOKMARKS}#compat", f"{ns.BOOKMARKS}#compat-pep")


def _true(value: str | None) -> bool:
    return (value or "").strip() in ("1", "true")


def to_legacy(items: list[PepItem]) -> domish.Element:
    """XEP-0048 ``<storage/>`` from XEP-0402 items (XEP-0402 §5.2 mapping)."""
    storage = domish.Element((ns.BOOKMARKS_LEGACY, "storage"))
    for item in items:
        c = parse_payload(item)
        conference = storage.addElement("conference")
        conference["jid"] = item.id
        if c.getAttribute("name"):
            conference["name"] = c["name"]
        conference["autojoin"] = "true" if _true(c.getAttribute("autojoin")) else "false"
        for child in c.elements(ns.BOOKMARKS):
            if child.name in ("nick", "password"):
                conference.addElement(child.name, content=str(child))
    return storage


def from_legacy(storage: domish.Element) -> dict[str, domish.Element]:
    """XEP-0402 ``<conference/>`` payloads by room JID from a XEP-0048 ``<storage/>``."""
    out: dict[str, domish.Element] = {}
    for c in storage.elements():
        if c.name != "conference" or not c.getAttribute("jid"):
            continue
        conference = domish.Element((ns.BOOKMARKS, "conference"))
        if c.getAttribute("name"):
            conference["name"] = c["name"]
        if _true(c.getAttribute("autojoin")):
            conference["autojoin"] = "true"
        for child in c.elements():
            if child.name in ("nick", "password") and str(child):
                conference.addElement(child.name, content=str(child))
        out[c["jid"]] = conference
    return out


class Bookmarks:
    """The conversions, on top of the PEP resource."""

    def __init__(self, pep: PEPResource) -> None:
        self.pep = pep
        self._busy: set[str] = set()

    def legacy(self, owner: str) -> domish.Element:
        return to_legacy(self.pep.store.items(owner, ns.BOOKMARKS))

    def store_legacy(self, owner: str, storage: domish.Element) -> None:
        """A XEP-0048 write (private XML or legacy PEP): replace the XEP-0402 items."""
        wanted = from_legacy(storage)
        self._busy.add(owner)
        try:
            current = {i.id: i for i in self.pep.store.items(owner, ns.BOOKMARKS)}
            for jid, conference in wanted.items():
                old = current.get(jid)
                if old is None or old.payload != conference.toXml():
                    options = OPTIONS if self.pep.store.node(owner, ns.BOOKMARKS) is None \
                        else None
                    self.pep.publish_item(owner, ns.BOOKMARKS, jid, conference,
                                          self.pep.bare(owner), options)
            gone = [jid for jid in current if jid not in wanted]
            node = self.pep.store.node(owner, ns.BOOKMARKS)
            if gone and node is not None:
                self.pep.retract_items(owner, node, gone)
        finally:
            self._busy.discard(owner)
        self._republish_legacy(owner)

    def changed(self, owner: str, name: str, item: PepItem | None) -> None:
        if owner in self._busy:
            return
        if name == ns.BOOKMARKS_LEGACY and item is not None:
            self.store_legacy(owner, parse_payload(item))
        elif name == ns.BOOKMARKS:
            self._republish_legacy(owner)

    def _republish_legacy(self, owner: str) -> None:
        """Keep a legacy PEP node that a client uses in step (``#compat-pep``)."""
        if self.pep.store.node(owner, ns.BOOKMARKS_LEGACY) is None:
            return
        self._busy.add(owner)
        try:
            self.pep.publish_item(owner, ns.BOOKMARKS_LEGACY, "current", self.legacy(owner),
                                  self.pep.bare(owner))
        finally:
            self._busy.discard(owner)
