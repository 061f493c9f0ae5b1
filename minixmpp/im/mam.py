"""Message archive (XEP-0313 1.1.3, urn:xmpp:mam:2 and its ``#extended`` feature) with
stanza ids (XEP-0359) and archiving preferences (XEP-0441).

Chat and normal messages with a body are archived for both parties, each copy as its
owner's preferences say (:mod:`.mam_prefs`); the copy delivered to the recipient carries
``<stanza-id by='recipient@domain'/>`` when it is archived. Queries, paging and the
metadata are :mod:`.mam_query`'s, shared with the rooms' archives.
"""

from __future__ import annotations

import itertools
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from twisted.words.protocols.jabber import error, jid
from twisted.words.xish import domish
from wokkel.subprotocols import IQHandlerMixin, XMPPHandler

from minixmpp import addressing, ns
from minixmpp.discovery import SELF, Discoverable
from minixmpp.feature import Context, Feature
from minixmpp.im import mam_prefs, mam_query
from minixmpp.sessions import Session, SessionManager
from minixmpp.storage.interfaces import (
    ArchivedMessage,
    ArchivePrefs,
    IArchivePrefsStore,
    IArchiveStore,
    IRosterStore,
)

if TYPE_CHECKING:
    from minixmpp.im.message import Outcome

#: XEP-0441: what an account that never set preferences gets (as Prosody's
#: ``default_archive_policy``)
DEFAULT_PREFS = ArchivePrefs("always")


def archivable(message: domish.Element) -> bool:
    """Chat or normal messages with a ``<body/>`` (XEP-0313 §6.1.1)."""
    if (message.attributes.get("type") or "normal") not in ("chat", "normal"):
        return False
    for child in message.children:
        if isinstance(child, domish.Element) and child.name == "body" and child.uri is None:
            return True
    return False


@dataclass
class _Copy:
    """An archive entry whose id and time are taken and whose XML is written later."""

    message: domish.Element
    user: str
    other: str
    id: str
    time: float
    stamp: domish.Element | None = None  # the stanza-id stamped on the delivered message


