"""Presence (RFC 6121 §3 subscriptions, §4 exchange).

Outbound presence comes from a bound resource (:meth:`PresenceHandler.outbound`),
inbound presence from the router for a local account (:meth:`PresenceHandler.inbound`).
Subscription states live in the roster (RFC 6121 §3.1, Appendix A tables).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Protocol

from twisted.logger import Logger
from twisted.words.protocols.jabber import jid
from twisted.words.xish import domish

from minixmpp import addressing
from minixmpp.im.roster import RosterHandler
from minixmpp.sessions import Session, SessionManager
from minixmpp.stanza import parse, readdressed, shallow_copy
from minixmpp.storage.interfaces import IAccountStore, IRosterStore, RosterItem

SUBSCRIPTION_TYPES = ("subscribe", "subscribed", "unsubscribe", "unsubscribed")
Route = Callable[[domish.Element], None]


def presence(frm: str, to: str, ptype: str | None = None) -> domish.Element:
    element = domish.Element((None, "presence"))
    element["from"] = frm
    element["to"] = to
    if ptype:
        element["type"] = ptype
    return element


def priority_of(stanza: domish.Element) -> int:
    """``<priority/>`` (RFC 6121 §4.7.2.3): an integer −128…127, default 0."""
    for child in stanza.elements():
        if child.name == "priority":
            try:
                return max(-128, min(127, int(str(child).strip())))
            except ValueError:
                return 0
    return 0


@dataclass(frozen=True)
class Available:
    """A resource sent available presence (RFC 6121 §4.2, §4.4)."""

    session: Session
    #: its first available presence (initial presence, §4.2)
    initial: bool
    #: offline messages it was given on the way (XEP-0160 §3)
    flushed: int


class AvailableListener(Protocol):
    def available(self, event: Available) -> None: ...


class PresenceObserver(Protocol):
    """Told of the presence events PEP needs (XEP-0163 §4.3, XEP-0153 §3.2)."""

    def broadcast(self, session: Session, stanza: domish.Element) -> None:
        """Before an available presence is broadcast; may add to it."""

    def unavailable(self, session: Session) -> None:
        """A resource that was available sent (or left) unavailable."""

    def inbound(self, stanza: domish.Element, user: str) -> None:
        """Available/unavailable presence from someone else to ``user``'s bare JID."""

    def subscribed(self, user: str, contact: str) -> None:
        """``user`` approved ``contact``'s subscription (§3.1.5)."""


class UnavailableListener(Protocol):
    def unavailable(self, session: Session, stanza: domish.Element) -> None: ...


class OfflineFlush(Protocol):
    def flush(self, session: Session) -> int: ...


