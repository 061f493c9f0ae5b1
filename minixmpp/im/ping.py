"""XMPP Ping (XEP-0199) answered by the server."""

from __future__ import annotations

from twisted.words.protocols.jabber import error
from twisted.words.xish import domish
from wokkel.subprotocols import IQHandlerMixin, XMPPHandler

from minixmpp import addressing, ns
from minixmpp.discovery import EVERY_JID, Discoverable
from minixmpp.feature import Context, Feature

GET_PING = f"/iq[@type='get']/ping[@xmlns='{ns.PING}']"


class PingHandler(Discoverable, XMPPHandler, IQHandlerMixin):
    """XEP-0199 §4.2 (client-to-server ping) and §4.3 on the account's behalf."""

    disco_features = (ns.PING,)
    disco_on = EVERY_JID

    iqHandlers = {GET_PING: "onPing"}

    def connectionInitialized(self) -> None:
        self.xmlstream.addObserver(GET_PING, self.handleRequest)

    def onPing(self, iq: domish.Element) -> None:
        to, sender = addressing.parse(iq["to"]), addressing.parse(iq["from"])
        if to.user is not None and to.userhost() != sender.userhost():
            # A ping to someone else's bare JID: the server does not answer for them.
            raise error.StanzaError("service-unavailable")
        return None


def build(ctx: Context) -> Feature:
    """The ``ping`` feature (XEP-0199 to the domain and to one's own bare JID)."""
    return Feature("ping", handlers=(PingHandler(),))
