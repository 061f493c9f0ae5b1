"""Extended channel search (XEP-0433) at the service's JID, over its public rooms, as
Openfire serves it on its MUC service: the search form (§4.2.1), a submitted search
(§4.2.2) with keywords in the name, description and address, a minimum of users and the
two sort keys, XEP-0059 pages of at most ``limits.search`` rooms, and the errors of
§4.2.2.2–§4.2.2.7. Only rooms listed in disco#items are found: public and open (not
locked, §10.1.1)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from twisted.words.protocols.jabber import error
from twisted.words.xish import domish

from minixmpp import forms, ns
from minixmpp.muc.registry import RoomRegistry
from minixmpp.muc.request import Request
from minixmpp.muc.room import Room

BY_USERS = f"{{{ns.CHANNEL_SEARCH_ORDER}}}nusers"
BY_ADDRESS = f"{{{ns.CHANNEL_SEARCH_ORDER}}}address"
MUC_TYPE = "xep-0045"
TRUE, FALSE = ("1", "true"), ("0", "false")
#: §6.1 the fields served: var -> (kind, label, default values, options)
FIELDS: tuple[tuple[str, str, str, tuple[str, ...], tuple[str, ...]], ...] = (
    ("q", "text-single", "Search for", (), ()),
    ("all", "boolean", "Return all entries (ignore search terms)", ("false",), ()),
    ("sinname", "boolean", "Search in name", ("true",), ()),
    ("sindescription", "boolean", "Search in description", ("true",), ()),
    ("sinaddr", "boolean", "Search in address", ("true",), ()),
    ("min_users", "text-single", "Minimum number of users", ("0",), ()),
    ("types", "list-multi", "Service types", (MUC_TYPE,), (MUC_TYPE,)),
    ("key", "list-single", "Sort results by", (BY_USERS,), (BY_USERS, BY_ADDRESS)),
)


@dataclass
class Query:
    """A submitted search (§6.1), its defaults those of the form."""

    terms: list[str]
    every: bool
    where: tuple[bool, bool, bool]  # name, description, address
    min_users: int
    muc: bool  # xep-0045 among the types asked for
    key: str


class Search:
    """``<search xmlns='urn:xmpp:channel-search:0:search'/>`` to the service."""

    def __init__(self, registry: RoomRegistry) -> None:
        self.registry = registry

    def search(self, request: Request) -> domish.Element:
        """§4.2.1 the form for an empty ``<search/>``; §4.2.2 a page of results."""
        payload = request.payload
        assert payload is not None
        x = forms.find(payload, ns.CHANNEL_SEARCH_PARAMS)
        if x is None:
            if next(payload.elements(ns.X_DATA, "x"), None) is not None:
                raise error.StanzaError("bad-request", "modify",
                                        f"the form's FORM_TYPE is {ns.CHANNEL_SEARCH_PARAMS}")
            return self.form()
        query = parse(x)
        for room in self.registry.rooms.values():
            self.registry.expire_lock(room)
        found = sorted((room for room in self.registry.rooms.values()
                        if query.muc and matches(room, query)), key=order(query.key))
        return page(found, payload, self.registry.limits.search)

    @staticmethod
    def form() -> domish.Element:
        out = domish.Element((ns.CHANNEL_SEARCH, "search"))
        x = out.addChild(forms.form(ns.CHANNEL_SEARCH_PARAMS, "form", "Search for rooms"))
        for var, kind, label, values, options in FIELDS:
            forms.field(x, var, kind, values, label, options=options)
        return out


def parse(x: domish.Element) -> Query:
    """The search a form asks for, or the error of §4.2.2.2, §4.2.2.3, §4.2.2.6, §4.2.2.7."""
    given = forms.multi_values(x)
    value = {var: given.get(var, list(default)) for var, _, _, default, _ in FIELDS}
    value["sinaddr"] = given.get("sinaddr", given.get("sinaddress", value["sinaddr"]))
    flags = {var: _boolean(var, value[var]) for var in ("all", "sinname", "sindescription",
                                                        "sinaddr")}
    terms = " ".join(value["q"]).lower().split() if "q" in given else None
    if terms == [] and flags["all"]:
        terms = None  # an empty q beside all: a form sent back whole
    if terms is not None and flags["all"]:
        raise _error("bad-request", "modify", "conflicting-fields",
                     "Cannot both return all results and search by keywords.", ("all", "q"))
    if terms is None and not flags["all"]:
        raise _error("bad-request", "cancel", "no-search-conditions",
                     "Give search terms (q) or ask for all rooms (all).")
    if terms == []:
        raise _error("bad-request", "modify", "invalid-search-terms",
                     "Search terms must have at least one character.")
    try:
        min_users = int("".join(value["min_users"]).strip() or "0")
    except ValueError:
        raise error.StanzaError("bad-request", "modify", "min_users is a number") from None
    key = "".join(value["key"]).strip() or BY_USERS
    if key not in (BY_USERS, BY_ADDRESS):
        raise _error("feature-not-implemented", "modify", "invalid-sort-key",
                     f"Sort by {BY_USERS} or {BY_ADDRESS}.")
    return Query(terms or [], flags["all"],
                 (flags["sinname"], flags["sindescription"], flags["sinaddr"]),
                 min_users, MUC_TYPE in value["types"], key)


def matches(room: Room, query: Query) -> bool:
    """A public, open room with enough users where every term is found (case folded) in
    the name, description or address searched in."""
    if not room.config.public or room.locked or len(room.occupants) < query.min_users:
        return False
    searched = [text.lower() for text, on in zip(
        (room.config.name or room.name, room.config.description, room.jid),
        query.where, strict=True) if on]
    return all(any(term in text for text in searched) for term in query.terms)


def order(key: str) -> Callable[[Room], tuple[int, str]]:
    """§6.2: by address, or by users (most first, then by address: a stable order)."""
    if key == BY_ADDRESS:
        return lambda room: (0, room.jid)
    return lambda room: (-len(room.occupants), room.jid)


def page(rooms: list[Room], payload: domish.Element, limit: int) -> domish.Element:
    """§4.2.2.1 one page (XEP-0059: ``max``, ``after``, ``before``, at most ``limit``),
    each room an ``<item/>`` of §6.3, the ``<set/>`` with first, last and count."""
    size, after, before = limit, None, None
    rsm = next(payload.elements(ns.RSM, "set"), None)
    for child in rsm.elements() if rsm is not None else ():
        text = str(child).strip()
        if child.name == "max":
            if not text.isdigit():
                raise error.StanzaError("bad-request", "modify", "max is a number")
            size = min(int(text), limit)
        elif child.name in ("after", "before"):
            after, before = (text, before) if child.name == "after" else (after, text)
    addresses = [room.jid for room in rooms]
    start = _index(addresses, after) + 1 if after else 0
    end = min(len(rooms), start + size)
    if before is not None:
        end = len(rooms) if before == "" else _index(addresses, before)
        start = max(0, end - size)
    out = domish.Element((ns.CHANNEL_SEARCH, "result"))
    for room in rooms[start:end]:
        _item(out, room)
    paging = out.addElement((ns.RSM, "set"))
    if end > start:
        paging.addElement("first", content=rooms[start].jid)["index"] = str(start)
        paging.addElement("last", content=rooms[end - 1].jid)
    paging.addElement("count", content=str(len(rooms)))
    return out


def _item(out: domish.Element, room: Room) -> None:
    """§6.3: name, description, language, nusers, service-type, is-open (written
    ``<is-open>true</is-open>`` when open, left out otherwise: read as a boolean and as
    a flag alike), anonymity-mode."""
    item = out.addElement("item")
    item["address"] = room.jid
    config = room.config
    item.addElement("name", content=config.name or room.name)
    if config.description:
        item.addElement("description", content=config.description)
    if config.language:
        item.addElement("language", content=config.language)
    item.addElement("nusers", content=str(len(room.occupants)))
    item.addElement("service-type", content=MUC_TYPE)
    if not (config.members_only or config.password_protected):
        item.addElement("is-open", content="true")
    item.addElement("anonymity-mode", content=f"{{{ns.CHANNEL_SEARCH_ANONYMITY}}}none"
                    if config.whois == "anyone" else "muc_semianonymous")


def _boolean(var: str, values: list[str]) -> bool:
    text = "".join(values).strip().lower()
    if text not in TRUE + FALSE:
        raise error.StanzaError("bad-request", "modify", f"{var} is a boolean")
    return text in TRUE


def _index(addresses: list[str], wanted: str) -> int:
    try:
        return addresses.index(wanted)
    except ValueError:
        raise error.StanzaError("item-not-found", text=f"no room {wanted!r} in the results"
                                ) from None


def _error(condition: str, kind: str, app: str, text: str,
           fields: tuple[str, ...] = ()) -> error.StanzaError:
    """A stanza error with the application condition of §4.2.2 (and the fields it names)."""
    element = domish.Element((ns.CHANNEL_SEARCH_ERROR, app))
    for var in fields:
        element.addElement("var", content=var)
    return error.StanzaError(condition, kind, text, appCondition=element)
