"""Message archive (XEP-0313, urn:xmpp:mam:2) with stanza ids (XEP-0359) and RSM paging
(XEP-0059).

Chat and normal messages with a body are archived for both parties; the copy
delivered to the recipient carries ``<stanza-id by='recipient@domain'/>``.
"""

from __future__ import annotations

import itertools
import secrets
from collections.abc import Callable

from twisted.words.protocols.jabber import error, jid
from twisted.words.xish import domish
from wokkel import disco
from wokkel.iwokkel import IDisco
from wokkel.subprotocols import IQHandlerMixin, XMPPHandler
from zope.interface import implementer

from minixmpp import addressing, forms
from minixmpp.sessions import Session, SessionManager
from minixmpp.stanza import parse, qualified
from minixmpp.storage.interfaces import ArchivedMessage, IArchiveStore
from minixmpp.timestamps import parse_datetime, utc_stamp

NS_MAM = "urn:xmpp:mam:2"
NS_SID = "urn:xmpp:sid:0"
NS_RSM = "http://jabber.org/protocol/rsm"
NS_FORWARD = "urn:xmpp:forward:0"
NS_DELAY = "urn:xmpp:delay"
DEFAULT_PAGE = 50
MAX_PAGE = 250


def archivable(message: domish.Element) -> bool:
    """Chat or normal messages with a ``<body/>`` (XEP-0313 §5.1.1)."""
    if (message.getAttribute("type") or "normal") not in ("chat", "normal"):
        return False
    return any(c.name == "body" and c.uri is None for c in message.elements())


def parse_time(value: str) -> float:
    try:
        return parse_datetime(value)
    except ValueError:
        raise error.StanzaError("bad-request", text=f"{value!r} is not a XEP-0082 DateTime"
                                ) from None


@implementer(IDisco)
class ArchiveHandler(XMPPHandler, IQHandlerMixin):
    """Archives messages and answers archive queries to the account's own bare JID."""

    iqHandlers = {f"/iq[@type='set']/query[@xmlns='{NS_MAM}']": "onQuery",
                  f"/iq[@type='get']/query[@xmlns='{NS_MAM}']": "onFields"}

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

    def connectionInitialized(self) -> None:
        self.xmlstream.addObserver(f"/iq/query[@xmlns='{NS_MAM}']", self.handleRequest)

    # -- archiving ---------------------------------------------------------------------------

    def _archive(self, user: str, other: str, message: domish.Element) -> str:
        archive_id = f"{self._prefix}-{next(self._ids):x}"
        self.store.append(user, ArchivedMessage(archive_id, self.clock(), other,
                                                message.toXml()), self.limit)
        return archive_id

    def incoming(self, message: domish.Element, user: str) -> None:
        """A delivery stage (``im.message``): never stops the message."""
        self._incoming(message, user)

    def _incoming(self, message: domish.Element, user: str) -> None:
        """Before delivery to a local account: drop forged stanza ids (XEP-0359 §5),
        archive, and stamp ours."""
        bare = f"{user}@{self.domain}"
        for child in list(message.elements(NS_SID, "stanza-id")):
            if child.getAttribute("by") in (bare, self.domain):
                message.children.remove(child)
        if not archivable(message):
            return
        archive_id = self._archive(user, message.getAttribute("from", ""), message)
        sid = message.addElement((NS_SID, "stanza-id"))
        sid["id"], sid["by"] = archive_id, bare

    def sent(self, session: Session, message: domish.Element) -> None:
        """A local client sent a message: it goes into the sender's archive too."""
        if archivable(message):
            self._archive(session.user, message.getAttribute("to", ""), message)

    # -- querying (XEP-0313 §4) -------------------------------------------------------------------

    def _owner(self, iq: domish.Element) -> tuple[str, Session]:
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

    # -- XEP-0030: on the account's bare JID, for the account itself -------------------------

    def getDiscoInfo(self, requestor, target, nodeIdentifier=""):
        if (target.user is not None and not nodeIdentifier
                and requestor.userhost() == target.userhost()):
            return [disco.DiscoFeature(NS_MAM), disco.DiscoFeature(NS_SID)]
        return []

    def getDiscoItems(self, requestor, target, nodeIdentifier=""):
        return []


# -- the query, shared by every archive (accounts here, rooms in minixmpp.muc) ------------

def fields_form() -> domish.Element:
    """§4.1.3: the fields a query form may have."""
    query = domish.Element((NS_MAM, "query"))
    x = query.addElement((forms.NS_X_DATA, "x"))
    x["type"] = "form"
    for var, kind in (("FORM_TYPE", "hidden"), ("with", "jid-single"),
                      ("start", "text-single"), ("end", "text-single")):
        field = x.addElement("field")
        field["var"], field["type"] = var, kind
        if var == "FORM_TYPE":
            field.addElement("value", content=NS_MAM)
    return query


def select(items: list[ArchivedMessage], query: domish.Element
           ) -> tuple[list[ArchivedMessage], int | None, bool, int]:
    """§4.1 filters (``with``, ``start``, ``end``) and XEP-0059 paging of one archive:
    (page, index of its first item or None for a backward page, complete, count of
    matching items)."""
    filters: dict[str, str] = {}
    form = forms.find(query, NS_MAM)
    if form is not None:
        filters = forms.values(form)
    elif any(True for _ in query.elements(forms.NS_X_DATA, "x")):
        raise error.StanzaError("bad-request", text=f"the form's FORM_TYPE must be {NS_MAM}")
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
    rsm = next(query.elements(NS_RSM, "set"), None)
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
    element = message.addElement((NS_MAM, "result"))
    if queryid:
        element["queryid"] = queryid
    element["id"] = item.id
    forwarded = element.addElement((NS_FORWARD, "forwarded"))
    forwarded.addElement((NS_DELAY, "delay"))["stamp"] = utc_stamp(item.timestamp,
                                                                   microseconds=True)
    forwarded.addChild(qualified(parse(item.xml)))
    return message


def fin(page: list[ArchivedMessage], first_index: int | None, complete: bool,
        count: int) -> domish.Element:
    """§4.3: the ``<fin/>`` that ends a query, with its XEP-0059 set."""
    element = domish.Element((NS_MAM, "fin"))
    if complete:
        element["complete"] = "true"
    rsm = element.addElement((NS_RSM, "set"))
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
