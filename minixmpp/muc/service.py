"""The MUC service's edge: every stanza to the service, a room or an occupant (XEP-0045
§4.1) goes through one table to the module of its section, as wokkel's
``PubSubService._requestVerbMap`` maps a request to a method and Prosody's ``mod_muc``
maps events to room methods. IQ answers are built by wokkel's ``IQHandlerMixin`` from what
the method returns or raises; disco is wokkel's ``DiscoHandler`` asking :mod:`.disco`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from twisted.words.protocols.jabber import jid
from twisted.words.xish import domish
from wokkel.subprotocols import IQHandlerMixin, XMPPHandler

from minixmpp import addressing, ns
from minixmpp.iqtracker import IQTracker
from minixmpp.muc.administration import Administration
from minixmpp.muc.avatar import Avatars
from minixmpp.muc.disco import RoomDisco
from minixmpp.muc.history import History
from minixmpp.muc.invitations import Invitations
from minixmpp.muc.messages import Messages, Rates
from minixmpp.muc.occupancy import Occupancy
from minixmpp.muc.registration import ROOMUSER_ITEM, Registration
from minixmpp.muc.registry import Limits, RoomRegistry
from minixmpp.muc.request import OCCUPANT, ROOM, SERVICE, Request, stanza_error
from minixmpp.muc.room import MucError, Room
from minixmpp.muc.search import Search
from minixmpp.storage.interfaces import IArchiveStore, IRoomStore

#: seconds an IQ forwarded to an occupant waits for its answer
FORWARD_TIMEOUT = 60.0
REQUEST = "/iq[@type='get' or @type='set']"

Key = tuple[str, str | None, str | None, str]
#: (stanza/type, payload namespace, payload name, target) → (module, method), or None:
#: not ours (wokkel's DiscoHandler answers disco). The payload is an IQ's child or a
#: message child that has an entry; (…, None, None, target) takes any other payload. An
#: IQ payload with a ``node`` is looked up as ``name#node`` first, then as ``name``.
#: Message types chat, headline and normal are all "normal" to a room.
ROUTES: dict[Key, tuple[str, str] | None] = {
    # §7.1–§7.3, §7.6–§7.7, §7.14 presence
    ("presence/available", None, None, OCCUPANT): ("occupancy", "available"),
    ("presence/available", None, None, ROOM): ("occupancy", "available"),  # no nick
    ("presence/unavailable", None, None, OCCUPANT): ("occupancy", "unavailable"),
    ("presence/unavailable", None, None, ROOM): ("occupancy", "unavailable"),
    ("presence/error", None, None, OCCUPANT): ("occupancy", "bounced"),
    ("presence/error", None, None, ROOM): ("occupancy", "bounced"),
    # §7.4, §7.5, §8.1 messages
    ("message/groupchat", None, None, ROOM): ("messages", "groupchat"),
    ("message/groupchat", None, None, OCCUPANT): ("messages", "misaddressed"),
    ("message/normal", None, None, OCCUPANT): ("messages", "private"),
    ("message/normal", ns.MUC_USER, "x", ROOM): ("invitations", "mediated"),  # §7.8.2
    ("message/normal", ns.X_DATA, "x", ROOM): ("registration", "voice"),  # §7.13, §8.6
    ("message/normal", None, None, ROOM): ("messages", "not_groupchat"),
    ("message/error", None, None, OCCUPANT): ("occupancy", "bounced"),
    ("message/error", None, None, ROOM): ("occupancy", "bounced"),
    ("message/groupchat", None, None, SERVICE): ("service", "no_messages"),
    ("message/normal", None, None, SERVICE): ("service", "no_messages"),
    # §6 disco: IDisco (disco.py)
    ("iq/get", ns.DISCO_INFO, "query", SERVICE): None,
    ("iq/get", ns.DISCO_ITEMS, "query", SERVICE): None,
    ("iq/get", ns.DISCO_INFO, "query", ROOM): None,
    # §7.12 a reserved nick: disco#info with node x-roomuser-item (keyed name#node)
    ("iq/get", ns.DISCO_INFO, "query#" + ROOMUSER_ITEM, ROOM): ("registration", "reserved"),
    ("iq/get", ns.DISCO_ITEMS, "query", ROOM): None,
    # XEP-0433 extended channel search on the service (the form is asked with get, a
    # search submitted with get as in the XEP's examples, or set)
    ("iq/get", ns.CHANNEL_SEARCH, "search", SERVICE): ("search", "search"),
    ("iq/set", ns.CHANNEL_SEARCH, "search", SERVICE): ("search", "search"),
    # XEP-0199 on the service and rooms; XEP-0410 self-ping
    ("iq/get", ns.PING, "ping", SERVICE): ("messages", "pong"),
    ("iq/get", ns.PING, "ping", ROOM): ("messages", "pong"),
    ("iq/get", ns.PING, "ping", OCCUPANT): ("messages", "ping"),
    ("iq/set", ns.PING, "ping", OCCUPANT): ("messages", "ping"),
    # §8–§10
    ("iq/get", ns.MUC_ADMIN, "query", ROOM): ("administration", "lists"),
    ("iq/set", ns.MUC_ADMIN, "query", ROOM): ("administration", "change"),
    ("iq/get", ns.MUC_OWNER, "query", ROOM): ("administration", "config_form"),
    ("iq/set", ns.MUC_OWNER, "query", ROOM): ("administration", "configure"),
    # XEP-0313 and XEP-0425 on the room
    ("iq/get", ns.MAM, "query", ROOM): ("history", "archive_form"),
    ("iq/set", ns.MAM, "query", ROOM): ("history", "archive_query"),
    ("iq/get", ns.MAM, "metadata", ROOM): ("history", "archive_metadata"),
    ("iq/set", ns.MODERATE, "moderate", ROOM): ("history", "moderate"),
    ("iq/set", ns.FASTEN, "apply-to", ROOM): ("history", "moderate_0"),
    # XEP-0486 room avatars
    ("iq/get", ns.VCARD, "vCard", ROOM): ("avatars", "get"),
    ("iq/set", ns.VCARD, "vCard", ROOM): ("avatars", "set"),
    # §7.10
    ("iq/get", ns.REGISTER, "query", ROOM): ("registration", "form"),
    ("iq/set", ns.REGISTER, "query", ROOM): ("registration", "register"),
    # anything else to the service or a room; IQs to an occupant are forwarded, and the
    # answers routed back
    ("iq/get", None, None, SERVICE): ("service", "unsupported"),
    ("iq/set", None, None, SERVICE): ("service", "unsupported"),
    ("iq/get", None, None, ROOM): ("service", "unsupported"),
    ("iq/set", None, None, ROOM): ("service", "unsupported"),
    ("iq/get", None, None, OCCUPANT): ("messages", "forward"),
    ("iq/set", None, None, OCCUPANT): ("messages", "forward"),
    ("iq/result", None, None, OCCUPANT): ("messages", "answer"),
    ("iq/error", None, None, OCCUPANT): ("messages", "answer"),
    ("iq/result", None, None, ROOM): ("messages", "answer"),
    ("iq/error", None, None, ROOM): ("messages", "answer"),
    ("iq/result", None, None, SERVICE): ("messages", "answer"),
    ("iq/error", None, None, SERVICE): ("messages", "answer"),
}

Handler = Callable[[Request], Any]


class MucService(XMPPHandler, IQHandlerMixin):
    """All rooms of one MUC service at ``jid`` (XEP-0045 §6–§10)."""

    iqHandlers = {REQUEST: "_answer"}

    def __init__(self, jid: str, domain: str, store: IRoomStore, archive: IArchiveStore,
                 limits: Limits, reactor: Any) -> None:
        super().__init__()
        self.registry = RoomRegistry(jid, domain, store, archive, limits, reactor.seconds)
        self.tracker = IQTracker(reactor, self.send, "muc", timeout=FORWARD_TIMEOUT)
        rates = Rates(self.registry)
        self.history = History(self.registry, self.send)
        self.occupancy = Occupancy(self.registry, self.send, self.history, rates)
        self.messages = Messages(self.registry, self.send, self.history, rates, self.tracker)
        self.administration = Administration(self.registry, self.send, self.occupancy)
        self.registration = Registration(self.registry, self.send, self.occupancy,
                                         self.administration)
        self.invitations = Invitations(self.registry, self.send)
        self.avatars = Avatars(self.registry, self.send)
        self.search = Search(self.registry)
        #: the IDisco handler to put beside this one on the component
        self.disco = RoomDisco(self.registry)
        self._routes: dict[Key, Handler | None] = {
            key: self._method(*to) if to is not None else None for key, to in ROUTES.items()}

    def _method(self, module: str, name: str) -> Handler:
        """The bound method a route names (``service``: this edge's own refusals)."""
        return getattr(self if module == "service" else getattr(self, module), name)

    def connectionInitialized(self) -> None:
        self.xmlstream.addObserver("/presence", self.onStanza)
        self.xmlstream.addObserver("/message", self.onStanza)
        self.xmlstream.addObserver("/iq", self.onIQ)

    def connectionLost(self, reason: Any) -> None:
        super().connectionLost(reason)
        self.tracker.cancel_all()

    # -- what the server, push and the status page use -----------------------------------

    @property
    def jid(self) -> str:
        return self.registry.jid

    @property
    def rooms(self) -> dict[str, Room]:
        return self.registry.rooms

    @property
    def clock(self) -> Callable[[], float]:
        return self.registry.clock

    @clock.setter
    def clock(self, clock: Callable[[], float]) -> None:
        self.registry.clock = clock

    def nick(self, room_jid: str, account: str) -> str | None:
        """The nick of ``account`` (a bare JID) in the room (:meth:`RoomRegistry.nick`)."""
        return self.registry.nick(room_jid, account)

    def account_nick(self, user: str, room_jid: str) -> str | None:
        """:meth:`nick` with push's ``NickLookup`` arguments: (account name, room JID)."""
        return self.registry.nick(room_jid, f"{user}@{self.registry.domain}")

    def describe(self) -> list[dict[str, Any]]:
        """The rooms and their occupants (the status page, ``GET /api/state``)."""
        return self.registry.describe()

    def forget(self, account: str) -> None:
        """Account deletion: ``account`` (a bare JID) leaves every room's lists."""
        self.registry.forget(account)

    def clear(self) -> None:
        """Reset: no rooms, no room archives."""
        self.registry.clear()

    # -- dispatch ------------------------------------------------------------------------

    def takes_first(self, stanza: domish.Element) -> bool:
        """IQs to an occupant JID are the occupant's to answer (forwarded, as Prosody),
        and a disco node with a route of its own (§7.12) is this table's: the component
        gives them here before its disco handler and fallback see them."""
        if stanza.name != "iq":
            return False
        try:
            to = addressing.parse(stanza.getAttribute("to") or "")
            if to.resource is None:
                payload = stanza.firstChildElement()
                node = payload.getAttribute("node") if payload is not None else None
                if not node or to.user is None or (
                        _kind(stanza), payload.uri, f"{payload.name}#{node}",
                        ROOM) not in self._routes:
                    return False
        except jid.InvalidFormat:
            return False
        self.onIQ(stanza)
        return True

    def onStanza(self, stanza: domish.Element) -> None:
        """Presence and messages: a refusal is an error stanza (with ``<x/>`` for presence,
        §7.2.6 ff.); an error stanza is never answered."""
        resolved = self._resolve(stanza)
        if resolved is None or resolved[1] is None:
            return
        request, handler = resolved
        try:
            handler(request)
        except MucError as e:
            if stanza.getAttribute("type") != "error":
                reply = stanza_error(e).toResponse(stanza)
                if stanza.name == "presence":
                    reply.addElement((ns.MUC, "x"))
                self.send(reply)

    def onIQ(self, iq: domish.Element) -> None:
        """Requests with an entry go through wokkel's ``handleRequest`` (→ :meth:`_answer`);
        the rest is left to the component's DiscoHandler and IQFallback."""
        if getattr(iq, "handled", False):
            return
        resolved = self._resolve(iq)
        if resolved is None:
            iq.handled = True  # no addresses to answer to
            return
        request, handler = resolved
        if handler is None:
            return
        if iq.getAttribute("type") in ("get", "set"):
            self.handleRequest(iq)
        else:
            iq.handled = True
            handler(request)

    def _answer(self, iq: domish.Element) -> Any:
        """The payload of the result, or the error (wokkel's ``IQHandlerMixin``)."""
        resolved = self._resolve(iq)
        assert resolved is not None and resolved[1] is not None
        request, handler = resolved
        if request.found is not None and request.target == ROOM:
            self.registry.expire_lock(request.found)
        try:
            return handler(request)
        except MucError as e:
            raise stanza_error(e) from None

    def _resolve(self, stanza: domish.Element) -> tuple[Request, Handler | None] | None:
        try:
            sender = addressing.parse(stanza["from"])
            to = addressing.parse(stanza["to"])
        except (KeyError, jid.InvalidFormat):
            return None
        request = Request(stanza, sender, to,
                          self.registry.rooms.get(to.user) if to.user else None)
        kind = _kind(stanza)
        children = ([request.payload] if stanza.name == "iq" else
                    list(stanza.elements()) if stanza.name == "message" else [])
        for child in children:
            if child is None:
                continue
            names = [child.name]
            if stanza.name == "iq" and child.getAttribute("node"):
                names.insert(0, f"{child.name}#{child['node']}")  # a node of its own first
            for name in names:
                key = (kind, child.uri, name, request.target)
                if key in self._routes:
                    return request, self._routes[key]
        return request, self._routes.get((kind, None, None, request.target))

    # -- refusals of the edge -------------------------------------------------------------

    def no_messages(self, request: Request) -> None:
        raise MucError("service-unavailable", "the service takes no messages")

    def unsupported(self, request: Request) -> None:
        """An IQ no module takes; to a room that does not exist, ``item-not-found``."""
        if request.target == ROOM:
            request.existing_room()
        raise MucError("service-unavailable")


def _kind(stanza: domish.Element) -> str:
    """``iq/get``, ``message/groupchat``, ``presence/available``: what the table is keyed by."""
    kind = stanza.getAttribute("type")
    if stanza.name == "presence":
        kind = kind or "available"
    elif stanza.name == "message" and kind not in ("groupchat", "error"):
        kind = "normal"
    return f"{stanza.name}/{kind}"
