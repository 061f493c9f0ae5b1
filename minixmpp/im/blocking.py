"""Blocking Command (XEP-0191): the block list IQs, and what a block does to stanzas.

- :class:`BlockingHandler` answers ``blocklist``/``block``/``unblock`` on the account's
  own bare JID and pushes changes to the resources that asked for the list (§3.3, §3.4
  "all of the user's connected resources that have requested the blocklist", as
  Prosody and Openfire do).
- :class:`Blocking` holds the rules, plugged in three places by ``Server``:
  a delivery stage for messages (before the archive, so nothing blocked is archived,
  stored offline or pushed), a guard of ``LocalDomain`` for IQs and presence, and a
  filter on the presence the server sends for the account.

Inbound from a blocked JID (§3.3 with XEP-0016 §2.1 matching): presence is dropped,
a message gets ``service-unavailable``, an IQ get/set ``service-unavailable``, other IQs
are dropped: the account looks offline. Outbound to a blocked JID: a message or IQ gets
``not-acceptable`` with ``<blocked xmlns='urn:xmpp:blocking:errors'/>``, presence is
dropped. Blocking a contact sends it unavailable presence; unblocking sends current
presence again.
"""

from __future__ import annotations

import itertools
import weakref
from collections.abc import Callable

from twisted.words.protocols.jabber import error, jid
from twisted.words.xish import domish
from wokkel.subprotocols import IQHandlerMixin, XMPPHandler

from minixmpp import addressing, ns
from minixmpp.discovery import EVERY_JID, Discoverable
from minixmpp.feature import Context, Feature
from minixmpp.im.message import BOUNCED, DROPPED, Outcome
from minixmpp.sessions import Session, SessionManager
from minixmpp.stanza import bounce, readdressed
from minixmpp.storage.interfaces import IBlockStore, IRosterStore

GET_LIST = f"/iq[@type='get']/blocklist[@xmlns='{ns.BLOCKING}']"
SET_BLOCK = f"/iq[@type='set']/block[@xmlns='{ns.BLOCKING}']"
SET_UNBLOCK = f"/iq[@type='set']/unblock[@xmlns='{ns.BLOCKING}']"

Route = Callable[[domish.Element], None]


def candidates(peer: jid.JID) -> set[str]:
    """The item JIDs that match ``peer`` (XEP-0016 §2.1: full, bare, domain/resource,
    domain)."""
    out = {peer.host}
    if peer.user is not None:
        out.add(peer.userhost())
    if peer.resource is not None:
        out.add(f"{peer.host}/{peer.resource}")
        out.add(peer.full())
    return out


class Blocking:
    """Who blocked whom, and the stanza rules of §3.3/§3.4."""

    def __init__(self, store: IBlockStore, domain: str, route: Route) -> None:
        self.store = store
        self.domain = domain
        self.route = route

    def blocks(self, user: str, peer: str | None) -> bool:
        """Does ``user`` block ``peer`` (a JID string)?"""
        if not peer:
            return False
        try:
            parsed = addressing.parse(peer)
        except jid.InvalidFormat:
            return False
        if parsed.user == user and parsed.host == self.domain:
            return False  # one's own JID is never blocked
        blocked = self.store.blocked(user)
        return bool(blocked) and not candidates(parsed).isdisjoint(blocked)

    # -- inbound: a delivery stage (messages) and a guard (IQs, presence) -------------------

    def incoming(self, stanza: domish.Element, user: str) -> Outcome | None:
        """Delivery stage: a message from a blocked JID is bounced (§3.3)."""
        if not self.blocks(user, stanza.getAttribute("from")):
            return None
        if stanza.getAttribute("type") == "error":
            return Outcome(stanza, user, DROPPED)
        bounce(stanza, "service-unavailable", self.route)
        return Outcome(stanza, user, BOUNCED, reason="blocked")

    def inbound(self, stanza: domish.Element, to: jid.JID) -> bool:
        """Guard for an IQ or presence to a local account; True: stopped here."""
        if to.user is None or not self.blocks(to.user, stanza.getAttribute("from")):
            return False
        if stanza.name == "iq":
            bounce(stanza, "service-unavailable", self.route)  # get/set only
        return True

    # -- outbound -------------------------------------------------------------------------

    def outbound(self, session: Session, stanza: domish.Element) -> bool:
        """Guard for a message or IQ a client sends; True: refused here (§3.4)."""
        if stanza.getAttribute("type") in ("error", "result") or \
                not self.blocks(session.user, stanza.getAttribute("to")):
            return False
        if stanza.getAttribute("type") == "error":
            return True
        condition = domish.Element((ns.BLOCKING_ERRORS, "blocked"))
        reply = error.StanzaError("not-acceptable", type="cancel",
                                  appCondition=condition).toResponse(stanza)
        session.send(reply)
        return True

    def presence_route(self, route: Route) -> Route:
        """``route`` for the presence the server sends for its accounts: nothing goes to
        a JID the account blocks (broadcasts, directed presence, probes)."""

        def filtered(stanza: domish.Element) -> None:
            if stanza.getAttribute("type") != "error":
                try:
                    sender = addressing.parse(stanza.getAttribute("from") or "")
                except jid.InvalidFormat:
                    sender = None
                if sender is not None and sender.user is not None and \
                        sender.host == self.domain and \
                        self.blocks(sender.user, stanza.getAttribute("to")):
                    return
            route(stanza)

        return filtered


