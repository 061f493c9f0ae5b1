"""The PEP rules (XEP-0163) as a wokkel ``PubSubResource``, as Idavoll's backend is.

The service (``PubSubService``) parses each request; this resource checks it against the
account that owns the bare JID (only the owner publishes, configures, retracts, purges,
deletes and sets affiliations: XEP-0163 §3.2, one publisher per node; readers and
subscribers pass the node's access model and their affiliation, ``member`` or
``outcast``), keeps nodes and items in an ``IPepStore`` and affiliations and
subscriptions in an ``ISubscriptionStore`` (the service: the account's bare JID).
Subscriptions are XEP-0060's verbs (``pubsub.membership``); notifications and presence
are ``pep.notify``'s.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from twisted.internet import defer
from twisted.logger import Logger
from twisted.words.protocols.jabber.jid import JID
from twisted.words.xish import domish
from wokkel import disco, pubsub

from minixmpp import ns
from minixmpp.forms import form_type, multi_values
from minixmpp.pep import access, config
from minixmpp.pep.caps import CapsCache
from minixmpp.pep.errors import PepError, refuse, unsupported
from minixmpp.pep.notify import PEPNotifications
from minixmpp.pubsub.errors import edge as _edge
from minixmpp.pubsub.membership import Membership
from minixmpp.sessions import SessionManager
from minixmpp.stanza import parse
from minixmpp.storage.interfaces import (
    IPepStore,
    IRosterStore,
    ISubscriptionStore,
    PepItem,
    PepNode,
)

#: a callback gets (owner, node, item) after a publish, or (owner, node, None) after a
#: retract, purge or delete
Changed = Callable[[str, str, PepItem | None], None]


@dataclass(frozen=True)
class Limits:
    """``--pep-max-items``, ``--pep-max-nodes``, ``--pep-max-item-size``,
    ``--pep-max-subscriptions``."""

    items: int = 256
    nodes: int = 256
    item_size: int = 131072
    subscriptions: int = 1000


class PEPResource(PEPNotifications, Membership, pubsub.PubSubResource):
    """Nodes on ``user@domain``, owned by that account."""

    log = Logger()
    discoIdentity = disco.DiscoIdentity("pubsub", "pep")
    #: XEP-0060 §10 (the registry's names), exactly what the rules implement; the access
    #: models supported are all listed (as ejabberd; Prosody lists the default only)
    features = ["access-open", "access-presence", "access-roster", "access-whitelist",
                "auto-create", "auto-subscribe", "config-node", "config-node-max",
                "create-and-configure", "create-nodes", "delete-items", "delete-nodes",
                "filtered-notifications", "item-ids", "last-published",
                "manage-subscriptions", "member-affiliation", "meta-data",
                "modify-affiliations", "multi-items", "outcast-affiliation",
                "persistent-items", "presence-notifications", "publish", "publish-options",
                "purge-nodes", "retract-items", "retrieve-affiliations", "retrieve-default",
                "retrieve-items", "retrieve-subscriptions", "subscribe",
                "subscription-notifications", "subscription-options"]
    #: XEP-0163 §3.2: the account is the one publisher of its nodes
    settable = ("member", "outcast")

    def __init__(self, domain: str, store: IPepStore, rosters: IRosterStore,
                 sessions: SessionManager, reactor: Any,
                 send: Callable[[domish.Element], None], limits: Limits = Limits(),
                 members: ISubscriptionStore | None = None,
                 blocks: Callable[[str, str], bool] = lambda user, peer: False) -> None:
        from minixmpp.storage.memory import MemorySubscriptionStore

        self.domain = domain
        self.store = store
        self.members = members if members is not None else MemorySubscriptionStore()
        self.max_subscriptions = limits.subscriptions
        self.blocks = blocks
        self.rosters = rosters
        self.sessions = sessions
        self.clock: Callable[[], float] = reactor.seconds
        self.limits = limits
        #: notifications and capability queries go out through the router
        self.send = send
        self.caps = CapsCache(send, reactor)
        #: owner → full JIDs of others that sent it available presence (XEP-0163 §4.3)
        self.recipients: dict[str, set[str]] = {}
        #: (owner, full JID) → nodes that resource asked notifications for
        self.interests: dict[tuple[str, str], frozenset[str]] = {}
        #: told after every change of a node (bookmarks and vCard keep in step); set
        #: once by ``pep.build``
        self.changed: tuple[Changed, ...] = ()
        self.notifications_sent = 0

    # -- helpers ---------------------------------------------------------------------------

    def bare(self, user: str) -> str:
        return f"{user}@{self.domain}"

    @staticmethod
    def _owner(request: pubsub.PubSubRequest) -> str:
        recipient = request.recipient
        if recipient is None or recipient.user is None:
            raise PepError("service-unavailable", text="PEP lives on accounts' bare JIDs")
        return recipient.user

    def _owned(self, request: pubsub.PubSubRequest) -> str:
        """The owner, if the sender is the owner (XEP-0163 §3: only the account
        publishes and manages its nodes); else ``forbidden``."""
        owner = self._owner(request)
        if request.sender is None or request.sender.userhost() != self.bare(owner):
            raise PepError("forbidden", text="only the account owner manages its PEP nodes")
        return owner

    def _node(self, owner: str, name: str | None) -> PepNode:
        if not name:
            raise refuse("nodeid-required")
        node = self.store.node(owner, name)
        if node is None:
            raise PepError("item-not-found", text=f"no node {name!r}")
        return node

    def _create(self, owner: str, name: str, changes: dict[str, str]) -> PepNode:
        if len(self.store.nodes(owner)) >= self.limits.nodes:
            raise refuse("max-nodes-exceeded", f"at most {self.limits.nodes} PEP nodes per "
                                               "account (--pep-max-nodes)")
        node = PepNode(name, changes)
        self.store.put_node(owner, node)
        return node

    def readable(self, owner: str, node: PepNode, requester_bare: str,
                 affiliations: dict[str, str] | None = None) -> bool:
        if affiliations is None:
            affiliations = self.members.affiliations(self.bare(owner), node.name)
        return access.allowed(self.rosters, owner, self.bare(owner), requester_bare,
                              node.config, affiliations.get(requester_bare, "none"))

    # -- Membership: what subscriptions and affiliations are on PEP (XEP-0163 §4) -------

    def service_of(self, request: pubsub.PubSubRequest) -> str:
        return self.bare(self._owner(request))

    def service_jid(self, service: str) -> str:
        return service

    def _user(self, service: str) -> str:
        return service.partition("@")[0]

    def existing(self, service: str, name: str) -> PepNode:
        return self._node(self._user(service), name)

    def affiliation(self, service: str, node: PepNode, bare: str) -> str:
        if bare == service:
            return "owner"
        return super().affiliation(service, node, bare)

    def admit(self, service: str, node: PepNode, bare: str) -> str:
        """The node's access model against the roster, as for reading (§6.1.3.2–4)."""
        access.check(self.rosters, self._user(service), service, bare, node.config,
                     self.affiliation(service, node, bare))
        return "subscribed"

    def on_subscribed(self, service: str, node: PepNode, subscription: Any) -> None:
        """XEP-0163 §4.3.2: a new subscriber gets the last published item."""
        self.send_last(self._user(service), subscription.jid, {node.name},
                       "on_sub", "on_sub_and_presence")

    def node_affiliations(self, service: str, node: PepNode) -> dict[str, str]:
        return {service: "owner", **super().node_affiliations(service, node)}

    def entity_affiliations(self, service: str, bare: str) -> dict[str, str]:
        if bare == service:
            return {n.name: "owner" for n in self.store.nodes(self._user(service))}
        return super().entity_affiliations(service, bare)

    def check_affiliations(self, service: str, node: PepNode, changes: dict[str, str]
                           ) -> None:
        if service in changes:
            raise PepError("not-acceptable", text="the account is its nodes' one owner")
        if "owner" in changes.values():
            raise unsupported("owner-affiliation", "a PEP node has one owner: the account")

    # -- wokkel PubSubResource: requests -----------------------------------------------

    def locateResource(self, request: pubsub.PubSubRequest) -> PEPResource:
        return self

    def getConfigurationOptions(self) -> dict[str, dict[str, Any]]:
        return config.field_definitions()

    @_edge
    def publish(self, request: pubsub.PubSubRequest) -> domish.Element:
        """XEP-0060 §7.1 with auto-create (§7.1.4) and publish-options (§7.1.5)."""
        owner = self._owned(request)
        if not request.nodeIdentifier:
            raise refuse("nodeid-required")
        items = request.items or []
        if not items:
            raise refuse("item-required")
        if len(items) > 1:
            raise refuse("invalid-payload", "one item per publish request")
        payloads = [c for c in items[0].elements()]
        if len(payloads) != 1:
            raise refuse("invalid-payload", "an item carries exactly one payload element")
        options = None
        for child in request.element.pubsub.elements():
            if child.name == "publish-options":
                forms = [x for x in child.elements(ns.X_DATA, "x")
                         if form_type(x) == ns.PUBLISH_OPTIONS]
                if forms:
                    options = config.parse(multi_values(forms[0]), self.limits.items,
                                           strict=True)
        item_id = items[0].getAttribute("id") or uuid.uuid4().hex
        self.publish_item(owner, request.nodeIdentifier, item_id, payloads[0],
                          request.sender.full(), options)
        response = domish.Element((ns.PUBSUB, "pubsub"))
        publish = response.addElement("publish")
        publish["node"] = request.nodeIdentifier
        publish.addElement("item")["id"] = item_id
        return response

    @_edge
    def create(self, request: pubsub.PubSubRequest) -> str:
        """XEP-0060 §8.1 (no instant nodes), with §8.1.3 create-and-configure."""
        owner = self._owned(request)
        if not request.nodeIdentifier:
            raise refuse("nodeid-required")
        if self.store.node(owner, request.nodeIdentifier) is not None:
            raise PepError("conflict", text="the node exists")
        changes = {}
        if request.options is not None:
            changes = config.parse(self._fields(request.options), self.limits.items)
        self._create(owner, request.nodeIdentifier, changes)
        return request.nodeIdentifier

    @staticmethod
    def _fields(form: Any) -> dict[str, list[str]]:
        return {var: [str(v) for v in field.values] for var, field in form.fields.items()}

    @_edge
    def default(self, request: pubsub.PubSubRequest) -> dict[str, Any]:
        """XEP-0060 §8.3: the default configuration."""
        self._owner(request)
        return config.form_values({})

    @_edge
    def configureGet(self, request: pubsub.PubSubRequest) -> dict[str, Any]:
        """XEP-0060 §8.2.1–§8.2.3."""
        owner = self._owned(request)
        return config.form_values(self._node(owner, request.nodeIdentifier).config)

    @_edge
    def configureSet(self, request: pubsub.PubSubRequest) -> None:
        """XEP-0060 §8.2.4–§8.2.5; fewer ``max_items`` drops the oldest items."""
        owner = self._owned(request)
        node = self._node(owner, request.nodeIdentifier)
        node.config.update(config.parse(self._fields(request.options), self.limits.items))
        self.store.put_node(owner, node)
        self.revoke(self.bare(owner), node)  # XEP-0163 §7.1: lost access, no subscription
        keep = config.keep(node.config, self.limits.items)
        items = self.store.items(owner, node.name)
        for item in items[:max(0, len(items) - keep)]:
            self.store.retract(owner, node.name, item.id)
        return None

    @_edge
    def items(self, request: pubsub.PubSubRequest) -> list[pubsub.Item]:
        """XEP-0060 §6.5: all, by id (§6.5.8) or the newest ``max_items`` (§6.5.7)."""
        owner = self._owner(request)
        if request.maxItems is not None and request.maxItems < 1:
            raise PepError("bad-request", text="max_items is a positive integer")
        node = self._node(owner, request.nodeIdentifier)
        sender = request.sender.userhost() if request.sender else ""
        access.check(self.rosters, owner, self.bare(owner), sender, node.config,
                     self.affiliation(self.bare(owner), node, sender))
        stored = self.store.items(owner, node.name)
        if request.itemIdentifiers:
            wanted = set(request.itemIdentifiers)
            stored = [i for i in stored if i.id in wanted]
            if not stored:
                raise PepError("item-not-found", text="no such item")
        elif request.maxItems:
            stored = stored[-request.maxItems:]
        return [self._item_element(i) for i in stored]

    @_edge
    def retract(self, request: pubsub.PubSubRequest) -> None:
        """XEP-0060 §7.2, with the ``notify`` attribute (§7.2.2.1)."""
        owner = self._owned(request)
        node = self._node(owner, request.nodeIdentifier)
        ids = request.itemIdentifiers or []
        if not ids:
            raise refuse("item-required")
        for item_id in ids:
            if self.store.item(owner, node.name, item_id) is None:
                raise PepError("item-not-found", text=f"no item {item_id!r}")
        notify = None
        for child in request.element.pubsub.elements():
            if child.name == "retract" and child.getAttribute("notify") is not None:
                notify = child["notify"] in ("1", "true")
        self.retract_items(owner, node, ids, notify)
        return None

    @_edge
    def purge(self, request: pubsub.PubSubRequest) -> None:
        """XEP-0060 §8.5."""
        owner = self._owned(request)
        node = self._node(owner, request.nodeIdentifier)
        self.store.purge(owner, node.name)
        self._broadcast(owner, node, lambda e: e.addElement("purge").__setitem__(
            "node", node.name))
        self._changed(owner, node.name, None)
        return None

    @_edge
    def delete(self, request: pubsub.PubSubRequest) -> None:
        """XEP-0060 §8.4."""
        owner = self._owned(request)
        node = self._node(owner, request.nodeIdentifier)
        self.delete_node(owner, node)
        return None

    def getInfo(self, requestor: JID, service: JID, nodeIdentifier: str
                ) -> dict[str, Any] | None:
        """disco#info of a node (XEP-0060 §5.3): readers only."""
        if service.user is None or not nodeIdentifier:
            return None
        node = self.store.node(service.user, nodeIdentifier)
        if node is None or not self.readable(service.user, node, requestor.userhost()):
            return None
        return {"type": "leaf", "meta-data": [
            {"var": "pubsub#access_model", "type": "list-single",
             "value": config.effective(node.config)["pubsub#access_model"]}]}

    def getNodes(self, requestor: JID, service: JID, nodeIdentifier: str
                 ) -> defer.Deferred:
        """disco#items of the account (XEP-0163 §6): the nodes the requester may read."""
        if service.user is None or nodeIdentifier:
            return defer.succeed([])
        return defer.succeed([n.name for n in self.store.nodes(service.user)
                              if self.readable(service.user, n, requestor.userhost())])

    # -- server-side API (also used by private XML, bookmarks and vCard) ----------------

    def publish_item(self, owner: str, name: str, item_id: str, payload: domish.Element,
                     publisher: str, options: dict[str, str] | None = None) -> PepItem:
        """Publish (creating the node with ``options``, or checking them as
        preconditions) and notify."""
        xml = payload.toXml()
        if len(xml.encode()) > self.limits.item_size:
            raise refuse("payload-too-big", f"items are at most {self.limits.item_size} "
                                            "bytes here (--pep-max-item-size)")
        node = self.store.node(owner, name)
        if node is None:
            node = self._create(owner, name, options or {})
        elif options:
            config.check_preconditions(node.config, options)
        item = PepItem(item_id, xml, publisher, self.clock())
        keep = config.keep(node.config, self.limits.items)
        if keep:
            self.store.publish(owner, name, item, keep)
        self.notify(owner, node, item)
        self._changed(owner, name, item)
        return item

    def retract_items(self, owner: str, node: PepNode, ids: list[str],
                      notify: bool | None = None) -> None:
        for item_id in ids:
            self.store.retract(owner, node.name, item_id)
        if notify is None:
            notify = config.effective(node.config)["pubsub#notify_retract"] == "true"
        if notify:
            def add(event: domish.Element) -> None:
                items = event.addElement("items")
                items["node"] = node.name
                for item_id in ids:
                    items.addElement("retract")["id"] = item_id
            self._broadcast(owner, node, add)
        self._changed(owner, node.name, None)

    def delete_node(self, owner: str, node: PepNode) -> None:
        targets = self.targets(owner, node)
        self.store.delete_node(owner, node.name)
        self.members.drop_node(self.bare(owner), node.name)
        if config.effective(node.config)["pubsub#notify_delete"] == "true":
            self._broadcast(owner, node, lambda e: e.addElement("delete").__setitem__(
                "node", node.name), targets)
        self._changed(owner, node.name, None)

    def _changed(self, owner: str, name: str, item: PepItem | None) -> None:
        for callback in self.changed:
            callback(owner, name, item)


def parse_payload(item: PepItem) -> domish.Element:
    """The stored payload as an element."""
    return parse(item.payload, neutral=False)

