"""The PEP rules (XEP-0163) as a wokkel ``PubSubResource``, as Idavoll's backend is.

The service (``PubSubService``) parses each request; this resource checks it against the
account that owns the bare JID (only the owner publishes, configures, retracts, purges or
deletes; readers pass the node's access model), keeps nodes and items in an
``IPepStore`` and sends notifications to the available resources that asked for them
with ``NODE+notify`` in their capabilities (XEP-0163 §4.3).
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
from minixmpp.pep.errors import PepError, refuse, stanza_error
from minixmpp.sessions import Session, SessionManager
from minixmpp.stanza import parse
from minixmpp.storage.interfaces import IPepStore, IRosterStore, PepItem, PepNode

#: a callback gets (owner, node, item) after a publish, or (owner, node, None) after a
#: retract, purge or delete
Changed = Callable[[str, str, PepItem | None], None]


@dataclass(frozen=True)
class Limits:
    """``--pep-max-items``, ``--pep-max-nodes``, ``--pep-max-item-size``."""

    items: int = 256
    nodes: int = 256
    item_size: int = 131072


def _edge(method: Callable[..., Any]) -> Callable[..., defer.Deferred]:
    """Run a rule; a :class:`PepError` becomes its stanza error (the protocol edge)."""
    def run(self: PEPResource, request: pubsub.PubSubRequest) -> defer.Deferred:
        try:
            return defer.succeed(method(self, request))
        except PepError as e:
            return defer.fail(stanza_error(e))
    run.__name__ = method.__name__
    run.__doc__ = method.__doc__
    return run


class PEPResource(pubsub.PubSubResource):
    """Nodes on ``user@domain``, owned by that account."""

    log = Logger()
    discoIdentity = disco.DiscoIdentity("pubsub", "pep")
    #: XEP-0060 §10 (the registry's names), exactly what the rules implement; the access
    #: models supported are all listed (as ejabberd; Prosody lists the default only)
    features = ["access-open", "access-presence", "access-roster", "access-whitelist",
                "auto-create", "auto-subscribe", "config-node", "config-node-max",
                "create-and-configure", "create-nodes", "delete-items", "delete-nodes",
                "filtered-notifications", "item-ids", "last-published", "meta-data",
                "multi-items", "persistent-items", "presence-notifications", "publish",
                "publish-options", "purge-nodes", "retract-items", "retrieve-default",
                "retrieve-items"]

    def __init__(self, domain: str, store: IPepStore, rosters: IRosterStore,
                 sessions: SessionManager, reactor: Any,
                 send: Callable[[domish.Element], None], limits: Limits = Limits()) -> None:
        self.domain = domain
        self.store = store
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

    @staticmethod
    def _item_element(item: PepItem, payload: bool = True) -> pubsub.Item:
        return pubsub.Item(item.id, item.payload if payload else None)

    def readable(self, owner: str, node: PepNode, requester_bare: str) -> bool:
        return access.allowed(self.rosters, owner, self.bare(owner), requester_bare,
                              node.config)

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
        access.check(self.rosters, owner, self.bare(owner), sender, node.config)
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
        if config.effective(node.config)["pubsub#notify_delete"] == "true":
            self._broadcast(owner, node, lambda e: e.addElement("delete").__setitem__(
                "node", node.name), targets)
        self._changed(owner, node.name, None)

    def _changed(self, owner: str, name: str, item: PepItem | None) -> None:
        for callback in self.changed:
            callback(owner, name, item)

    # -- notifications (XEP-0163 §4.3, XEP-0060 §7.1.2) -----------------------------------

    def targets(self, owner: str, node: PepNode) -> list[str]:
        """Available resources, of the owner or of others that sent it presence, that
        asked for ``NODE+notify`` and may read the node."""
        out = []
        own = [s.jid.full() for s in self.sessions.available(owner)]
        for full in own + sorted(self.recipients.get(owner, ())):
            if node.name not in self.interests.get((owner, full), ()):
                continue
            if self.readable(owner, node, full.split("/", 1)[0]):
                out.append(full)
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

    def send_last(self, owner: str, full: str, names: frozenset[str] | set[str],
                  *when: str) -> None:
        """The newest item of each node in ``names`` whose ``send_last_published_item``
        is one of ``when``, if ``full`` may read it."""
        for name in sorted(names):
            node = self.store.node(owner, name)
            if node is None or config.effective(node.config)[
                    "pubsub#send_last_published_item"] not in when:
                continue
            if not self.readable(owner, node, full.split("/", 1)[0]):
                continue
            items = self.store.items(owner, name)
            if items:
                self.notify(owner, node, items[-1], [full])

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
        """The account is gone (its stored nodes are dropped by the caller)."""
        self.recipients.pop(owner, None)
        for key in [k for k in self.interests if k[0] == owner]:
            del self.interests[key]


def parse_payload(item: PepItem) -> domish.Element:
    """The stored payload as an element."""
    return parse(item.payload, neutral=False)

