"""Software version of the server (XEP-0092)."""

from __future__ import annotations

import platform

from twisted.words.protocols.jabber import error
from twisted.words.xish import domish
from wokkel.subprotocols import IQHandlerMixin, XMPPHandler

import minixmpp
from minixmpp import addressing, ns
from minixmpp.discovery import Discoverable
from minixmpp.feature import Context, Feature

GET_VERSION = f"/iq[@type='get']/query[@xmlns='{ns.VERSION}']"


class VersionHandler(Discoverable, XMPPHandler, IQHandlerMixin):
    """Answers ``jabber:iq:version`` queries to the domain JID."""

    disco_features = (ns.VERSION,)

    iqHandlers = {GET_VERSION: "onVersion"}

    def connectionInitialized(self) -> None:
        self.xmlstream.addObserver(GET_VERSION, self.handleRequest)

    def onVersion(self, iq: domish.Element) -> domish.Element:
        if addressing.parse(iq["to"]).user is not None:
            raise error.StanzaError("service-unavailable")
        query = domish.Element((ns.VERSION, "query"))
        query.addElement("name", content="minixmpp")
        query.addElement("version", content=minixmpp.__version__)
        query.addElement("os", content=platform.system())
        return query


def build(ctx: Context) -> Feature:
    """The ``version`` feature (XEP-0092 on the domain JID)."""
    return Feature("version", handlers=(VersionHandler(),))
