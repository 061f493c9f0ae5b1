"""Service discovery of the server itself (XEP-0030), identity and basic features.

wokkel's ``DiscoHandler`` answers the queries; every handler that implements
``IDisco`` contributes its own features (collected, never listed here).
"""

from __future__ import annotations

from twisted.words.protocols.jabber.jid import JID
from wokkel import disco
from wokkel.iwokkel import IDisco
from wokkel.subprotocols import XMPPHandler
from zope.interface import implementer


@implementer(IDisco)
class ServerIdentity(XMPPHandler):
    """``server/im`` identity (XEP-0030 registry) for the domain JID."""

    def __init__(self, domain: str, name: str = "minixmpp") -> None:
        super().__init__()
        self.domain = domain
        self.name = name

    def getDiscoInfo(self, requestor: JID, target: JID, nodeIdentifier: str = ""):
        if target.user is None and not nodeIdentifier:
            return [disco.DiscoIdentity("server", "im", self.name)]
        return []

    def getDiscoItems(self, requestor: JID, target: JID, nodeIdentifier: str = ""):
        return []
