"""A plain-Python model of an archive query (XEP-0313 §4, XEP-0059), written apart from
the server's code: the archive as a list, each rule spelled out with list operations.
Used for the account's archive (tests/im) and a room's (tests/muc).

The model's choices are the server's documented ones (minixmpp/im/mam_query.py): the form
selects the result set (count, index), RSM pages through it, ids are places in the whole
archive, ``<flip-page/>`` reverses the sending order only.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from twisted.words.xish import domish

from minixmpp import ns


def query_xml(fields: dict, rsm: dict, flip: bool, queryid: str = "q") -> str:
    """A ``<query/>``: form fields (a list: several values), RSM (``""``: an empty
    element), ``<flip-page/>``."""
    form = ""
    if fields:
        form = (f"<x xmlns='{ns.X_DATA}' type='submit'><field var='FORM_TYPE' type='hidden'>"
                f"<value>{ns.MAM}</value></field>")
        for var, value in fields.items():
            values = value if isinstance(value, list) else [value]
            form += f"<field var='{var}'>" + "".join(
                f"<value>{v}</value>" for v in values) + "</field>"
        form += "</x>"
    paging = ""
    if rsm:
        paging = f"<set xmlns='{ns.RSM}'>" + "".join(
            f"<{k}/>" if v == "" else f"<{k}>{v}</{k}>" for k, v in rsm.items()) + "</set>"
    return (f"<query xmlns='{ns.MAM}' queryid='{queryid}'>{form}{paging}"
            f"{'<flip-page/>' if flip else ''}</query>")


@dataclass(frozen=True)
class Item:
    """One archived message, as the model sees it."""

    id: str
    with_jid: str
    timestamp: float


@dataclass(frozen=True)
class Answer:
    """A query's answer: the ids in the order sent, ``<fin/>``'s values, or an error."""

    sent: list[str] | None = None
    complete: bool | None = None
    first: str | None = None
    last: str | None = None
    index: str | None = None
    count: int | None = None
    error: str | None = None


def read_answer(answer: domish.Element, sent: list[domish.Element]) -> Answer:
    """A query's answer as plain values: the result ids in the order they were sent,
    and the ``<fin/>`` (or the error condition)."""
    if answer["type"] == "error":
        [e] = [c for c in answer.elements() if c.name == "error"]
        return Answer(error=next(e.elements(ns.STANZAS)).name)
    ids = [next(m.elements(ns.MAM, "result"))["id"] for m in sent
           if next(m.elements(ns.MAM, "result"), None) is not None]
    fin = next(answer.elements(ns.MAM, "fin"))
    rsm_set = next(fin.elements(ns.RSM, "set"))
    first = next(rsm_set.elements(ns.RSM, "first"), None)
    values = {c.name: str(c) for c in rsm_set.elements()}
    return Answer(sent=ids, complete=fin.getAttribute("complete") == "true",
                  first=values.get("first"), last=values.get("last"),
                  index=first.getAttribute("index") if first is not None else None,
                  count=int(values["count"]))


def same(stored: str, wanted: str) -> bool:
    """§4.1.1: a full JID asks for that JID, a bare JID for any of its resources."""
    return stored == wanted if "/" in wanted else stored.split("/")[0] == wanted


def result_set(archive: list[Item], with_jid: str | None = None, after_id: str | None = None,
               before_id: str | None = None, ids: list[str] | None = None) -> list[Item]:
    """§4.1: the messages the form selects, in archive order."""
    order = [m.id for m in archive]
    chosen = []
    for m in archive:
        if after_id is not None and order.index(m.id) <= order.index(after_id):
            continue
        if before_id is not None and order.index(m.id) >= order.index(before_id):
            continue
        if ids is not None and m.id not in ids:
            continue
        if with_jid is not None and not same(m.with_jid, with_jid):
            continue
        chosen.append(m)
    return chosen


def expected(archive: list[Item], selected: list[Item], size: int, *, after: str | None = None,
             before: str | None = None, flip: bool = False) -> Answer:
    """XEP-0059 on ``selected``: RSM ids are places in the whole archive."""
    order = [m.id for m in archive]
    candidates = [m for m in selected
                  if (after is None or order.index(m.id) > order.index(after))
                  and (not before or order.index(m.id) < order.index(before))]
    if before is None:
        page = candidates[:size]
    else:
        page = candidates[max(0, len(candidates) - size):] if size else []
    ids = [m.id for m in page]
    index = None
    if page and before is None:
        index = str(selected.index(page[0]))
    return Answer(sent=ids[::-1] if flip else ids, complete=len(candidates) <= size,
                  first=ids[0] if ids else None, last=ids[-1] if ids else None,
                  index=index, count=len(selected))


Query = Callable[[dict, dict, bool], Answer]


def walk(query: Query, items: list[Item], fields: dict, selected: list[Item], size: int,
         backward: bool, flip: bool) -> list[str]:
    """Page through the whole result set with RSM (``query(fields, rsm, flip)``),
    checking every page against the model; the ids seen, in archive order."""
    seen: list[str] = []
    after: str | None = None
    before: str | None = "" if backward else None
    for _ in range(len(selected) + 2):
        rsm = {"max": str(size)}
        if before is not None:
            rsm["before"] = before
        elif after is not None:
            rsm["after"] = after
        got = query(fields, rsm, flip)
        want = expected(items, selected, size, after=after, before=before, flip=flip)
        assert got == want, (fields, rsm, flip)
        page = got.sent[::-1] if flip else got.sent
        seen = page + seen if backward else seen + page
        if got.complete:
            return seen
        if backward:
            before = got.first
        else:
            after = got.last
    raise AssertionError("the walk never completed")


def bounded(items: list[Item], with_jid: str | None, bounds: str, after: int, before: int
            ) -> tuple[dict, list[Item]]:
    """The form for ``bounds`` (``whole``, ``after-id``, ``before-id``, ``between``, the
    ids of ``items[after]`` and ``items[before]``) and the result set it selects."""
    fields: dict = {"with": with_jid} if with_jid else {}
    if bounds in ("after-id", "between"):
        fields["after-id"] = items[after].id
    if bounds in ("before-id", "between"):
        fields["before-id"] = items[before].id
    selected = result_set(items, with_jid, fields.get("after-id"), fields.get("before-id"))
    assert 0 < len(selected) <= len(items) and (len(selected) < len(items)) == bool(fields)
    return fields, selected


def walk_every_size(query: Query, items: list[Item], fields: dict, selected: list[Item],
                    flip_first: bool) -> None:
    """Every page size from 1 to the archive's, forwards and backwards, flipped every
    other walk (the first one if ``flip_first``): each walk sees the result set once."""
    for size in range(1, len(items) + 1):
        for backward in (False, True):
            flip = ((size + backward) % 2 == 1) == flip_first
            assert walk(query, items, fields, selected, size, backward, flip) == [
                m.id for m in selected]
