"""PEP and what is built on it, assembled for :class:`minixmpp.server.Server`.

One object so that the composition root stays a few lines: it builds the PEP resource,
the protocol handler, private XML, bookmarks and vCard handlers, and is the
``PresenceHandler``'s available listener and presence observer for them.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from twisted.words.xish import domish

from minixmpp.im.presence import Available
from minixmpp.pep.bookmarks import Bookmarks
from minixmpp.pep.private import PrivateStorage
from minixmpp.pep.resource import Limits, PEPResource
from minixmpp.pep.service import PEPService
from minixmpp.pep.vcard import VCardHandler
from minixmpp.sessions import Session, SessionManager
from minixmpp.storage import Storage


class PersonalEventing:
    """The ``pep`` room: handlers to attach to the local domain, and account cleanup."""

    def __init__(self, domain: str, storage: Storage, sessions: SessionManager,
                 clock: Callable[[], float], limits: Limits) -> None:
        self.storage = storage
        self.resource = PEPResource(domain, storage.pep, storage.rosters, sessions, clock,
                                    limits)
        self.service = PEPService(self.resource)
        self.bookmarks = Bookmarks(self.resource)
        self.private = PrivateStorage(storage.private, self.bookmarks, limits.item_size)
        self.vcard = VCardHandler(storage.private, self.resource, limits.item_size)
        self.handlers: list[Any] = [self.service, self.private, self.vcard]

    # -- presence (AvailableListener, PresenceObserver of im/presence.py) -------------------

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

    def nodes(self, user: str) -> list[dict[str, Any]]:
        """Each node of an account with its access model and item count (status page)."""
        from minixmpp.pep.config import effective

        return [{"node": n.name, "access_model": effective(n.config)["pubsub#access_model"],
                 "items": len(self.storage.pep.items(user, n.name))}
                for n in self.storage.pep.nodes(user)]

    def forget(self, user: str) -> None:
        """Everything PEP, private XML and vCard keep for a deleted account."""
        self.storage.pep.drop(user)
        self.storage.private.drop(user)
        self.resource.forget(user)
        self.vcard.forget(user)
