"""Message archive (XEP-0313, urn:xmpp:mam:2) with stanza ids (XEP-0359) and RSM paging
(XEP-0059).

Chat and normal messages with a body are archived for both parties; the copy
delivered to the recipient carries ``<stanza-id by='recipient@domain'/>``.
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

from minixmpp import addressing, forms, ns
from minixmpp.discovery import SELF, Discoverable
from minixmpp.feature import Context, Feature
from minixmpp.sessions import Session, SessionManager
from minixmpp.stanza import parse, qualified
from minixmpp.storage.interfaces import ArchivedMessage, IArchiveStore
from minixmpp.timestamps import parse_datetime, utc_stamp

if TYPE_CHECKING:
    from minixmpp.im.message import Outcome

DEFAULT_PAGE = 50
MAX_PAGE = 250


def archivable(message: domish.Element) -> bool:
    """Chat or normal messages with a ``<body/>`` (XEP-0313 §5.1.1)."""
    if (message.attributes.get("type") or "normal") not in ("chat", "normal"):
        return False
    for child in message.children:
        if isinstance(child, domish.Element) and child.name == "body" and child.uri is None:
            return True
    return False


def parse_time(value: str) -> float:
    try:
        return parse_datetime(value)
    except ValueError:
        raise error.StanzaError("bad-request", text=f"{value!r} is not a XEP-0082 DateTime"
                                ) from None


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
    """Archives messages and answers archive queries to the account's own bare JID."""

    #: XEP-0313 §7 and XEP-0359 §6, on the account's bare JID for the account itself
    disco_features = (ns.MAM, ns.SID)
    disco_on = frozenset({SELF})

    iqHandlers = {f"/iq[@type='set']/query[@xmlns='{ns.MAM}']": "onQuery",
                  f"/iq[@type='get']/query[@xmlns='{ns.MAM}']": "onFields"}

    def __init__(self, store: IArchiveStore, sessions: SessionManager, domain: str,
                 limit: int, clock: Callable[[], float]) -> None:
        super().__init__()
        self.store = store
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
        self.xmlstream.addObserver(f"/iq/query[@xmlns='{ns.MAM}']", self.handleRequest)

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

    def _local_account(self, to: str) -> bool:
        try:
            address = addressing.parse(to)
        except jid.InvalidFormat:
            return False
        return address.user is not None and address.host == self.domain

    # -- querying (XEP-0313 §4) -------------------------------------------------------------------

    def _owner(self, iq: domish.Element) -> tuple[str, Session]:
        self.flush()  # nothing waits while a query is read, but never answer from less
        sender, to = addressing.parse(iq["from"]), addressing.parse(iq["to"])
        session = self.sessions.get(sender)
        if to.userhost() != sender.userhost() or session is None:
            raise error.StanzaError("forbidden", text="an archive is its owner's alone")
        return sender.user or "", session

    def onFields(self, iq: domish.Element) -> domish.Element:
        """§4.1.3: the fields a query form may have."""
        self._owner(iq)
        return fields_form()

    def onQuery(self, iq: domish.Element) -> domish.Element:
        user, session = self._owner(iq)
        query = iq.query
        page, first_index, complete, count = select(self.store.messages(user), query)
        for item in page:
            session.send(result(session.jid.full(), session.jid.userhost(),
                                query.getAttribute("queryid"), item))
        return fin(page, first_index, complete, count)

# -- the query, shared by every archive (accounts here, rooms in minixmpp.muc) ------------

def fields_form() -> domish.Element:
    """§4.1.3: the fields a query form may have."""
    query = domish.Element((ns.MAM, "query"))
    x = forms.form(ns.MAM)
    for var, kind in (("with", "jid-single"), ("start", "text-single"),
                      ("end", "text-single")):
        forms.field(x, var, kind)
    query.addChild(x)
    return query


def select(items: list[ArchivedMessage], query: domish.Element
           ) -> tuple[list[ArchivedMessage], int | None, bool, int]:
    """§4.1 filters (``with``, ``start``, ``end``) and XEP-0059 paging of one archive:
    (page, index of its first item or None for a backward page, complete, count of
    matching items)."""
    filters: dict[str, str] = {}
    form = forms.find(query, ns.MAM)
    if form is not None:
        filters = forms.values(form)
    elif any(True for _ in query.elements(ns.X_DATA, "x")):
        raise error.StanzaError("bad-request", text=f"the form's FORM_TYPE must be {ns.MAM}")
    if filters.get("with"):
        try:
            other = addressing.parse(filters["with"])
        except jid.InvalidFormat:
            raise error.StanzaError("jid-malformed") from None
        items = [m for m in items if _matches(m.with_jid, other)]
    if filters.get("start"):
        start = parse_time(filters["start"])
        items = [m for m in items if m.timestamp >= start]
    if filters.get("end"):
        end = parse_time(filters["end"])
        items = [m for m in items if m.timestamp <= end]
    page, first_index, complete = _page(items, query)
    return page, first_index, complete, len(items)


