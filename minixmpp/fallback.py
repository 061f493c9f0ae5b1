"""Unhandled IQ requests get ``service-unavailable`` (RFC 6120 §8.4)."""

from __future__ import annotations

from twisted.words.protocols.jabber import error
from twisted.words.xish import domish
from wokkel.subprotocols import XMPPHandler


class IQFallback(XMPPHandler):
    """Answers every IQ get/set that no other handler took."""

    def connectionInitialized(self) -> None:
        self.xmlstream.addObserver("/iq[@type='get' or @type='set']", self.onIQ, priority=-100)

    def onIQ(self, iq: domish.Element) -> None:
        if getattr(iq, "handled", False):
            return
        iq.handled = True
        self.send(error.StanzaError("service-unavailable").toResponse(iq))
