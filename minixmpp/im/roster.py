"""Roster management (RFC 6121 §2): get, set, remove, roster pushes, and roster
versioning (§2.6): the version is a digest of the roster, so a client whose version
is current gets an empty result and, from then on, pushes only."""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Callable

from twisted.words.protocols.jabber import error, jid
from twisted.words.xish import domish
from wokkel.subprotocols import IQHandlerMixin, XMPPHandler

from minixmpp import addressing, ns
from minixmpp.sessions import SessionManager
from minixmpp.storage.interfaces import IRosterStore, RosterItem

QUERY = f"/query[@xmlns='{ns.ROSTER}']"


def item_element(item: RosterItem, remove: bool = False) -> domish.Element:
    """``<item/>`` as in RFC 6121 §2.1.2."""
    element = domish.Element((ns.ROSTER, "item"))
    element["jid"] = item.jid
    if remove:
        element["subscription"] = "remove"
        return element
    element["subscription"] = item.subscription
    if item.name:
        element["name"] = item.name
    if item.ask:
        element["ask"] = "subscribe"
    if item.approved:
        element["approved"] = "true"  # §3.4
    for group in item.groups:
        element.addElement("group", content=group)
    return element


def version(items: list[RosterItem]) -> str:
    """An opaque roster version (§2.6.1): changes whenever what a client sees changes."""
    digest = hashlib.sha256()
    for item in sorted((i for i in items if i.in_roster), key=lambda i: i.jid):
        digest.update(item_element(item).toXml().encode())
        digest.update(b"\0")
    return digest.hexdigest()[:16]


class RosterHandler(XMPPHandler, IQHandlerMixin):
    """Answers roster get/set to the user's own bare JID and sends roster pushes."""

    iqHandlers = {"/iq[@type='get']" + QUERY: "onGet", "/iq[@type='set']" + QUERY: "onSet"}

    def __init__(self, rosters: IRosterStore, sessions: SessionManager,
                 removed: Callable[[str, RosterItem], None] | None = None) -> None:
        super().__init__()
        self.rosters = rosters
        self.sessions = sessions
        #: called as (user, removed item) so presence can unsubscribe (§2.5.2)
        self.removed = removed

    def connectionInitialized(self) -> None:
        self.xmlstream.addObserver("/iq[@type='get' or @type='set']" + QUERY,
                                   self.handleRequest)

    def _owner(self, iq: domish.Element) -> tuple[str, jid.JID]:
        sender, to = addressing.parse(iq["from"]), addressing.parse(iq["to"])
        if to.user is None or to.userhost() != sender.userhost():
            # §2.1.5 / §8.5: another account's roster is not yours to read or change.
            raise error.StanzaError("forbidden" if to.user else "service-unavailable")
        return sender.user or "", sender

    def onGet(self, iq: domish.Element) -> domish.Element | None:
        user, sender = self._owner(iq)
        session = self.sessions.get(sender)
        if session is not None:
            session.interested = True
        items = self.rosters.items(user)
        current = version(items)
        requested = iq.query.getAttribute("ver")
        if requested is not None and requested == current:
            return None  # §2.6.3: up to date: an empty result, then pushes only
        query = domish.Element((ns.ROSTER, "query"))
        query["ver"] = current  # versioning is always on: the feature is advertised
        for item in items:
            if item.in_roster:
                query.addChild(item_element(item))
        return query

    def onSet(self, iq: domish.Element) -> None:
        user, sender = self._owner(iq)
        items = [e for e in iq.query.elements() if e.name == "item"]
        if len(items) != 1:
            raise error.StanzaError("bad-request", text="a roster set has exactly one item")
        element = items[0]
        try:
            contact = addressing.parse(element.getAttribute("jid") or "")
        except jid.InvalidFormat:
            raise error.StanzaError("jid-malformed") from None
        if contact.resource is not None or not contact.host:
            raise error.StanzaError("bad-request", text="roster items are bare JIDs")
        bare = contact.userhost()
        current = self.rosters.get(user, bare)
        if element.getAttribute("subscription") == "remove":
            if current is None or not (current.in_roster or current.pending_in):
                raise error.StanzaError("item-not-found")
            self.rosters.remove(user, bare)
            if self.removed is not None:
                self.removed(user, current)
            self.push(user, current, remove=True)
            return None
        groups = tuple(str(g).strip() for g in element.elements() if g.name == "group")
        if len(set(groups)) != len(groups) or any(not g for g in groups):
            raise error.StanzaError("bad-request", text="duplicate or empty group")
        item = current or RosterItem(bare)
        item.name = element.getAttribute("name") or None
        item.groups = groups
        item.in_roster = True
        self.rosters.put(user, item)
        self.push(user, item)
        return None

    def push(self, user: str, item: RosterItem, remove: bool = False) -> None:
        """Roster push to every interested resource of ``user`` (RFC 6121 §2.1.6), with
        the new roster version (§2.6.2)."""
        ver = version(self.rosters.items(user))
        for session in self.sessions.of(user):
            if not session.interested:
                continue
            iq = domish.Element((None, "iq"))
            iq["type"] = "set"
            iq["id"] = "push-" + secrets.token_hex(6)
            iq["to"] = session.jid.full()
            query = iq.addElement((ns.ROSTER, "query"))
            query["ver"] = ver
            query.addChild(item_element(item, remove))
            session.send(iq)
