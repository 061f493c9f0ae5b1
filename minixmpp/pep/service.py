"""The PEP protocol edge: wokkel's ``PubSubService`` on every account's bare JID.

wokkel parses (behind :class:`~minixmpp.pubsubedge.PubSubEdge`'s checks of client
input) and answers; :class:`~minixmpp.pep.resource.PEPResource` decides. This
subclass only keeps PEP off the server's own JID in service discovery, lets the rules
read configuration forms as clients send them (typed or not), and routes the answers to
the resource's capability queries back to it.
"""

from __future__ import annotations

from typing import Any

from twisted.internet import defer
from twisted.words.protocols.jabber.jid import JID
from twisted.words.xish import domish

from minixmpp.pep.resource import PEPResource
from minixmpp.pubsubedge import PubSubEdge


class PEPService(PubSubEdge):
    """XEP-0163 §6: ``pubsub/pep`` and the pubsub features on ``user@domain``."""

    def __init__(self, resource: PEPResource) -> None:
        super().__init__(resource)
        self.pep = resource

    def connectionInitialized(self) -> None:
        self.xmlstream.addObserver("/iq[@type='result' or @type='error']", self._answer)

    def _answer(self, iq: domish.Element) -> None:
        if self.pep.caps.answered(iq):
            iq.handled = True

    def getDiscoInfo(self, requestor: JID, target: JID, nodeIdentifier: str = ""
                     ) -> defer.Deferred:
        if target.user is None:
            return defer.succeed([])
        return super().getDiscoInfo(requestor, target, nodeIdentifier)

    def getDiscoItems(self, requestor: JID, target: JID, nodeIdentifier: str = ""
                      ) -> defer.Deferred:
        if target.user is None:
            return defer.succeed([])
        return super().getDiscoItems(requestor, target, nodeIdentifier)

    def _checkConfiguration(self, resource: Any, form: Any) -> None:
        """Values are checked by the rules (``pep.config``), which accept forms with or
        without field types."""

