"""Service discovery of the server itself (XEP-0030): its identity, its items, and the
discovery features every entity lists.

wokkel's ``DiscoHandler`` answers the queries; every handler that provides ``IDisco``
contributes its own features (collected, never listed here). The domain lists
``disco#info`` and ``disco#items`` (§3.1: an entity that answers disco#info lists it),
and so does every account's bare JID, where the server answers on the account's behalf.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from twisted.words.protocols.jabber.jid import JID
from wokkel import disco
from wokkel.subprotocols import XMPPHandler

from minixmpp import ns
from minixmpp.discovery import EVERY_JID, SELF, Discoverable, target_kinds


class ServerIdentity(Discoverable, XMPPHandler):
    """``server/im`` identity (XEP-0030 registry) of the domain JID, and its items: the
    services it hosts (the in-process push App Server, group chat, upload), as the
    features declared them."""

    disco_features = (ns.DISCO_INFO, ns.DISCO_ITEMS)

    def __init__(self, domain: str, items: Sequence[disco.DiscoItem] = (),
                 name: str = "minixmpp") -> None:
        super().__init__()
        self.domain = domain
        self.items = tuple(items)
        self.disco_identities = (("server", "im", name),)

    def getDiscoItems(self, requestor: JID, target: JID, nodeIdentifier: str = "") -> Any:
        if target.user is None and not nodeIdentifier:
            return list(self.items)
        return []


class AccountIdentity(Discoverable, XMPPHandler):
    """An account's bare JID: ``disco#info``/``disco#items`` for anyone who asks, and
    ``account/registered`` (XEP-0030 registry; push-rules "Discovery") for the account
    itself."""

    disco_features = (ns.DISCO_INFO, ns.DISCO_ITEMS)
    disco_on = EVERY_JID - {"server"}

    def disco_info(self, requestor: JID, target: JID) -> list[Any]:
        own = SELF in target_kinds(requestor, target)
        identity = [disco.DiscoIdentity("account", "registered")] if own else []
        return [*identity, *super().disco_info(requestor, target)]
