"""Who hears of a PEP node's changes (XEP-0163 §4.3, XEP-0060 §7.1.2), and what PEP hears
of presence.

Two kinds of recipient, as XEP-0163 §4 has them: the available resources (the owner's
own, and others' that sent the owner presence) that say ``NODE+notify`` in their
capabilities and may read the node (the implicit, presence-based subscription), and the
explicit subscriptions of XEP-0060 §6.1 (strangers included, whatever their roster or
capabilities). A subscription to a full JID is notified there; one to a bare JID at the
interested resources already notified, else at the bare JID (XEP-0163 §4.3.1), so no
entity hears of one change twice.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from twisted.words.protocols.jabber.jid import JID
from twisted.words.xish import domish
from wokkel import pubsub

from minixmpp import ns
from minixmpp.pep import config
from minixmpp.pubsub.membership import delivers
from minixmpp.sessions import Session
from minixmpp.storage.interfaces import PepItem, PepNode

if TYPE_CHECKING:
    from minixmpp.pep.caps import CapsCache
    from minixmpp.sessions import SessionManager
    from minixmpp.storage.interfaces import IPepStore, ISubscriptionStore


class PEPNotifications:
    """The notification and presence half of :class:`~minixmpp.pep.resource.PEPResource`."""

    store: IPepStore
    members: ISubscriptionStore
    sessions: SessionManager
    caps: CapsCache
    send: Callable[[domish.Element], None]
    #: does the account (localpart) block a JID (XEP-0191; XEP-0163 §4.3.1: no
    #: notifications to a blocked subscriber)
    blocks: Callable[[str, str], bool]
    #: owner → full JIDs of others that sent it available presence (XEP-0163 §4.3)
    recipients: dict[str, set[str]]
    #: (owner, full JID) → nodes that resource asked notifications for
    interests: dict[tuple[str, str], frozenset[str]]
    notifications_sent: int

    def bare(self, user: str) -> str:
        raise NotImplementedError

    def readable(self, owner: str, node: PepNode, requester_bare: str,
                 affiliations: dict[str, str] | None = None) -> bool:
        raise NotImplementedError

    @staticmethod
    def _item_element(item: PepItem, payload: bool = True) -> pubsub.Item:
        return pubsub.Item(item.id, item.payload if payload else None)

    # -- recipients ------------------------------------------------------------------------

    def targets(self, owner: str, node: PepNode) -> list[str]:
        """The JIDs a change of ``node`` goes to: interested readers' resources, then the
        subscriptions (one that lost access to the node is cancelled here)."""
        affiliations = self.members.affiliations(self.bare(owner), node.name)
        out: list[str] = []
        own = [s.jid.full() for s in self.sessions.available(owner)]
        for full in own + sorted(self.recipients.get(owner, ())):
            if node.name not in self.interests.get((owner, full), ()):
                continue
            if self.readable(owner, node, full.split("/", 1)[0], affiliations):
                out.append(full)
        interested = {full.split("/", 1)[0] for full in out}
        for s in self.members.subscriptions(self.bare(owner), node.name):
            if not delivers(s) or self.blocks(owner, s.jid):
                continue
            if not self.readable(owner, node, s.bare, affiliations):
                self.members.unsubscribe(self.bare(owner), node.name, s.jid)
                continue
            if s.jid not in out and not (s.jid == s.bare and s.bare in interested):
                out.append(s.jid)
        return out

    def _message(self, owner: str, to: str) -> tuple[domish.Element, domish.Element]:
        message = domish.Element((None, "message"))
        message["from"], message["to"], message["type"] = self.bare(owner), to, "headline"
        message["id"] = uuid.uuid4().hex[:12]
        return message, message.addElement((ns.PUBSUB_EVENT, "event"))

    def _broadcast(self, owner: str, node: PepNode, fill: Callable[[domish.Element], Any],
                   targets: list[str] | None = None) -> None:
        for to in self.targets(owner, node) if targets is None else targets:
            message, event = self._message(owner, to)
            fill(event)
            self.notifications_sent += 1
            self.send(message)

    def notify(self, owner: str, node: PepNode, item: PepItem,
               targets: list[str] | None = None) -> None:
        c = config.effective(node.config)
        if c["pubsub#deliver_notifications"] == "false":
            return
        payload = c["pubsub#deliver_payloads"] == "true"

        def fill(event: domish.Element) -> None:
            items = event.addElement("items")
            items["node"] = node.name
            element = self._item_element(item, payload)
            element.uri = ns.PUBSUB_EVENT
            items.addChild(element)
        self._broadcast(owner, node, fill, targets)

    def _interest(self, owner: str, full: str) -> None:
        """Capabilities known: remember the interests; the last item of every node
        newly of interest goes out (XEP-0163 §4.3.2, on presence)."""
        if not self._present(owner, full):
            return
        wanted = frozenset(f[:-len("+notify")] for f in self.caps.features(full)
                           if f.endswith("+notify"))
        old = self.interests.get((owner, full), frozenset())
        self.interests[(owner, full)] = wanted
        self.send_last(owner, full, wanted - old, "on_sub_and_presence")

    def _present(self, owner: str, full: str) -> bool:
        if full in self.recipients.get(owner, ()):
            return True
        session = self.sessions.get(JID(full))
        return session is not None and session.available and session.user == owner

    def send_last(self, owner: str, to: str, names: frozenset[str] | set[str],
                  *when: str) -> None:
        """The newest item of each node in ``names`` whose ``send_last_published_item``
        is one of ``when``, to ``to`` (a full JID, or a subscription's JID) if it may
        read it."""
        for name in sorted(names):
            node = self.store.node(owner, name)
            if node is None or config.effective(node.config)[
                    "pubsub#send_last_published_item"] not in when:
                continue
            if not self.readable(owner, node, to.split("/", 1)[0]):
                continue
            items = self.store.items(owner, name)
            if items:
                self.notify(owner, node, items[-1], [to])

    # -- presence events (hooks in im/presence.py) ---------------------------------------

    def own_available(self, session: Session, initial: bool) -> None:
        assert session.presence is not None
        owner, full = session.user, session.jid.full()
        if initial:
            self.interests.pop((owner, full), None)
        self.caps.observe(full, session.presence, self.bare(owner),
                          lambda: self._interest(owner, full))

    def own_unavailable(self, session: Session) -> None:
        self.interests.pop((session.user, session.jid.full()), None)
        self.caps.forget(session.jid.full())

    def inbound(self, stanza: domish.Element, owner: str) -> None:
        """Presence from someone else to the owner's bare JID."""
        full = stanza.getAttribute("from", "")
        if "/" not in full:
            return
        ptype = stanza.getAttribute("type")
        if ptype is None:
            self.recipients.setdefault(owner, set()).add(full)
            self.caps.observe(full, stanza, self.bare(owner),
                              lambda: self._interest(owner, full))
        elif ptype in ("unavailable", "error"):
            gone = self.recipients.get(owner, set())
            gone.discard(full)
            if not gone:
                self.recipients.pop(owner, None)
            self.interests.pop((owner, full), None)

    def subscribed(self, owner: str, contact: str) -> None:
        """The owner approved ``contact``: the last items go out (XEP-0060 §6.1.7)."""
        for full in sorted(self.recipients.get(owner, ())):
            if full.split("/", 1)[0] == contact:
                self.send_last(owner, full, self.interests.get((owner, full), frozenset()),
                               "on_sub", "on_sub_and_presence")

    def forget(self, owner: str) -> None:
        """The account is gone (its stored nodes are dropped by the caller): its nodes'
        affiliations and subscriptions, and its own subscriptions to others' nodes."""
        self.recipients.pop(owner, None)
        for key in [k for k in self.interests if k[0] == owner]:
            del self.interests[key]
        self.members.drop_service(self.bare(owner))
        self.members.forget(self.bare(owner))
