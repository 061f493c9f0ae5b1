"""The rules of the pubsub service (XEP-0060) as a wokkel ``PubSubResource``, as
Idavoll's backend is: who may do what, by affiliation (§4.1) and the node's access and
publish models (§4.5, ``pubsub#publish_model``), nodes and items in an ``IPepStore``
(keyed by the service's JID), affiliations and subscriptions in an
``ISubscriptionStore``, notifications to subscribers (no ``+notify`` needed: they
subscribed). Subscription and affiliation verbs are ``pubsub.membership``'s.

Choices where XEP-0060 leaves room (Prosody's unless said): accounts of the served domain
create nodes (Prosody lets only admins; XMPP-Interop-Testing expects users to); no
auto-create on publish or subscribe; ``open`` is the default access model, ``whitelist``
and ``authorize`` the others; a publisher retracts any item and purges, a publish-only
entity retracts its own items; one subscription per JID and node (no subids).
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from twisted.internet import defer
from twisted.words.protocols.jabber.jid import JID
from twisted.words.xish import domish
from wokkel import disco, pubsub

from minixmpp import ns
from minixmpp.forms import form_type, multi_values
from minixmpp.pubsub import authorize, rsm
from minixmpp.pubsub.config import SERVICE
from minixmpp.pubsub.errors import PubSubRefusal, edge, refuse, unsupported
from minixmpp.pubsub.membership import Membership, delivers, form_fields
from minixmpp.storage.interfaces import (
    IPepStore,
    ISubscriptionStore,
    NodeSubscription,
    PepItem,
    PepNode,
)

#: affiliations that read items whatever the access model (§6.5.1: owners and publishers)
READERS = ("owner", "publisher", "member")
PUBLISHERS = ("owner", "publisher", "publish-only")


@dataclass(frozen=True)
class Limits:
    """``--pubsub-max-nodes``, ``--pubsub-max-owned-nodes``, ``--pubsub-max-items``,
    ``--pubsub-max-item-size``, ``--pubsub-max-subscriptions``."""

    nodes: int = 1000
    owned: int = 100
    items: int = 1000
    item_size: int = 65536
    subscriptions: int = 1000


class PubSubResource(Membership, pubsub.PubSubResource):
    """The nodes of one pubsub service (at ``jid``), created by accounts of ``domain``."""

    discoIdentity = disco.DiscoIdentity("pubsub", "service", "minixmpp publish-subscribe")
    #: XEP-0060 §10: exactly what the rules implement
    features = ["access-authorize", "access-open", "access-whitelist", "config-node",
                "config-node-max", "create-and-configure", "create-nodes", "delete-items",
                "delete-nodes", "instant-nodes", "item-ids", "manage-subscriptions",
                "member-affiliation", "meta-data", "modify-affiliations", "multi-items",
                "outcast-affiliation", "persistent-items", "publish", "publish-options",
                "publish-only-affiliation", "publisher-affiliation", "purge-nodes",
                "retract-items", "retrieve-affiliations", "retrieve-default",
                "retrieve-items", "retrieve-subscriptions", "rsm", "subscribe",
                "subscription-notifications", "subscription-options"]
    settable = ("owner", "publisher", "publish-only", "member", "outcast")

    def __init__(self, jid: str, domain: str, store: IPepStore, members: ISubscriptionStore,
                 clock: Callable[[], float], limits: Limits = Limits()) -> None:
        self.jid = jid
        self.domain = domain
        self.store = store
        self.members = members
        self.clock = clock
        self.limits = limits
        self.max_subscriptions = limits.subscriptions
        #: what the service sends goes out through its component (set by ``build``)
        self.send: Callable[[domish.Element], None] = lambda stanza: None
        self.notifications_sent = 0

    # -- who may do what (§4.1, §4.5) ---------------------------------------------------

    def service_of(self, request: pubsub.PubSubRequest) -> str:
        return self.jid

    def service_jid(self, service: str) -> str:
        return self.jid

    def existing(self, service: str, name: str) -> PepNode:
        if not name:
            raise PubSubRefusal("bad-request", "nodeid-required")
        node = self.store.node(self.jid, name)
        if node is None:
            raise PubSubRefusal("item-not-found", text=f"no node {name!r}")
        return node

    def _model(self, node: PepNode) -> str:
        return SERVICE.effective(node.config)["pubsub#access_model"]

    def admit(self, service: str, node: PepNode, bare: str) -> str:
        """§6.1.3: ``open`` admits anyone, ``whitelist`` members, ``authorize`` asks an
        owner (pending) unless the entity is affiliated."""
        affiliation = self.affiliation(service, node, bare)
        if affiliation in READERS:
            return "subscribed"
        if affiliation == "publish-only":
            raise PubSubRefusal("forbidden", text="publish-only entities do not subscribe")
        model = self._model(node)
        if model == "whitelist":
            raise refuse("closed-node", "only members subscribe to this node")
        return "pending" if model == "authorize" else "subscribed"

    def _readable(self, node: PepNode, bare: str) -> None:
        """§6.5.9: raise why ``bare`` may not retrieve items."""
        affiliation = self.affiliation(self.jid, node, bare)
        if affiliation in READERS:
            return
        if affiliation in ("outcast", "publish-only"):
            raise PubSubRefusal("forbidden", text="not for you")
        model = self._model(node)
        if model == "whitelist":
            raise refuse("closed-node", "only members read this node")
        if model == "authorize" and not self._subscribed(node, bare):
            raise PubSubRefusal("not-authorized", "not-subscribed",
                                "only subscribers read this node")

    def _subscribed(self, node: PepNode, bare: str) -> bool:
        return any(name == node.name and s.state == "subscribed"
                   for name, s in self.members.subscribed(self.jid, bare))

    def visible(self, node: PepNode, bare: str) -> bool:
        """Listed in disco, with metadata: not to outcasts, a whitelist node only to the
        affiliated (as Prosody's ``get_metadata``)."""
        affiliation = self.affiliation(self.jid, node, bare)
        return affiliation != "outcast" and (
            self._model(node) != "whitelist" or affiliation != "none")

    def _publisher(self, node: PepNode, bare: str) -> None:
        """§7.1.3.1, ``pubsub#publish_model``: publishers, subscribers or anyone."""
        affiliation = self.affiliation(self.jid, node, bare)
        if affiliation in PUBLISHERS:
            return
        model = SERVICE.effective(node.config)["pubsub#publish_model"]
        if affiliation != "outcast" and (
                model == "open" or model == "subscribers" and self._subscribed(node, bare)):
            return
        raise PubSubRefusal("forbidden", text="you may not publish to this node")

    def _owner(self, request: pubsub.PubSubRequest) -> PepNode:
        node = self.existing(self.jid, request.nodeIdentifier or "")
        if self.affiliation(self.jid, node, request.sender.userhost()) != "owner":
            raise PubSubRefusal("forbidden", text="only an owner does this")
        return node

    def check_affiliations(self, service: str, node: PepNode, changes: dict[str, str]
                           ) -> None:
        """§8.9.2.4: a node keeps at least one owner."""
        after = {**self.members.affiliations(service, node.name), **changes}
        if "owner" not in after.values():
            raise PubSubRefusal("not-acceptable", text="a node keeps at least one owner")

    def on_subscribed(self, service: str, node: PepNode, subscription: NodeSubscription
                      ) -> None:
        """§6.1.7 with ``pubsub#send_last_published_item`` ``on_sub``."""
        if SERVICE.effective(node.config)["pubsub#send_last_published_item"] == "on_sub":
            items = self.store.items(self.jid, node.name)
            if items:
                self.notify(node, "items", self._entry(node, items[-1]), to=[subscription])

    def on_pending(self, service: str, node: PepNode, subscription: NodeSubscription
                   ) -> None:
        """§8.6: each owner is asked, with a ``subscribe_authorization`` form."""
        for owner, a in self.members.affiliations(self.jid, node.name).items():
            if a == "owner":
                self.send(authorize.request(self.jid, owner, node.name, subscription.jid))

    def authorized(self, owner: str, name: str, subscriber: str, allow: bool) -> None:
        """§8.6: an owner's answer to a pending subscription; the subscriber is told."""
        node = self.store.node(self.jid, name)
        current = self.members.subscription(self.jid, name, subscriber)
        if node is None or current is None or current.state != "pending" or \
                self.affiliation(self.jid, node, owner) != "owner":
            return
        if allow:
            current.state = "subscribed"
            self.members.subscribe(self.jid, name, current)
            self.tell(self.jid, name, subscriber, "subscribed")
            self.on_subscribed(self.jid, node, current)
        else:
            self.members.unsubscribe(self.jid, name, subscriber)
            self.tell(self.jid, name, subscriber, "none")

    # -- notifications (§7.1.2, §7.2.2, §8.4.2, §8.5.2) -----------------------------------

    def notify(self, node: PepNode, kind: str, *children: domish.Element | None,
               to: list[NodeSubscription] | None = None) -> None:
        """One event to each subscription that delivers, from the service's JID, with no
        ``<delay/>``: ``<items/>``, ``<purge/>``, ``<delete/>``, ``<configuration/>``."""
        c = SERVICE.effective(node.config)
        for s in self.members.subscriptions(self.jid, node.name) if to is None else to:
            if not delivers(s):
                continue
            message = domish.Element((None, "message"))
            message["from"], message["to"] = self.jid, s.jid
            message["type"] = c["pubsub#notification_type"]
            message["id"] = uuid.uuid4().hex[:12]
            element = message.addElement((ns.PUBSUB_EVENT, "event")).addElement(kind)
            element["node"] = node.name
            for child in children:
                if child is not None:
                    element.addChild(child)
            self.notifications_sent += 1
            self.send(message)

    def _entry(self, node: PepNode, item: PepItem) -> domish.Element:
        payload = SERVICE.effective(node.config)["pubsub#deliver_payloads"] == "true"
        element = pubsub.Item(item.id, item.payload if payload else None)
        element.uri = ns.PUBSUB_EVENT
        return element

    # -- wokkel PubSubResource: node and item verbs ---------------------------------------

    def locateResource(self, request: pubsub.PubSubRequest) -> PubSubResource:
        return self

    def getConfigurationOptions(self) -> dict[str, dict[str, Any]]:
        return SERVICE.field_definitions()

    def _options(self, form: Any) -> dict[str, str]:
        fields = form_fields(form)
        if fields.get("pubsub#node_type", ["leaf"])[0] != "leaf":
            raise unsupported("collections", "leaf nodes only")
        return SERVICE.parse(fields, self.limits.items)

    @edge
    def create(self, request: pubsub.PubSubRequest) -> str:
        """§8.1: by an account of the domain, instant (§8.1.2) or named, configured
        (§8.1.3) or not; the creator owns it."""
        sender = request.sender
        if sender.user is None or sender.host != self.domain:
            raise PubSubRefusal("forbidden", text=f"accounts of {self.domain} create nodes")
        name = request.nodeIdentifier or uuid.uuid4().hex
        if self.store.node(self.jid, name) is not None:
            raise PubSubRefusal("conflict", text=f"node {name!r} exists")
        config = self._options(request.options) if request.options is not None else {}
        if len(self.store.nodes(self.jid)) >= self.limits.nodes:
            raise refuse("max-nodes-exceeded", f"at most {self.limits.nodes} nodes here "
                                               "(--pubsub-max-nodes)")
        owned = self.members.affiliated(self.jid, sender.userhost())
        if list(owned.values()).count("owner") >= self.limits.owned:
            raise refuse("max-nodes-exceeded", f"at most {self.limits.owned} nodes per "
                                               "account (--pubsub-max-owned-nodes)")
        self.store.put_node(self.jid, PepNode(name, config))
        self.members.set_affiliation(self.jid, name, sender.userhost(), "owner")
        return name

    @edge
    def default(self, request: pubsub.PubSubRequest) -> dict[str, Any]:
        """§8.3: the default configuration."""
        return SERVICE.form_values({})

    @edge
    def configureGet(self, request: pubsub.PubSubRequest) -> dict[str, Any]:
        """§8.2.1–§8.2.3 (owners)."""
        return SERVICE.form_values(self._owner(request).config)

    @edge
    def configureSet(self, request: pubsub.PubSubRequest) -> None:
        """§8.2.4–§8.2.5; fewer ``max_items`` drops the oldest items, another access
        model drops the subscriptions it no longer admits, ``notify_config`` tells."""
        node = self._owner(request)
        node.config.update(self._options(request.options))
        self.store.put_node(self.jid, node)
        keep = SERVICE.keep(node.config, self.limits.items)
        items = self.store.items(self.jid, node.name)
        for item in items[:max(0, len(items) - keep)]:
            self.store.retract(self.jid, node.name, item.id)
        self.revoke(self.jid, node)
        if SERVICE.effective(node.config)["pubsub#notify_config"] == "true":
            self.notify(node, "configuration")
        return None

    @edge
    def publish(self, request: pubsub.PubSubRequest) -> domish.Element:
        """§7.1: one item with one payload, to an existing node, with publish-options as
        preconditions (§7.1.5); the oldest items go past ``max_items``."""
        node = self.existing(self.jid, request.nodeIdentifier)
        self._publisher(node, request.sender.userhost())
        items = request.items or []
        if not items:
            raise refuse("item-required")
        if len(items) > 1:
            raise refuse("invalid-payload", "one item per publish request")
        payloads = list(items[0].elements())
        if len(payloads) != 1:
            raise refuse("invalid-payload", "an item carries exactly one payload element")
        xml = payloads[0].toXml()
        if len(xml.encode()) > self.limits.item_size:
            raise refuse("payload-too-big", f"items are at most {self.limits.item_size} "
                                            "bytes here (--pubsub-max-item-size)")
        for child in request.element.pubsub.elements(ns.PUBSUB, "publish-options"):
            for form in child.elements(ns.X_DATA, "x"):
                if form_type(form) == ns.PUBLISH_OPTIONS:
                    SERVICE.check_preconditions(node.config, SERVICE.parse(
                        multi_values(form), self.limits.items, strict=True))
        item = PepItem(items[0].getAttribute("id") or uuid.uuid4().hex, xml,
                       request.sender.userhost(), self.clock())
        keep = SERVICE.keep(node.config, self.limits.items)
        if keep:
            self.store.publish(self.jid, node.name, item, keep)
        if SERVICE.effective(node.config)["pubsub#deliver_notifications"] == "true":
            self.notify(node, "items", self._entry(node, item))
        response = domish.Element((ns.PUBSUB, "pubsub"))
        publish = response.addElement("publish")
        publish["node"] = node.name
        publish.addElement("item")["id"] = item.id
        return response

    @edge
    def retract(self, request: pubsub.PubSubRequest) -> None:
        """§7.2: owners and publishers retract any item, publish-only entities their own;
        ``notify`` (§7.2.2.1) or ``pubsub#notify_retract`` says whether subscribers hear."""
        node = self.existing(self.jid, request.nodeIdentifier)
        bare = request.sender.userhost()
        affiliation = self.affiliation(self.jid, node, bare)
        if not request.itemIdentifiers:
            raise refuse("item-required")
        for item_id in request.itemIdentifiers:
            item = self.store.item(self.jid, node.name, item_id)
            if item is None:
                raise PubSubRefusal("item-not-found", text=f"no item {item_id!r}")
            if affiliation not in ("owner", "publisher") and not (
                    affiliation == "publish-only" and item.publisher == bare):
                raise PubSubRefusal("forbidden", text="you may not retract this item")
        notify = SERVICE.effective(node.config)["pubsub#notify_retract"] == "true"
        for child in request.element.pubsub.elements(ns.PUBSUB, "retract"):
            if child.getAttribute("notify") is not None:
                notify = child["notify"] in ("1", "true")
        for item_id in request.itemIdentifiers:
            self.store.retract(self.jid, node.name, item_id)
        if notify:
            self.notify(node, "items", *map(_retraction, request.itemIdentifiers))
        return None

    @edge
    def items(self, request: pubsub.PubSubRequest) -> domish.Element:
        """§6.5: all, by id (§6.5.8: the ones that exist), the newest ``max_items``
        (§6.5.7), or a page of them (§6.5.4, XEP-0059)."""
        if request.maxItems is not None and request.maxItems < 1:
            raise PubSubRefusal("bad-request", text="max_items is a positive integer")
        node = self.existing(self.jid, request.nodeIdentifier)
        self._readable(node, request.sender.userhost())
        stored = self.store.items(self.jid, node.name)
        if request.itemIdentifiers:
            wanted = set(request.itemIdentifiers)
            stored = [i for i in stored if i.id in wanted]
        elif request.maxItems:
            stored = stored[-request.maxItems:]
        response = domish.Element((ns.PUBSUB, "pubsub"))
        element = response.addElement("items")
        element["node"] = node.name
        paging = rsm.requested(request.element.pubsub)
        if paging is not None:
            ids = [i.id for i in stored]
            at = rsm.page(ids, paging)
            stored = stored[at.start:at.end]
            response.addChild(rsm.answer(ids, at))
        for item in stored:
            element.addChild(pubsub.Item(item.id, item.payload))
        return response

    @edge
    def purge(self, request: pubsub.PubSubRequest) -> None:
        """§8.5: owners and publishers (as Prosody; §4.1 "Yes*")."""
        node = self.existing(self.jid, request.nodeIdentifier)
        if self.affiliation(self.jid, node, request.sender.userhost()) not in (
                "owner", "publisher"):
            raise PubSubRefusal("forbidden", text="only owners and publishers purge")
        self.store.purge(self.jid, node.name)
        self.notify(node, "purge")
        return None

    @edge
    def delete(self, request: pubsub.PubSubRequest) -> None:
        """§8.4, with a ``<redirect/>`` passed on to the subscribers (§8.4.2)."""
        node = self._owner(request)
        redirect = None
        for child in request.element.pubsub.elements(ns.PUBSUB_OWNER, "delete"):
            for r in child.elements(ns.PUBSUB_OWNER, "redirect"):
                redirect = domish.Element((ns.PUBSUB_EVENT, "redirect"))
                redirect["uri"] = r.getAttribute("uri", "")
        self.delete_node(node, redirect)
        return None

    def delete_node(self, node: PepNode, redirect: domish.Element | None = None) -> None:
        subscribers = self.members.subscriptions(self.jid, node.name)
        self.store.delete_node(self.jid, node.name)
        self.members.drop_node(self.jid, node.name)
        if SERVICE.effective(node.config)["pubsub#notify_delete"] == "true":
            self.notify(node, "delete", redirect, to=subscribers)

    # -- disco (§5.2–§5.5) ---------------------------------------------------------------

    def getInfo(self, requestor: JID, service: JID, nodeIdentifier: str
                ) -> dict[str, Any] | None:
        """§5.3, §5.4: a node's metadata (``pubsub#meta-data``) to whom may see it."""
        node = self.store.node(self.jid, nodeIdentifier) if nodeIdentifier else None
        if node is None or not self.visible(node, requestor.userhost()):
            return None
        c = SERVICE.effective(node.config)
        owners = [JID(j) for j, a in self.members.affiliations(self.jid, node.name).items()
                  if a == "owner"]
        meta = [{"var": var, "value": c[var]} for var in (
            "pubsub#title", "pubsub#description", "pubsub#type", "pubsub#access_model",
            "pubsub#publish_model", "pubsub#max_items")]
        meta.append({"var": "pubsub#owner", "type": "jid-multi", "values": owners})
        meta.append({"var": "pubsub#num_subscribers", "value": str(len(
            self.members.subscriptions(self.jid, node.name)))})
        return {"type": "leaf", "meta-data": meta}

    def getNodes(self, requestor: JID, service: JID, nodeIdentifier: str
                 ) -> defer.Deferred:
        """§5.2: the nodes the requester may see (a node's items: ``service.py``)."""
        if nodeIdentifier:
            return defer.succeed([])
        return defer.succeed([n.name for n in self.store.nodes(self.jid)
                              if self.visible(n, requestor.userhost())])

    def item_ids(self, requestor: JID, name: str) -> list[str]:
        """§5.5: the ids of a node's items, for whom may retrieve them."""
        node = self.existing(self.jid, name)
        self._readable(node, requestor.userhost())
        return [i.id for i in self.store.items(self.jid, node.name)]

    # -- the account and the service's life ----------------------------------------------

    def forget(self, bare: str) -> None:
        """An account is gone: the nodes it alone owned (their subscribers told), then its
        affiliations and subscriptions everywhere."""
        for name, a in self.members.affiliated(self.jid, bare).items():
            owners = [j for j, x in self.members.affiliations(self.jid, name).items()
                      if x == "owner"]
            node = self.store.node(self.jid, name)
            if a == "owner" and owners == [bare] and node is not None:
                self.delete_node(node)
        self.members.forget(bare)

    def clear(self) -> None:
        """``reset``: no nodes at all."""
        self.store.drop(self.jid)
        self.members.drop_service(self.jid)

    def describe(self) -> list[dict[str, Any]]:
        """The nodes, for the status page and ``GET /api/state``."""
        return [{"node": n.name, "access_model": self._model(n),
                 "items": len(self.store.items(self.jid, n.name)),
                 "subscriptions": len(self.members.subscriptions(self.jid, n.name))}
                for n in self.store.nodes(self.jid)]


def _retraction(item_id: str) -> domish.Element:
    element = domish.Element((ns.PUBSUB_EVENT, "retract"))
    element["id"] = item_id
    return element
