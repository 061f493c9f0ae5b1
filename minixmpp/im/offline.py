"""Offline message storage (XEP-0160) with delay stamps (XEP-0203)."""

from __future__ import annotations

from collections.abc import Callable

from twisted.logger import Logger
from twisted.words.xish import domish
from wokkel.subprotocols import XMPPHandler

from minixmpp import ns
from minixmpp.discovery import Discoverable
from minixmpp.feature import Context, Feature
from minixmpp.sessions import Session
from minixmpp.stanza import parse
from minixmpp.storage.interfaces import IOfflineStore
from minixmpp.timestamps import utc_stamp


def only_chat_state(stanza: domish.Element) -> bool:
    """A message that carries nothing but a chat state (XEP-0085 §5.6: not stored)."""
    found = False
    for child in stanza.children:
        if isinstance(child, domish.Element):
            if child.uri != ns.CHATSTATES:
                return False
            found = True
    return found


class OfflineStorage:
    """Keeps chat/normal messages for accounts with no available resource."""

    log = Logger()

    def __init__(self, store: IOfflineStore, domain: str, limit: int,
                 clock: Callable[[], float]) -> None:
        self.store = store
        self.domain = domain
        self.limit = limit
        self.clock = clock

    def take(self, stanza: domish.Element, user: str) -> bool:
        """Store ``stanza`` for ``user``; False when the account's queue is full."""
        if not self.accepts(stanza, user):
            return False
        self.write(stanza, user)
        return True

    def accepts(self, stanza: domish.Element, user: str) -> bool:
        """Would :meth:`write` keep ``stanza`` for ``user``? False when the account's
        queue is full (the message is bounced); True for a bare chat state too, which is
        dropped on purpose, not bounced (XEP-0085 §5.6)."""
        if only_chat_state(stanza):
            return True
        if self.store.count(user) >= self.limit:
            self.log.info("offline queue of {user} is full ({limit}): message bounced",
                          user=user, limit=self.limit)
            return False
        return True

    def write(self, stanza: domish.Element, user: str) -> None:
        """Store ``stanza`` with its delay stamp (XEP-0203), once :meth:`accepts` said so."""
        if only_chat_state(stanza):
            return
        delay = stanza.addElement((ns.DELAY, "delay"))
        delay["from"] = self.domain
        delay["stamp"] = utc_stamp(self.clock())
        self.store.store(user, stanza.toXml())
        stanza.children.remove(delay)

    def flush(self, session: Session) -> int:
        """Deliver every stored message to ``session`` (XEP-0160 §3: on initial presence)."""
        stored = self.store.pop_all(session.user)
        for xml in stored:
            session.send(parse(xml))
        return len(stored)


class OfflineDiscovery(Discoverable, XMPPHandler):
    """``msgoffline`` on the server (XEP-0160 §4, as Prosody's mod_offline says)."""

    disco_features = ("msgoffline",)


def build(ctx: Context) -> Feature:
    """The ``offline`` feature: the last routing rule of delivery, flushed on initial
    presence (``--max-offline`` per account)."""
    store = ctx.storage.offline
    offline = OfflineStorage(store, ctx.domain, ctx.settings.max_offline, ctx.reactor.seconds)
    return Feature("offline", service=offline, offline=offline,
                   handlers=(OfflineDiscovery(),),
                   forget=store.pop_all, clear=None,
                   describe_account=lambda user: {"offline": store.count(user)})
