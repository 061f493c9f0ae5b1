"""PEP and what is built on it, assembled for :class:`minixmpp.server.Server`.

One object so that the composition root stays a few lines: it builds the PEP resource,
the protocol handler, private XML, bookmarks and vCard handlers, and subscribes them to
the presence events they need (explicit hooks on ``PresenceHandler``).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from minixmpp.im.presence import PresenceHandler
from minixmpp.pep.bookmarks import Bookmarks
from minixmpp.pep.private import PrivateStorage
from minixmpp.pep.resource import Limits, PEPResource
from minixmpp.pep.service import PEPService
from minixmpp.pep.vcard import VCardHandler
from minixmpp.sessions import SessionManager
from minixmpp.storage import Storage


class PersonalEventing:
    """The ``pep`` room: handlers to attach to the local domain, and account cleanup."""

    def __init__(self, domain: str, storage: Storage, sessions: SessionManager,
                 presence: PresenceHandler, clock: Callable[[], float], limits: Limits
                 ) -> None:
        self.storage = storage
        self.resource = PEPResource(domain, storage.pep, storage.rosters, sessions, clock,
                                    limits)
        self.service = PEPService(self.resource)
        presence.on_available.append(self.resource.own_available)
        presence.on_unavailable.append(self.resource.own_unavailable)
        sessions.on_unbound.append(self.resource.own_unavailable)
        presence.on_inbound.append(self.resource.inbound)
        presence.on_subscribed.append(self.resource.subscribed)
        self.bookmarks = Bookmarks(self.resource)
        self.private = PrivateStorage(storage.private, self.bookmarks, limits.item_size)
        self.vcard = VCardHandler(storage.private, self.resource, limits.item_size)
        presence.on_broadcast.append(self.vcard.presence)
        self.handlers: list[Any] = [self.service, self.private, self.vcard]

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