class ArchiveHandler(Discoverable, XMPPHandler, IQHandlerMixin):
    """Archives messages as their owners' preferences say, and answers the account's own
    queries, metadata and preferences on its bare JID."""

    #: XEP-0313 §7 and XEP-0359 §6, on the account's bare JID for the account itself
    disco_features = (ns.MAM, ns.MAM_EXTENDED, ns.SID)
    disco_on = frozenset({SELF})

    iqHandlers = {f"/iq[@type='set']/query[@xmlns='{ns.MAM}']": "onQuery",
                  f"/iq[@type='get']/query[@xmlns='{ns.MAM}']": "onFields",
                  f"/iq[@type='get']/metadata[@xmlns='{ns.MAM}']": "onMetadata",
                  f"/iq[@type='get']/prefs[@xmlns='{ns.MAM}']": "onPrefs",
                  f"/iq[@type='set']/prefs[@xmlns='{ns.MAM}']": "onSetPrefs"}

    def __init__(self, store: IArchiveStore, prefs: IArchivePrefsStore, rosters: IRosterStore,
                 sessions: SessionManager, domain: str, limit: int,
                 clock: Callable[[], float]) -> None:
        super().__init__()
        self.store = store
        self.prefs = prefs
        self.rosters = rosters
        self.sessions = sessions
        self.domain = domain
        self.limit = limit
        self.clock = clock
        self._ids = itertools.count(1)
        self._prefix = secrets.token_hex(3)
        #: copies waiting to be written (see :meth:`flush`)
        self._pending: _Copy | None = None
        self._stamped: _Copy | None = None

    def connectionInitialized(self) -> None:
        for xpath in self.iqHandlers:
            self.xmlstream.addObserver(xpath, self.handleRequest)

    # -- archiving ---------------------------------------------------------------------------

    def _archive(self, user: str, other: str, message: domish.Element) -> str:
        archive_id = self._reserve()
        self.store.append(user, ArchivedMessage(archive_id, self.clock(), other,
                                                message.toXml()), self.limit)
        return archive_id

    def _reserve(self) -> str:
        return f"{self._prefix}-{next(self._ids):x}"

    # A message from a local client to a local account is written to both archives
    # after its delivery (``delivered``, the last delivery listener: push goes first),
    # from one serialization: the element as sent, without the stanza-id delivery
    # stamped on it. Ids and times are taken when the message passes, so archive order
    # is arrival order. Anything not written by then is written when the router
    # returns (``routed``: the account did not exist, or delivery stopped early).

    def incoming(self, message: domish.Element, user: str) -> None:
        """A delivery stage (``im.message``): never stops the message."""
        self._incoming(message, user)

    def _incoming(self, message: domish.Element, user: str) -> None:
        """Before delivery to a local account: drop forged stanza ids (XEP-0359 §5),
        stamp ours, and archive once delivered."""
        bare = f"{user}@{self.domain}"
        forged = [c for c in message.children if isinstance(c, domish.Element)
                  and c.name == "stanza-id" and c.uri == ns.SID
                  and c.attributes.get("by") in (bare, self.domain)]
        if forged:
            self.flush()  # the sender's copy is the message as sent, forged ids included
            for child in forged:
                message.children.remove(child)
        if not archivable(message):
            return
        pending = self._pending
        if self._stamped is not None or (pending is not None and pending.message is not message):
            self.flush()  # left from another message
        if not self.wanted(user, message.getAttribute("from", "")):
            return  # not archived: no stanza-id either (XEP-0313 §3.5)
        archive_id = self._reserve()
        sid = domish.Element((ns.SID, "stanza-id"), ns.SID, {"id": archive_id, "by": bare})
        message.addChild(sid)
        self._stamped = _Copy(message, user, message.getAttribute("from", ""), archive_id,
                              self.clock(), sid)

    def delivered(self, outcome: Outcome) -> None:
        """A delivery listener (``im.message``), after push: write what is waiting."""
        self.flush()

    def sent(self, session: Session, message: domish.Element) -> None:
        """A local client sent a message: it goes into the sender's archive too."""
        self.flush()
        if not archivable(message):
            return
        to = message.getAttribute("to", "")
        if not self.wanted(session.user, to):
            return
        if self._local_account(to):
            self._pending = _Copy(message, session.user, to, self._reserve(), self.clock())
        else:
            self._archive(session.user, to, message)

    def routed(self, session: Session, message: domish.Element) -> None:
        """The router is done with a message a local client sent."""
        self.flush()

    def flush(self) -> None:
        """Write the copies still waiting (see above)."""
        pending, stamped = self._pending, self._stamped
        self._pending = self._stamped = None
        xml = None
        if stamped is not None:
            children = stamped.message.children
            at = next((i for i, c in enumerate(children) if c is stamped.stamp), None)
            if at is not None:
                del children[at]
            xml = stamped.message.toXml()
            if at is not None:
                children.insert(at, stamped.stamp)
        try:
            if pending is not None:
                same = stamped is not None and stamped.message is pending.message
                self.store.append(pending.user, ArchivedMessage(
                    pending.id, pending.time, pending.other,
                    xml if same and xml is not None else pending.message.toXml()),
                    self.limit)
        finally:  # one failed write (a locked database) does not cost the other copy
            if stamped is not None and xml is not None:
                self.store.append(stamped.user, ArchivedMessage(
                    stamped.id, stamped.time, stamped.other, xml), self.limit)

    def wanted(self, user: str, other: str) -> bool:
        """XEP-0441 §2.3: whether ``user``'s preferences archive a message to (sent) or
        from (received) ``other``."""
        prefs = self.prefs.get(user) or DEFAULT_PREFS
        if not prefs.always and not prefs.never and prefs.default != "roster":
            return prefs.default == "always"  # the common case, without parsing JIDs
        return mam_prefs.archives(prefs, other, lambda bare: self._in_roster(user, bare))

    def _in_roster(self, user: str, contact: str) -> bool:
        item = self.rosters.get(user, contact)
        return item is not None and item.in_roster

    def _local_account(self, to: str) -> bool:
        try:
            address = addressing.parse(to)
        except jid.InvalidFormat:
            return False
        return address.user is not None and address.host == self.domain

    # -- the account's own requests (XEP-0313 §4, §5; XEP-0441 §2.1) -----------------------

    def _owner(self, iq: domish.Element) -> tuple[str, Session]:
        self.flush()  # nothing waits while a query is read, but never answer from less
        sender, to = addressing.parse(iq["from"]), addressing.parse(iq["to"])
        session = self.sessions.get(sender)
        if to.userhost() != sender.userhost() or session is None:
            raise error.StanzaError("forbidden", text="an archive is its owner's alone")
        return sender.user or "", session

    def onFields(self, iq: domish.Element) -> domish.Element:
        """XEP-0313 §4.1.5: the fields a query form may have."""
        self._owner(iq)
        return mam_query.fields_form()

    def onQuery(self, iq: domish.Element) -> domish.Element:
        """XEP-0313 §4: the results to the querying session, then ``<fin/>``."""
        user, session = self._owner(iq)
        return mam_query.answer(self.store.messages(user), iq.query, session.send,
                                session.jid.full(), session.jid.userhost())

    def onMetadata(self, iq: domish.Element) -> domish.Element:
        """XEP-0313 §5: the first and last archived message."""
        user, _ = self._owner(iq)
        return mam_query.metadata(self.store.messages(user))

    def onPrefs(self, iq: domish.Element) -> domish.Element:
        """XEP-0441 §2.1: the current preferences."""
        user, _ = self._owner(iq)
        return mam_prefs.element(self.prefs.get(user) or DEFAULT_PREFS)

    def onSetPrefs(self, iq: domish.Element) -> domish.Element:
        """XEP-0441 §2.1: store the preferences; the answer is what was applied."""
        user, _ = self._owner(iq)
        request = next(iq.elements(ns.MAM, "prefs"))
        prefs = mam_prefs.read(request, self.prefs.get(user) or DEFAULT_PREFS)
        self.prefs.put(user, prefs)
        return mam_prefs.element(prefs)


def build(ctx: Context) -> Feature:
    """The ``mam`` feature (off with ``--no-archive``): a delivery stage that stamps the
    stanza-id, a listener and a sent listener that write both copies, the queries,
    metadata and preferences; ``provides["archive"]`` for Bind2's metadata."""
    s = ctx.settings
    store, prefs = ctx.storage.archive, ctx.storage.archive_prefs
    assert prefs is not None
    archive = ArchiveHandler(store, prefs, ctx.storage.rosters, ctx.sessions, ctx.domain,
                             s.max_archive, ctx.reactor.seconds)

    def forget(user: str) -> None:
        archive.flush()  # nothing written after the drop
        store.drop(user)
        prefs.drop(user)

    return Feature("mam", service=archive, handlers=(archive,), stages=(archive,),
                   listeners=(archive,), sent=(archive,), provides={"archive": store},
                   forget=forget)
