"""Subscriptions and affiliations (XEP-0060 §4.1, §4.2) as the verbs of a wokkel
``PubSubResource``, for PEP and the pubsub service alike: subscribe and unsubscribe
(§6.1, §6.2) with subscription options (§6.3), an entity's own subscriptions and
affiliations (§5.6, §5.7), and the owner's lists of both (§8.8, §8.9).

A resource mixes :class:`Membership` in and says what differs between its kind of
service and the other: which service a request is for (``service_of``), which nodes exist
(``existing``), who holds which affiliation (``affiliation``), who may subscribe
(``admit``: PEP asks the roster, the pubsub service the access model), and what follows
a new subscription (``on_subscribed``: the last item, §6.1.7) or a pending one
(``on_pending``).
Every check is against the authenticated ``from`` (``request.sender``).
"""

from __future__ import annotations

from collections.abc import Callable

from twisted.words.protocols.jabber.jid import JID
from twisted.words.xish import domish
from wokkel import data_form, pubsub

from minixmpp import ns
from minixmpp.pubsub.config import Schema
from minixmpp.pubsub.errors import PubSubRefusal, edge, refuse, unsupported
from minixmpp.storage.interfaces import ISubscriptionStore, NodeSubscription, PepNode

#: XEP-0060 §4.1, in order of privilege
AFFILIATIONS = ("owner", "publisher", "publish-only", "member", "none", "outcast")

#: ``pubsub#subscribe_options`` (§6.3, §16.4.2): whether notifications are delivered
OPTIONS = Schema(fields={"pubsub#deliver": ("boolean", None)},
                 defaults={"pubsub#deliver": "true"}, option="")


def form_fields(form: data_form.Form) -> dict[str, list[str]]:
    """A submitted form's values by var, as text (typed or untyped fields alike)."""
    return {var: [str(v) for v in field.values] for var, field in form.fields.items()}


def read_options(form: data_form.Form) -> dict[str, str]:
    """Submitted subscription options; ``bad-request`` + ``invalid-options`` for a field
    or value this service does not know (§6.3.5)."""
    try:
        return OPTIONS.parse(form_fields(form), 0, strict=True)
    except PubSubRefusal as e:
        raise refuse("invalid-options", e.text) from None


def options_form(values: dict[str, str], form_type: str) -> data_form.Form:
    form = data_form.Form(form_type, formNamespace=ns.SUBSCRIBE_OPTIONS)
    form.makeFields(OPTIONS.form_values(values), fieldDefs=OPTIONS.field_definitions())
    return form


def delivers(subscription: NodeSubscription) -> bool:
    """An active subscription whose options let notifications through."""
    return subscription.state == "subscribed" and \
        OPTIONS.effective(subscription.options)["pubsub#deliver"] == "true"