class BlockingHandler(Discoverable, XMPPHandler, IQHandlerMixin):
    """The block list protocol (§3.2–§3.5) on the account's own bare JID."""

    disco_features = (ns.BLOCKING,)
    disco_on = EVERY_JID
    iqHandlers = {GET_LIST: "onList", SET_BLOCK: "onBlock", SET_UNBLOCK: "onUnblock"}

    def __init__(self, blocking: Blocking, sessions: SessionManager,
                 rosters: IRosterStore) -> None:
        super().__init__()
        self.blocking = blocking
        self.store = blocking.store
        self.sessions = sessions
        self.rosters = rosters
        self.interested: weakref.WeakSet[Session] = weakref.WeakSet()
        self._ids = itertools.count(1)

    def connectionInitialized(self) -> None:
        for xpath in self.iqHandlers:
            self.xmlstream.addObserver(xpath, self.handleRequest)

    def _own(self, iq: domish.Element) -> tuple[str, Session | None]:
        to, sender = addressing.parse(iq["to"]), addressing.parse(iq["from"])
        if sender.user is None or sender.host != self.blocking.domain:
            raise error.StanzaError("forbidden")
        if to.user is not None and to.userhost() != sender.userhost():
            raise error.StanzaError("forbidden")
        return sender.user, self.sessions.get(sender)

    @staticmethod
    def _items(element: domish.Element) -> list[str]:
        out = []
        for item in element.elements(ns.BLOCKING, "item"):
            try:
                out.append(addressing.parse(item.getAttribute("jid") or "").full())
            except jid.InvalidFormat:
                raise error.StanzaError("jid-malformed") from None
        return out

    @staticmethod
    def _element(name: str, jids: list[str]) -> domish.Element:
        element = domish.Element((ns.BLOCKING, name))
        for j in jids:
            element.addElement("item")["jid"] = j
        return element

    def onList(self, iq: domish.Element) -> domish.Element:
        user, session = self._own(iq)
        if session is not None:
            self.interested.add(session)
        return self._element("blocklist", self.store.blocked(user))

    def onBlock(self, iq: domish.Element) -> None:
        user, _ = self._own(iq)
        jids = self._items(iq.block)
        if not jids:
            raise error.StanzaError("bad-request", text="block needs at least one item")
        added = self.store.block(user, jids)
        if added:
            self._presence(user, added, available=False)
            self._push(user, "block", added)

    def onUnblock(self, iq: domish.Element) -> None:
        user, _ = self._own(iq)
        jids = self._items(iq.unblock)
        removed = self.store.unblock(user, jids or None)
        if removed:
            self._push(user, "unblock", [] if not jids else removed)
            self._presence(user, removed, available=True)

    def _push(self, user: str, name: str, jids: list[str]) -> None:
        for session in self.sessions.of(user):
            if session in self.interested:
                push = domish.Element((None, "iq"))
                push["type"] = "set"
                push["id"] = f"block-push-{next(self._ids)}"
                push["from"] = session.jid.userhost()
                push["to"] = session.jid.full()
                push.addChild(self._element(name, jids))
                session.send(push)

    def _presence(self, user: str, jids: list[str], available: bool) -> None:
        """§3.3: blocked contacts that get the account's presence now get unavailable;
        §3.4: unblocked ones get its current presence again."""
        changed = set(jids)
        for item in self.rosters.items(user):
            if item.subscription not in ("from", "both"):
                continue
            if changed.isdisjoint(candidates(addressing.parse(item.jid))):
                continue
            if available and self.blocking.blocks(user, item.jid):
                continue  # still blocked by another item
            for session in self.sessions.available(user):
                full = session.jid.full()
                if available and session.presence is not None:
                    self.blocking.route(readdressed(session.presence, full, item.jid))
                elif not available:
                    gone = domish.Element((None, "presence"))
                    gone["type"] = "unavailable"
                    gone["from"] = full
                    gone["to"] = item.jid
                    self.blocking.route(gone)


def build(ctx: Context) -> Feature:
    """The ``blocking`` feature: a delivery stage for messages (before the archive), a
    guard for IQs and presence, a filter on the presence the server sends, the IQs; it
    provides ``blocks(user, jid)`` (PEP sends a blocked subscriber no notifications)."""
    blocking = Blocking(ctx.storage.blocking, ctx.domain, ctx.local.route)
    return Feature("blocking", service=blocking,
                   handlers=(BlockingHandler(blocking, ctx.sessions, ctx.storage.rosters),),
                   stages=(blocking,), guards=(blocking,),
                   presence_filters=(blocking.presence_route,),
                   provides={"blocks": blocking.blocks},
                   forget=lambda user: ctx.storage.blocking.unblock(user, None))