class PresenceHandler:
    """Presence broadcast, probes, directed presence and the subscription handshake."""

    log = Logger()

    def __init__(self, domain: str, sessions: SessionManager, accounts: IAccountStore,
                 rosters: IRosterStore, route: Route) -> None:
        self.domain = domain
        self.sessions = sessions
        self.accounts = accounts
        self.rosters = rosters
        #: the roster IQs (RFC 6121 §2); a removed contact is unsubscribed here (§2.5.2)
        self.roster = RosterHandler(rosters, sessions, removed=self.roster_removed)
        self.route = route
        self.offline: OfflineFlush | None = None
        #: told after a resource sent available presence (push counts start again)
        self.listeners: tuple[AvailableListener, ...] = ()
        #: told of broadcasts, unavailable, inbound presence and approvals (PEP)
        self.observers: tuple[PresenceObserver, ...] = ()
        #: told when an available resource goes unavailable (last activity, XEP-0012)
        self.unavailable_listeners: tuple[UnavailableListener, ...] = ()
        self._installed = False

    def install(self, *, offline: OfflineFlush | None = None,
                listeners: Sequence[AvailableListener] = (),
                observers: Sequence[PresenceObserver] = (),
                unavailable: Sequence[UnavailableListener] = (),
                filters: Sequence[Callable[[Route], Route]] = ()) -> None:
        """What the features declared, in the order they run (``Server``, once):
        the offline store flushed on initial presence (XEP-0160 §3), the listeners and
        observers, and filters on the route of the presence the server sends (blocking)."""
        if self._installed:
            raise RuntimeError("the presence pipeline is assembled once")
        self._installed = True
        self.offline = offline
        self.listeners = tuple(listeners)
        self.observers = tuple(observers)
        self.unavailable_listeners = tuple(unavailable)
        for wrap in filters:
            self.route = wrap(self.route)

    # -- outbound (RFC 6121 §3.1.2, §3.2–3.4 user side; §4.2–4.6) ----------------------------

    def outbound(self, session: Session, stanza: domish.Element) -> None:
        ptype = stanza.getAttribute("type")
        to = stanza.getAttribute("to")
        if ptype in SUBSCRIPTION_TYPES:
            if to is None:
                return
            contact = addressing.parse(to).userhostJID()
            stanza["to"] = contact.full()
            stanza["from"] = session.jid.userhost()  # §3.1.2: stamped with the bare JID
            self._outbound_subscription(session.user, contact.full(), ptype, stanza)
        elif ptype == "probe":
            return  # probes are the server's business (§4.3)
        elif to is None:
            if ptype is None:
                self._available(session, stanza)
            elif ptype == "unavailable":
                self._unavailable(session, stanza)
        elif ptype in (None, "unavailable"):
            # §4.6 directed presence: remember who got it, to send unavailable later.
            if ptype is None:
                session.directed.add(to)
            else:
                session.directed.discard(to)
            self.route(stanza)
        else:
            self.route(stanza)  # type='error' and the like: just route

    def _available(self, session: Session, stanza: domish.Element) -> None:
        initial = not session.available
        for observer in self.observers:
            observer.broadcast(session, stanza)
        session.presence = shallow_copy(stanza)
        session.priority = priority_of(stanza)
        user, full = session.user, session.jid.full()
        items = self.rosters.items(user)
        for item in items:
            if item.subscription in ("from", "both"):
                self.route(readdressed(stanza, full, item.jid))
        for other in self.sessions.available(user):
            other.send(readdressed(stanza, full, other.jid.full()))
        if initial:
            self._initial(session, items)
        flushed = 0
        if initial and session.priority >= 0 and self.offline is not None:
            flushed = self.offline.flush(session)  # XEP-0160 §3
        event = Available(session, initial, flushed)
        for listener in self.listeners:
            listener.available(event)

    def _initial(self, session: Session, items: list[RosterItem]) -> None:
        """§4.2: probes for the new resource, and what it missed."""
        user, full = session.user, session.jid.full()
        bare = session.jid.userhost()
        for item in items:
            if item.subscription in ("to", "both"):
                self.route(presence(bare, item.jid, "probe"))  # §4.3.1
            if item.pending_in and item.pending_stanza:
                session.send(parse(item.pending_stanza))  # §3.1.3 deliver on login
        for other in self.sessions.available(user):
            if other is not session and other.presence is not None:
                session.send(readdressed(other.presence, other.jid.full(), full))

    def _unavailable(self, session: Session, stanza: domish.Element | None) -> None:
        """§4.5: unavailable to contacts, own resources and directed-presence peers."""
        was_available = session.available
        session.presence = None
        user, full = session.user, session.jid.full()
        if stanza is None:
            stanza = presence(full, "", "unavailable")
        targets: set[str] = set(session.directed)
        session.directed.clear()
        if was_available:
            targets.update(i.jid for i in self.rosters.items(user)
                           if i.subscription in ("from", "both"))
        for target in targets:
            self.route(readdressed(stanza, full, target))
        if was_available:
            for other in self.sessions.available(user):
                if other is not session:
                    other.send(readdressed(stanza, full, other.jid.full()))
            for observer in self.observers:
                observer.unavailable(session)
            for listener in self.unavailable_listeners:
                listener.unavailable(session, stanza)

    def disconnected(self, session: Session) -> None:
        """The session is gone: broadcast unavailable if needed (RFC 6121 §4.5.2)."""
        if session.available or session.directed:
            self._unavailable(session, None)

    def _outbound_subscription(self, user: str, contact: str, ptype: str,
                               stanza: domish.Element) -> None:
        item = self.rosters.get(user, contact)
        if ptype == "subscribe":  # §3.1.2
            item = item or RosterItem(contact)
            if item.subscription not in ("to", "both") and not (item.ask and item.in_roster):
                item.ask = True
                item.in_roster = True
                self._save(user, item)
            self.route(stanza)
        elif ptype == "subscribed":  # §3.1.5
            if item is None or not item.pending_in:
                self._preapprove(user, contact, item)
                return
            item.pending_in = False
            item.approved = False
            item.pending_stanza = None
            item.subscription = {"none": "from", "to": "both"}.get(item.subscription,
                                                                   item.subscription)
            item.in_roster = True
            self._save(user, item)
            self.route(stanza)
            for s in self.sessions.available(user):  # the contact's presence to the user
                self.route(readdressed(s.presence, s.jid.full(), contact))
            for observer in self.observers:
                observer.subscribed(user, contact)
        elif ptype == "unsubscribe":  # §3.3.2
            if item is not None and (item.subscription in ("to", "both") or item.ask):
                item.subscription = {"to": "none", "both": "from"}.get(item.subscription,
                                                                       item.subscription)
                item.ask = False
                self._save(user, item)
            self.route(stanza)
        elif ptype == "unsubscribed":  # §3.2.2
            if item is not None and item.approved:  # §3.4: cancels a pre-approval
                item.approved = False
                self._save(user, item)
            if item is not None and (item.subscription in ("from", "both") or item.pending_in):
                item.subscription = {"from": "none", "both": "to"}.get(item.subscription,
                                                                       item.subscription)
                item.pending_in = False
                item.pending_stanza = None
                self._save(user, item)
                for s in self.sessions.available(user):
                    self.route(presence(s.jid.full(), contact, "unavailable"))
            self.route(stanza)

    def _preapprove(self, user: str, contact: str, item: RosterItem | None) -> None:
        """RFC 6121 §3.4.2: ``subscribed`` before any request pre-approves it; the item
        is added (subscription none) if need be and pushed with ``approved='true'``.
        Nothing is routed to the contact."""
        if item is not None and (item.subscription in ("from", "both") or item.approved):
            return  # already subscribed or pre-approved: nothing changes
        item = item or RosterItem(contact)
        item.approved = True
        item.in_roster = True
        self._save(user, item)

    def roster_removed(self, user: str, item: RosterItem) -> None:
        """§2.5.2: removing an item cancels the subscriptions both ways."""
        bare = f"{user}@{self.domain}"
        if item.subscription in ("to", "both") or item.ask:
            self.route(presence(bare, item.jid, "unsubscribe"))
        if item.subscription in ("from", "both") or item.pending_in:
            self.route(presence(bare, item.jid, "unsubscribed"))

    def _save(self, user: str, item: RosterItem) -> None:
        """Store ``item``; push it if it is in the roster (§2.1.6)."""
        if not item.in_roster and item.subscription == "none" and not item.pending_in \
                and not item.approved:
            self.rosters.remove(user, item.jid)
        else:
            self.rosters.put(user, item)
        if item.in_roster:
            self.roster.push(user, item)

    # -- inbound (RFC 6121 §3 contact side, §4.3.2 probes, §8.5.2/8.5.3 presence) -----------

    def inbound(self, stanza: domish.Element, to: jid.JID) -> None:
        ptype = stanza.getAttribute("type")
        user = to.user or ""
        try:
            sender = addressing.parse(stanza["from"])
        except (jid.InvalidFormat, KeyError):
            return
        if not self.accounts.exists(user):
            if ptype in ("subscribe", "probe"):  # §3.1.3, §4.3.2: no such user
                self.route(presence(to.userhost(), sender.userhost(), "unsubscribed"))
            return
        if ptype in SUBSCRIPTION_TYPES:
            self._inbound_subscription(user, sender.userhost(), ptype, stanza)
        elif ptype == "probe":
            self._probe(user, sender)
        elif to.resource is not None:
            session = self.sessions.get(to)
            if session is not None:
                session.send(stanza)
        else:
            if ptype in (None, "unavailable", "error"):
                for observer in self.observers:
                    observer.inbound(stanza, user)
            for session in self.sessions.available(user):
                session.send(stanza)

    def _probe(self, user: str, prober: jid.JID) -> None:
        """§4.3.2: answer with the current presence of each available resource."""
        bare = prober.userhost()
        item = self.rosters.get(user, bare)
        if bare != f"{user}@{self.domain}" and (
                item is None or item.subscription not in ("from", "both")):
            return
        available = self.sessions.available(user)
        for session in available:
            assert session.presence is not None
            self.route(readdressed(session.presence, session.jid.full(), prober.full()))
        if not available:
            self.route(presence(f"{user}@{self.domain}", prober.full(), "unavailable"))

    def _inbound_subscription(self, user: str, contact: str, ptype: str,
                              stanza: domish.Element) -> None:
        item = self.rosters.get(user, contact)
        bare = f"{user}@{self.domain}"
        deliver = True
        if ptype == "subscribe":  # §3.1.3
            if item is not None and item.subscription in ("from", "both"):
                self.route(presence(bare, contact, "subscribed"))
                return
            if item is not None and item.approved:  # §3.4.3: approved in advance
                item.approved = False
                item.pending_in = False
                item.pending_stanza = None
                item.subscription = {"none": "from", "to": "both"}.get(item.subscription,
                                                                       item.subscription)
                self._save(user, item)
                self.route(presence(bare, contact, "subscribed"))
                for s in self.sessions.available(user):
                    self.route(readdressed(s.presence, s.jid.full(), contact))
                return
            item = item or RosterItem(contact, in_roster=False)
            item.pending_in = True
            item.pending_stanza = stanza.toXml()
            self._save(user, item)
        elif ptype == "subscribed":  # §3.1.6
            if item is None or not item.ask:
                return
            item.ask = False
            item.subscription = {"none": "to", "from": "both"}.get(item.subscription,
                                                                   item.subscription)
            self._save(user, item)
        elif ptype == "unsubscribe":  # §3.3.3
            if item is None or not (item.subscription in ("from", "both") or item.pending_in):
                return
            item.subscription = {"from": "none", "both": "to"}.get(item.subscription,
                                                                   item.subscription)
            item.pending_in = False
            item.pending_stanza = None
            self._save(user, item)
        elif ptype == "unsubscribed":  # §3.2.3
            if item is None or not (item.subscription in ("to", "both") or item.ask):
                return
            item.subscription = {"to": "none", "both": "from"}.get(item.subscription,
                                                                   item.subscription)
            item.ask = False
            self._save(user, item)
        if deliver:
            for session in self.sessions.available(user):
                session.send(stanza)

