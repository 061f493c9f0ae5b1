"""Software version of the server (XEP-0092)."""

from __future__ import annotations

import platform

from twisted.words.protocols.jabber import error
from twisted.words.xish import domish
from wokkel import disco
from wokkel.iwokkel import IDisco
from wokkel.subprotocols import IQHandlerMixin, XMPPHandler
from zope.interface import implementer

import minixmpp
from minixmpp import addressing

NS_VERSION = "jabber:iq:version"


@implementer(IDisco)
class VersionHandler(XMPPHandler, IQHandlerMixin):
    """Answers ``jabber:iq:version`` queries to the domain JID."""

    iqHandlers = {"/iq[@type='get']/query[@xmlns='jabber:iq:version']": "onVersion"}

    def connectionInitialized(self) -> None:
        self.xmlstream.addObserver("/iq[@type='get']/query[@xmlns='jabber:iq:version']",
                                   self.handleRequest)

    def onVersion(self, iq: domish.Element) -> domish.Element:
        if addressing.parse(iq["to"]).user is not None:
            raise error.StanzaError("service-unavailable")
        query = domish.Element((NS_VERSION, "query"))
        query.addElement("name", content="minixmpp")
        query.addElement("version", content=minixmpp.__version__)
        query.addElement("os", content=platform.system())
        return query

    def getDiscoInfo(self, requestor, target, nodeIdentifier=""):
        if target.user is None and not nodeIdentifier:
            return [disco.DiscoFeature(NS_VERSION)]
        return []

    def getDiscoItems(self, requestor, target, nodeIdentifier=""):
        return []
