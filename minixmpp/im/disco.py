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
    """``server/im`` identity (XEP-0030 registry) for the domain JID, and its items
    (the services it hosts, such as the in-process push App Server)."""

    def __init__(self, domain: str, name: str = "minixmpp") -> None:
        super().__init__()
        self.domain = domain
        self.name = name
        self.items: list[disco.DiscoItem] = []

    def getDiscoInfo(self, requestor: JID, target: JID, nodeIdentifier: str = ""):
        if target.user is None and not nodeIdentifier:
            return [disco.DiscoIdentity("server", "im", self.name)]
        return []

    def getDiscoItems(self, requestor: JID, target: JID, nodeIdentifier: str = ""):
        if target.user is None and not nodeIdentifier:
            return list(self.items)
        return []


@implementer(IDisco)
class AccountIdentity(XMPPHandler):
    """``account/registered`` on the account's bare JID, asked by the account itself
    (XEP-0030 registry; push-rules "Discovery")."""

    def getDiscoInfo(self, requestor: JID, target: JID, nodeIdentifier: str = ""):
        if (target.user is not None and not nodeIdentifier
                and requestor.userhost() == target.userhost()):
            return [disco.DiscoIdentity("account", "registered")]
        return []

    def getDiscoItems(self, requestor: JID, target: JID, nodeIdentifier: str = ""):
        return []
