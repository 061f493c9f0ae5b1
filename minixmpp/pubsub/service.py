"""The pubsub service's protocol edge: wokkel's ``PubSubService`` (behind
:class:`~minixmpp.pubsubedge.PubSubEdge`'s checks of client input) at the service's JID,
as an internal component.

wokkel parses and answers; :class:`~minixmpp.pubsub.resource.PubSubResource` decides.
This subclass adds what wokkel leaves out: the ``pubsub`` feature itself on the service
(XEP-0060 §5.1), a node's items in disco#items (§5.5), owners' answers to approval
requests (§8.6, messages), and lets the rules read configuration forms as clients send
them (typed or not).
"""

from __future__ import annotations

from typing import Any

from twisted.internet import defer
from twisted.words.protocols.jabber import error
from twisted.words.protocols.jabber.jid import JID
from twisted.words.xish import domish
from wokkel import disco

from minixmpp import addressing, ns
from minixmpp.pubsub import authorize
from minixmpp.pubsub.errors import PubSubRefusal, stanza_error
from minixmpp.pubsub.resource import PubSubResource
from minixmpp.pubsubedge import PubSubEdge


class PubSubService(PubSubEdge):
    """XEP-0060 §5–§8 at ``pubsub.DOMAIN``."""

    def __init__(self, resource: PubSubResource) -> None:
        super().__init__(resource)
        self.rules = resource

    def connectionInitialized(self) -> None:
        self.xmlstream.addObserver("/message", self._message)

    def _message(self, message: domish.Element) -> None:
        """§8.6: an owner approves or denies a pending subscription."""
        found = authorize.answer(message)
        try:
            sender = addressing.parse(message.getAttribute("from", ""))
        except Exception:  # noqa: BLE001  (anything unparsable is ignored)
            return
        if found is not None:
            message.handled = True
            self.rules.authorized(sender.userhost(), *found)

    def getDiscoInfo(self, requestor: JID, target: JID, nodeIdentifier: str = ""
                     ) -> defer.Deferred:
        """§5.1: the identity, ``pubsub`` and the features (disco#items is the
        component's ``DiscoSelf``'s: once, XEP-0030 §3.1); §5.3 a node's metadata."""
        d = super().getDiscoInfo(requestor, target, nodeIdentifier)
        if not nodeIdentifier:
            d.addCallback(lambda info: [*(i for i in info if i != ns.DISCO_ITEMS),
                                        disco.DiscoFeature(ns.PUBSUB)])
        return d

    def getDiscoItems(self, requestor: JID, target: JID, nodeIdentifier: str = ""
                      ) -> defer.Deferred:
        """§5.2 the nodes; §5.5 with a node, its items (their ids as names)."""
        if not nodeIdentifier:
            return super().getDiscoItems(requestor, target, nodeIdentifier)
        try:
            ids = self.rules.item_ids(requestor, nodeIdentifier)
        except PubSubRefusal as e:
            failure: error.StanzaError = stanza_error(e)
            return defer.fail(failure)
        return defer.succeed([disco.DiscoItem(target, name=i) for i in ids])

    def _checkConfiguration(self, resource: Any, form: Any) -> None:
        """Values are checked by the rules (``pubsub.config``), which accept forms with
        or without field types."""
