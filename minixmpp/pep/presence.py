"""What PEP hears of presence (XEP-0163 §4.3, XEP-0153 §3.2), as ``im/presence.py``'s
available listener and presence observer."""

from __future__ import annotations

from twisted.words.xish import domish

from minixmpp.im.presence import Available
from minixmpp.pep.resource import PEPResource
from minixmpp.pep.vcard import VCardHandler
from minixmpp.sessions import Session


class PepPresence:
    """Own resources and their ``<c/>``, contacts' resources, approvals, photo hashes."""

    def __init__(self, resource: PEPResource, vcard: VCardHandler) -> None:
        self.resource = resource
        self.vcard = vcard

    def available(self, event: Available) -> None:
        self.resource.own_available(event.session, event.initial)

    def broadcast(self, session: Session, stanza: domish.Element) -> None:
        self.vcard.presence(session, stanza)

    def unavailable(self, session: Session) -> None:
        self.resource.own_unavailable(session)

    def inbound(self, stanza: domish.Element, user: str) -> None:
        self.resource.inbound(stanza, user)

    def subscribed(self, user: str, contact: str) -> None:
        self.resource.subscribed(user, contact)