class Membership:
    """The subscription and affiliation verbs over an :class:`ISubscriptionStore`."""

    members: ISubscriptionStore
    #: subscriptions per node (§6.1.3.9 beyond it)
    max_subscriptions: int
    #: affiliations an owner may set besides ``none`` (§8.9.2.3: others unsupported)
    settable: tuple[str, ...]
    send: Callable[[domish.Element], None]

    # -- what a resource says -----------------------------------------------------------

    def service_of(self, request: pubsub.PubSubRequest) -> str:
        """The service a request is for (its key in the store)."""
        raise NotImplementedError

    def service_jid(self, service: str) -> str:
        """The ``from`` of what the service sends."""
        raise NotImplementedError

    def existing(self, service: str, name: str) -> PepNode:
        """The node, else ``item-not-found``."""
        raise NotImplementedError

    def affiliation(self, service: str, node: PepNode, bare: str) -> str:
        return self.members.affiliations(service, node.name).get(bare, "none")

    def admit(self, service: str, node: PepNode, bare: str) -> str:
        """``subscribed`` or ``pending`` for an entity that is not an outcast, else the
        access model's refusal (§6.1.3.2–§6.1.3.4)."""
        raise NotImplementedError

    def on_subscribed(self, service: str, node: PepNode, subscription: NodeSubscription
                      ) -> None:
        """A new active subscription (§6.1.7: the last published item)."""

    def on_pending(self, service: str, node: PepNode, subscription: NodeSubscription
                   ) -> None:
        """A subscription waits for an owner's approval (§6.1.4, §8.6)."""

    def node_affiliations(self, service: str, node: PepNode) -> dict[str, str]:
        """Every affiliation of a node, its owners' included (§8.9.1)."""
        return self.members.affiliations(service, node.name)

    def entity_affiliations(self, service: str, bare: str) -> dict[str, str]:
        """node → affiliation of one entity at the service (§5.7)."""
        return self.members.affiliated(service, bare)

    def check_affiliations(self, service: str, node: PepNode, changes: dict[str, str]
                           ) -> None:
        """Refuse a set of changes the service does not allow (§8.9.2.4)."""

    # -- shared rules -------------------------------------------------------------------

    @staticmethod
    def _named(request: pubsub.PubSubRequest) -> str:
        if not request.nodeIdentifier:
            raise PubSubRefusal("bad-request", "nodeid-required")
        return str(request.nodeIdentifier)

    def _target(self, request: pubsub.PubSubRequest, condition: str
                ) -> tuple[str, PepNode, JID]:
        """(service, node, subscriber) of a request about the sender's own subscription;
        another entity's JID is ``condition`` (§6.1.3.1: ``invalid-jid``; §6.2.3.3 and
        §6.3.4.1: ``forbidden``)."""
        service = self.service_of(request)
        name = self._named(request)
        subscriber = request.subscriber
        if subscriber.userhost() != request.sender.userhost():
            if condition == "invalid-jid":
                raise refuse("invalid-jid", "one subscribes one's own JID only")
            raise PubSubRefusal("forbidden", text="not your subscription")
        return service, self.existing(service, name), subscriber

    def _admitted(self, service: str, node: PepNode, bare: str) -> str:
        if self.affiliation(service, node, bare) == "outcast":
            raise PubSubRefusal("forbidden", text="outcasts may not subscribe (§6.1.3.8)")
        return self.admit(service, node, bare)

    def _managed(self, request: pubsub.PubSubRequest, name: str | None = None
               ) -> tuple[str, PepNode]:
        """(service, node) if the sender owns the node (§8.8, §8.9), else ``forbidden``."""
        service = self.service_of(request)
        node = self.existing(service, name if name is not None else self._named(request))
        if self.affiliation(service, node, request.sender.userhost()) != "owner":
            raise PubSubRefusal("forbidden", text="only an owner manages a node")
        return service, node

    def _room(self, service: str, node: PepNode, more: int = 1) -> None:
        """§6.1.3.9: ``policy-violation`` + ``too-many-subscriptions`` past the limit."""
        if len(self.members.subscriptions(service, node.name)) + more > \
                self.max_subscriptions:
            raise refuse("too-many-subscriptions", f"at most {self.max_subscriptions} "
                                                   "subscriptions per node here")

    def revoke(self, service: str, node: PepNode, bares: set[str] | None = None) -> None:
        """Cancel the subscriptions (of ``bares``, or all) that their entities may no
        longer hold (an affiliation or the access model changed; XEP-0163 §7.1), and
        tell them (§8.8.4)."""
        for s in self.members.subscriptions(service, node.name):
            if bares is not None and s.bare not in bares:
                continue
            try:
                self._admitted(service, node, s.bare)
            except PubSubRefusal:
                self.members.unsubscribe(service, node.name, s.jid)
                self.tell(service, node.name, s.jid, "none")

    def tell(self, service: str, name: str, jid: str, state: str) -> None:
        """§8.8.4: the entity's subscription changed."""
        message = domish.Element((None, "message"))
        message["from"], message["to"] = self.service_jid(service), jid
        sub = message.addElement((ns.PUBSUB_EVENT, "event")).addElement("subscription")
        sub["node"], sub["jid"], sub["subscription"] = name, jid, state
        self.send(message)

    # -- wokkel PubSubResource: subscriber verbs (§6) -------------------------------------

    @edge
    def subscribe(self, request: pubsub.PubSubRequest) -> domish.Element:
        """§6.1, with options (§6.3.6); a subscription that exists is answered again."""
        service, node, subscriber = self._target(request, "invalid-jid")
        state = self._admitted(service, node, subscriber.userhost())
        current = self.members.subscription(service, node.name, subscriber.full())
        if current is not None and current.state == "pending":
            raise refuse("pending-subscription", "an owner has not approved it yet")
        if current is not None:
            state = current.state  # approved once, it stays so
        options = dict(current.options) if current else {}
        if request.options is not None:
            options.update(read_options(request.options))
        if current is None:
            self._room(service, node)
        subscription = NodeSubscription(subscriber.full(), state, options)
        self.members.subscribe(service, node.name, subscription)
        if state == "pending":
            self.on_pending(service, node, subscription)
        elif current is None:
            self.on_subscribed(service, node, subscription)
        response = domish.Element((ns.PUBSUB, "pubsub"))
        element = response.addElement("subscription")
        element["node"], element["jid"], element["subscription"] = \
            node.name, subscriber.full(), state
        if request.options is not None:
            response.addElement("options").addChild(
                options_form(options, "result").toElement())
        return response

    @edge
    def unsubscribe(self, request: pubsub.PubSubRequest) -> None:
        """§6.2 (a ``subid`` is ignored: one subscription per JID, §6.2.3.5)."""
        service, node, subscriber = self._target(request, "forbidden")
        if not self.members.unsubscribe(service, node.name, subscriber.full()):
            raise refuse("not-subscribed", f"{subscriber.full()} is not subscribed")
        return None

    def _subscription(self, request: pubsub.PubSubRequest
                      ) -> tuple[str, PepNode, NodeSubscription]:
        service, node, subscriber = self._target(request, "forbidden")
        current = self.members.subscription(service, node.name, subscriber.full())
        if current is None:
            raise refuse("not-subscribed", f"{subscriber.full()} is not subscribed")
        return service, node, current

    @edge
    def optionsGet(self, request: pubsub.PubSubRequest) -> domish.Element:
        """§6.3.1–§6.3.3: the subscription's options form."""
        _, node, current = self._subscription(request)
        response = domish.Element((ns.PUBSUB, "pubsub"))
        options = response.addElement("options")
        options["node"], options["jid"] = node.name, current.jid
        options.addChild(options_form(current.options, "form").toElement())
        return response

    @edge
    def optionsSet(self, request: pubsub.PubSubRequest) -> None:
        """§6.3.5: the submitted options replace the subscription's."""
        service, node, current = self._subscription(request)
        if request.options.formType == "submit":
            current.options.update(read_options(request.options))
            self.members.subscribe(service, node.name, current)
        return None

    @edge
    def subscriptions(self, request: pubsub.PubSubRequest) -> list[pubsub.Subscription]:
        """§5.6: the sender's subscriptions at the service (at one node with ``node``)."""
        service = self.service_of(request)
        wanted = request.element.pubsub.subscriptions.getAttribute("node")
        return [pubsub.Subscription(name, JID(s.jid), s.state)
                for name, s in self.members.subscribed(service, request.sender.userhost())
                if not wanted or name == wanted]

    @edge
    def affiliations(self, request: pubsub.PubSubRequest) -> list[tuple[str, str]]:
        """§5.7: the sender's affiliations at the service (at one node with ``node``)."""
        service = self.service_of(request)
        wanted = request.element.pubsub.affiliations.getAttribute("node")
        return [(name, a) for name, a in
                self.entity_affiliations(service, request.sender.userhost()).items()
                if not wanted or name == wanted]

    # -- wokkel PubSubResource: owner verbs (§8.8, §8.9) ----------------------------------

    @edge
    def affiliationsGet(self, request: pubsub.PubSubRequest) -> dict[JID, str]:
        """§8.9.1: every affiliated entity but ``none``."""
        service, node = self._managed(request)
        return {JID(j): a for j, a in self.node_affiliations(service, node).items()}

    @edge
    def affiliationsSet(self, request: pubsub.PubSubRequest) -> None:
        """§8.9.2: all changes or none (an invalid one is ``not-acceptable``, §8.9.2.4);
        subscriptions an entity may no longer hold are cancelled."""
        service, node = self._managed(request)
        changes = {entity.userhost(): a for entity, a in request.affiliations.items()}
        for a in changes.values():
            if a not in AFFILIATIONS:
                raise PubSubRefusal("bad-request", text=f"no affiliation {a!r} (§4.1)")
            if a != "none" and a not in self.settable:
                raise unsupported(f"{a}-affiliation", f"no {a} affiliation here")
        self.check_affiliations(service, node, changes)
        for entity, a in changes.items():
            self.members.set_affiliation(service, node.name, entity, a)
        self.revoke(service, node, set(changes))
        return None

    @edge
    def subscriptionsGet(self, request: pubsub.PubSubRequest) -> domish.Element:
        """§8.8.1: the node's subscriptions (not the pending ones)."""
        service, node = self._managed(request)
        response = domish.Element((ns.PUBSUB_OWNER, "pubsub"))
        element = response.addElement("subscriptions")
        element["node"] = node.name
        for s in self.members.subscriptions(service, node.name):
            if s.state != "pending":
                child = element.addElement("subscription")
                child["jid"], child["subscription"] = s.jid, s.state
        return response

    @edge
    def subscriptionsSet(self, request: pubsub.PubSubRequest) -> None:
        """§8.8.2: ``subscribed`` adds or approves, ``none`` removes (all or none, as
        affiliations); each entity is told (§8.8.4)."""
        element = next(request.element.pubsub.elements(ns.PUBSUB_OWNER, "subscriptions"))
        service, node = self._managed(request, element.getAttribute("node") or "")
        changes: list[tuple[str, str]] = []
        added = 0
        for child in element.elements(ns.PUBSUB_OWNER, "subscription"):
            jid, state = child.getAttribute("jid"), child.getAttribute("subscription")
            if not jid:
                raise refuse("jid-required")
            if state is None:
                continue  # §8.8.2.1: unchanged
            if state not in ("subscribed", "none"):
                raise PubSubRefusal("not-acceptable", text=f"cannot set {state!r}")
            full = JID(jid).full()
            current = self.members.subscription(service, node.name, full)
            if state == "subscribed":
                self._admitted(service, node, JID(jid).userhost())
                added += current is None
            changes.append((full, state))
        if added:
            self._room(service, node, added)
        for full, state in changes:
            current = self.members.subscription(service, node.name, full)
            if state == "none":
                if self.members.unsubscribe(service, node.name, full):
                    self.tell(service, node.name, full, "none")
            elif current is None or current.state != "subscribed":
                new = NodeSubscription(full, "subscribed", current.options if current else {})
                self.members.subscribe(service, node.name, new)
                self.tell(service, node.name, full, "subscribed")
                self.on_subscribed(service, node, new)
        return None

