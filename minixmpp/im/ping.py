"""XMPP Ping (XEP-0199) answered by the server."""

from __future__ import annotations

from twisted.words.protocols.jabber import error
from twisted.words.xish import domish
from wokkel import disco
from wokkel.iwokkel import IDisco
from wokkel.ping import NS_PING
from wokkel.subprotocols import IQHandlerMixin, XMPPHandler
from zope.interface import implementer

from minixmpp import addressing


@implementer(IDisco)
class PingHandler(XMPPHandler, IQHandlerMixin):
    """XEP-0199 §4.2 (client-to-server ping) and §4.3 on the account's behalf."""

    iqHandlers = {"/iq[@type='get']/ping[@xmlns='urn:xmpp:ping']": "onPing"}

    def connectionInitialized(self) -> None:
        self.xmlstream.addObserver("/iq[@type='get']/ping[@xmlns='urn:xmpp:ping']",
                                   self.handleRequest)

    def onPing(self, iq: domish.Element) -> None:
        to, sender = addressing.parse(iq["to"]), addressing.parse(iq["from"])
        if to.user is not None and to.userhost() != sender.userhost():
            # A ping to someone else's bare JID: the server does not answer for them.
            raise error.StanzaError("service-unavailable")
        return None

    def getDiscoInfo(self, requestor, target, nodeIdentifier=""):
        if not nodeIdentifier:
            return [disco.DiscoFeature(NS_PING)]
        return []

    def getDiscoItems(self, requestor, target, nodeIdentifier=""):
        return []