def _page(items: list[ArchivedMessage], query: domish.Element
          ) -> tuple[list[ArchivedMessage], int | None, bool]:
    """XEP-0059 §2: ``max``, ``after``, ``before`` (empty: the last page).

    Returns the page, the index of its first item (None when paging backwards) and
    whether it reaches the end of the result set in the direction of paging (XEP-0313
    §4.2: ``complete``). The ``index`` attribute is OPTIONAL (XEP-0059 §2.6) and, like
    Prosody, we leave it out of backward pages: clients such as slixmpp's
    ``xep_0059.iterate`` take ``index + page size == count`` as the end of the set in
    either direction, so with it a backward walk stopped after its first page.
    """
    rsm = next(query.elements(ns.RSM, "set"), None)
    size, after, before = DEFAULT_PAGE, None, None
    if rsm is not None:
        for child in rsm.elements():
            text = str(child).strip()
            if child.name == "max":
                try:
                    size = int(text)
                except ValueError:
                    raise error.StanzaError("bad-request", text="max is a number") from None
                if size < 0:
                    raise error.StanzaError("bad-request", text="max is not negative")
            elif child.name == "after":
                after = text
            elif child.name == "before":
                before = text
    size = min(size, MAX_PAGE)
    ids = [m.id for m in items]
    if before is not None:
        end = len(items) if before == "" else _index(ids, before)
        start = max(0, end - size)
        return items[start:end], None, start == 0
    start = _index(ids, after) + 1 if after else 0
    end = min(len(items), start + size)
    return items[start:end], start, end == len(items)


def result(to: str, frm: str, queryid: str | None, item: ArchivedMessage) -> domish.Element:
    """§4.2: one archived message, forwarded (XEP-0297) with its delay."""
    message = domish.Element((None, "message"))
    message["to"] = to
    message["from"] = frm
    element = message.addElement((ns.MAM, "result"))
    if queryid:
        element["queryid"] = queryid
    element["id"] = item.id
    forwarded = element.addElement((ns.FORWARD, "forwarded"))
    forwarded.addElement((ns.DELAY, "delay"))["stamp"] = utc_stamp(item.timestamp,
                                                                   microseconds=True)
    forwarded.addChild(qualified(parse(item.xml)))
    return message


def fin(page: list[ArchivedMessage], first_index: int | None, complete: bool,
        count: int) -> domish.Element:
    """§4.3: the ``<fin/>`` that ends a query, with its XEP-0059 set."""
    element = domish.Element((ns.MAM, "fin"))
    if complete:
        element["complete"] = "true"
    rsm = element.addElement((ns.RSM, "set"))
    if page:
        first = rsm.addElement("first", content=page[0].id)
        if first_index is not None:
            first["index"] = str(first_index)
        rsm.addElement("last", content=page[-1].id)
    rsm.addElement("count", content=str(count))
    return element



def _index(ids: list[str], wanted: str) -> int:
    try:
        return ids.index(wanted)
    except ValueError:
        raise error.StanzaError("item-not-found", text=f"no archived message {wanted!r}"
                                ) from None


def _matches(with_jid: str, other: jid.JID) -> bool:
    try:
        stored = addressing.parse(with_jid)
    except jid.InvalidFormat:
        return False
    if other.resource:
        return stored == other
    return stored.userhost() == other.userhost()


def build(ctx: Context) -> Feature:
    """The ``mam`` feature (off with ``--no-archive``): a delivery stage that stamps the
    stanza-id, a listener and a sent listener that write both copies, the queries;
    ``provides["archive"]`` for Bind2's metadata."""
    s = ctx.settings
    store = ctx.storage.archive
    archive = ArchiveHandler(store, ctx.sessions, ctx.domain, s.max_archive,
                             ctx.reactor.seconds)

    def forget(user: str) -> None:
        archive.flush()  # nothing written after the drop
        store.drop(user)

    return Feature("mam", service=archive, handlers=(archive,), stages=(archive,),
                   listeners=(archive,), sent=(archive,), provides={"archive": store},
                   forget=forget)
