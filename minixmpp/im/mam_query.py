"""Querying a message archive (XEP-0313 1.1.3 §4, §5, with the ``#extended`` feature of
§7; paging by XEP-0059), shared by every archive: the account's (:mod:`minixmpp.im.mam`)
and each room's (:mod:`minixmpp.muc.history`).

The edge reads a ``<query/>`` once into a plain :class:`Query` (:func:`read`); the rules
(:func:`select`) take a :class:`Page` from an archive's messages, oldest first; the
results, ``<fin/>`` and ``<metadata/>`` are written back as XML here too.

Where the XEPs leave room:

- The form (``with``, ``start``, ``end``, ``after-id``, ``before-id``, ``ids``) selects
  the result set; RSM pages through it: ``<count/>`` is its size and ``index`` a position
  in it. (Prosody's count leaves ``after-id``/``before-id`` out: its storage takes them
  as RSM's ``after``/``before``.)
- Every id (``after-id``, ``before-id``, ``ids``, RSM ``<after/>``/``<before/>``) names a
  message of the archive, not only of the result set, and stands for its place in the
  archive's order; an id the archive does not hold is ``item-not-found`` (§4.1.3,
  §4.3.2), as in Prosody's SQL storage.
- RSM ``<after/>`` and ``<before/>`` together bound the page on both sides, paged
  backwards from ``<before/>`` (as Prosody).
- ``<flip-page/>`` (§4.3.4) only reverses the order the page is sent in: ``<first/>``
  stays its oldest message and ``<last/>`` its newest (as Prosody).
- A field without a value (``ids`` included) restricts nothing; a single-valued field
  with several values is ``bad-request``.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections.abc import Callable
from dataclasses import dataclass

from twisted.words.protocols.jabber import error, jid
from twisted.words.xish import domish

from minixmpp import addressing, forms, ns
from minixmpp.stanza import parse, qualified
from minixmpp.storage.interfaces import ArchivedMessage
from minixmpp.timestamps import parse_datetime, utc_stamp

DEFAULT_PAGE = 50
MAX_PAGE = 250


@dataclass(frozen=True)
class Query:
    """One archive query as plain values: the form's filters (§4.1), RSM paging
    (XEP-0059 §2) and ``<flip-page/>`` (§4.3.4)."""

    with_jid: jid.JID | None = None
    start: float | None = None
    end: float | None = None
    after_id: str | None = None
    before_id: str | None = None
    ids: frozenset[str] | None = None
    max: int = DEFAULT_PAGE
    after: str | None = None
    #: ``""`` (an empty ``<before/>``): the last page (XEP-0059 §2.5)
    before: str | None = None
    flip: bool = False
    queryid: str | None = None


@dataclass(frozen=True)
class Page:
    """What a query returns: the page (oldest first), the index of its first message in
    the result set (None on a backward page), whether nothing more lies beyond it in the
    direction of paging (§4.3: ``complete``), the size of the result set."""

    items: list[ArchivedMessage]
    index: int | None
    complete: bool
    count: int
    flip: bool = False

    def in_order(self) -> list[ArchivedMessage]:
        """The messages in the order they are sent: newest first when flipped (§4.3.4)."""
        return self.items[::-1] if self.flip else self.items


def parse_time(value: str) -> float:
    """A XEP-0082 DateTime; ``bad-request`` when it is not one."""
    try:
        return parse_datetime(value)
    except ValueError:
        raise error.StanzaError("bad-request", text=f"{value!r} is not a XEP-0082 DateTime"
                                ) from None


# -- reading a query ------------------------------------------------------------------------

def read(query: domish.Element) -> Query:
    """§4.1 the form (FORM_TYPE ``urn:xmpp:mam:2``), XEP-0059 ``<set/>``, §4.3.4
    ``<flip-page/>``: ``bad-request`` or ``jid-malformed`` for what cannot be read."""
    fields: dict[str, list[str]] = {}
    form = forms.find(query, ns.MAM)
    if form is not None:
        fields = forms.multi_values(form)
    elif any(True for _ in query.elements(ns.X_DATA, "x")):
        raise error.StanzaError("bad-request", text=f"the form's FORM_TYPE must be {ns.MAM}")

    def given(var: str) -> list[str]:
        return [v.strip() for v in fields.get(var, ()) if v.strip()]

    def single(var: str) -> str | None:
        values = given(var)
        if len(values) > 1:
            raise error.StanzaError("bad-request", text=f"{var!r} takes one value")
        return values[0] if values else None

    with_jid = None
    if (text := single("with")) is not None:
        try:
            with_jid = addressing.parse(text)
        except jid.InvalidFormat:
            raise error.StanzaError("jid-malformed") from None
    start, end = single("start"), single("end")
    ids = given("ids")
    size, after, before = _rsm(query)
    return Query(with_jid=with_jid,
                 start=parse_time(start) if start is not None else None,
                 end=parse_time(end) if end is not None else None,
                 after_id=single("after-id"), before_id=single("before-id"),
                 ids=frozenset(ids) if ids else None, max=size, after=after, before=before,
                 flip=next(query.elements(ns.MAM, "flip-page"), None) is not None,
                 queryid=query.getAttribute("queryid"))


def _rsm(query: domish.Element) -> tuple[int, str | None, str | None]:
    """XEP-0059 §2: ``max`` (at most :data:`MAX_PAGE`), ``after``, ``before``."""
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
                after = text or None
            elif child.name == "before":
                before = text
    return min(size, MAX_PAGE), after, before


# -- the rules ------------------------------------------------------------------------------

def select(archive: list[ArchivedMessage], query: Query) -> Page:
    """The page ``query`` asks for from ``archive`` (oldest first), as the module
    docstring says the fields combine."""
    places = {m.id: i for i, m in enumerate(archive)}

    def place(archive_id: str) -> int:
        try:
            return places[archive_id]
        except KeyError:
            raise error.StanzaError("item-not-found", text=f"no archived message "
                                    f"{archive_id!r}") from None

    low = place(query.after_id) if query.after_id is not None else -1
    high = place(query.before_id) if query.before_id is not None else len(archive)
    for archive_id in query.ids or ():
        place(archive_id)
    matching = [(i, m) for i, m in enumerate(archive)
                if low < i < high and _matches(m, query)]
    positions = [i for i, _ in matching]
    first = bisect_right(positions, place(query.after)) if query.after else 0
    stop = bisect_left(positions, place(query.before)) if query.before else len(matching)
    count = len(matching)
    if query.before is not None:  # backwards from <before/> (empty: from the end)
        start = max(first, stop - query.max)
        return Page([m for _, m in matching[start:stop]], None, start <= first, count,
                    query.flip)
    end = min(stop, first + query.max)
    return Page([m for _, m in matching[first:end]], first, end >= stop, count, query.flip)


def _matches(message: ArchivedMessage, query: Query) -> bool:
    """§4.1.1 ``with``, §4.1.2 ``start``/``end``, §4.1.3 ``ids``."""
    if query.ids is not None and message.id not in query.ids:
        return False
    if query.start is not None and message.timestamp < query.start:
        return False
    if query.end is not None and message.timestamp > query.end:
        return False
    return query.with_jid is None or _with(message.with_jid, query.with_jid)


def _with(with_jid: str, other: jid.JID) -> bool:
    """§4.1.1: a full JID matches exactly, a bare JID any resource."""
    try:
        stored = addressing.parse(with_jid)
    except jid.InvalidFormat:
        return False
    if other.resource:
        return stored == other
    return stored.userhost() == other.userhost()


# -- writing --------------------------------------------------------------------------------

def answer(archive: list[ArchivedMessage], query: domish.Element,
           send: Callable[[domish.Element], None], to: str, frm: str) -> domish.Element:
    """A whole query of one archive: the results sent to ``to`` from the archive's JID
    ``frm`` (§4.2), then the ``<fin/>`` to return."""
    request = read(query)
    page = select(archive, request)
    for item in page.in_order():
        send(result(to, frm, request.queryid, item))
    return fin(page)


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


def fin(page: Page) -> domish.Element:
    """§4.3: the ``<fin/>`` that ends a query, with its XEP-0059 set. The ``index`` is
    OPTIONAL (XEP-0059 §2.6) and, like Prosody, left out of backward pages: clients
    such as slixmpp's ``xep_0059.iterate`` take ``index + page size == count`` as the
    end of the set in either direction, so with it a backward walk stopped after its
    first page."""
    element = domish.Element((ns.MAM, "fin"))
    if page.complete:
        element["complete"] = "true"
    rsm = element.addElement((ns.RSM, "set"))
    if page.items:
        first = rsm.addElement("first", content=page.items[0].id)
        if page.index is not None:
            first["index"] = str(page.index)
        rsm.addElement("last", content=page.items[-1].id)
    rsm.addElement("count", content=str(page.count))
    return element


def metadata(archive: list[ArchivedMessage]) -> domish.Element:
    """§5: ``<metadata/>`` with the first and last message's id and time (the stamp
    their results carry), or empty for an empty archive."""
    element = domish.Element((ns.MAM, "metadata"))
    if archive:
        for name, item in (("start", archive[0]), ("end", archive[-1])):
            edge = element.addElement(name)
            edge["id"], edge["timestamp"] = item.id, utc_stamp(item.timestamp,
                                                               microseconds=True)
    return element


def fields_form() -> domish.Element:
    """§4.1.5: the fields a query form may have; ``ids`` is open to any value (XEP-0122)."""
    query = domish.Element((ns.MAM, "query"))
    x = forms.form(ns.MAM)
    for var, kind in (("with", "jid-single"), ("start", "text-single"),
                      ("end", "text-single"), ("before-id", "text-single"),
                      ("after-id", "text-single")):
        forms.field(x, var, kind)
    ids = forms.field(x, "ids", "list-multi")
    validate = forms.child(ids, ns.X_DATA_VALIDATE, "validate", {"datatype": "xs:string"})
    forms.child(validate, ns.X_DATA_VALIDATE, "open")
    query.addChild(x)
    return query
