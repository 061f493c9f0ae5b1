"""Messages and IQs in a room: a message to all occupants (XEP-0045 §7.4) with its stanza
id (XEP-0359) and occupant id (XEP-0421), copies for members who are not in the room (as
Prosody's mod_muc_offline_delivery and Tigase, for push), private messages (§7.5), IQs
to another occupant forwarded with a new id and the answer routed back (as Prosody), and
self-ping (XEP-0410)."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

from twisted.internet import defer
from twisted.python.failure import Failure
from twisted.words.protocols.jabber import error
from twisted.words.xish import domish

from minixmpp.iqtracker import IQTracker
from minixmpp.muc import render
from minixmpp.muc.history import History
from minixmpp.muc.registry import RoomRegistry
from minixmpp.muc.request import Request
from minixmpp.muc.room import RANK, MucError, Room
from minixmpp.stanza import deep_copy


class Rates:
    """At most ``limits.rate`` groupchat messages per second per session (a token bucket
    with one second of burst), as Prosody's mod_muc_limits."""

    def __init__(self, registry: RoomRegistry) -> None:
        self.registry = registry
        self._buckets: dict[tuple[str, str], tuple[float, float]] = {}

    def check(self, room: Room, full: str) -> None:
        rate = self.registry.limits.rate
        if not rate:
            return
        now = self.registry.clock()
        tokens, last = self._buckets.get((room.name, full), (rate, now))
        tokens = min(rate, tokens + (now - last) * rate)
        if tokens < 1:
            self._buckets[(room.name, full)] = (tokens, now)
            raise MucError("policy-violation", "the room is overactive: slow down", "wait")
        self._buckets[(room.name, full)] = (tokens - 1, now)

    def forget(self, room: Room, full: str) -> None:
        self._buckets.pop((room.name, full), None)


class Messages:
    """Groupchat and private messages, and IQs between occupants, in every room."""

    def __init__(self, registry: RoomRegistry, send: Callable[[domish.Element], None],
                 history: History, rates: Rates, tracker: IQTracker) -> None:
        self.registry = registry
        self.send = send
        self.history = history
        self.rates = rates
        self.tracker = tracker

    # -- §7.4 to all occupants, §8.1 the subject --------------------------------------------

    def groupchat(self, request: Request) -> None:
        """§7.4: from the sender's occupant JID to every session in the room; a message
        with a subject and no body changes the subject (§8.1)."""
        room, message = request.existing_room(), request.stanza
        subject = next((c for c in message.elements() if c.name == "subject"), None)
        has_body = any(c.name == "body" for c in message.elements())
        if subject is not None and not has_body:
            sender = room.check_subject(request.occupant)
            self.history.change_subject(room, sender, str(subject))
        else:
            sender = room.check_groupchat(request.occupant)
            self.rates.check(room, request.full)
        out = domish.Element((None, "message"))
        out["type"] = "groupchat"
        out["from"] = render.occupant_jid(room, sender.nick)
        # §7.4 (muc#stable_id): the client's id on every reflection, else one of ours
        out["id"] = message.getAttribute("id") or str(uuid.uuid4())
        out.children = render.passed_on(message, room)
        render.occupant_id(out, room, sender.bare)
        if has_body:
            self.history.record(room, out)
        for _, to in room.sessions():
            self.send(render.copy_to(out, to))
        if has_body:
            self._offline_members(room, out)

    def _offline_members(self, room: Room, message: domish.Element) -> None:
        """Members of the room on our domain with no joined occupant get the message at
        their bare JID (Prosody's mod_muc_offline_delivery, Tigase): the local domain's
        push policy decides whether it becomes a notification."""
        for bare, affiliation in list(room.affiliations.items()):
            if RANK[affiliation] < RANK["member"] or room.occupants_of(bare):
                continue
            if bare.partition("@")[2] != self.registry.domain:
                continue
            self.send(render.copy_to(message, bare))

    def misaddressed(self, request: Request) -> None:
        """A groupchat message to an occupant JID."""
        request.existing_room()  # an unknown room is item-not-found first
        raise MucError("bad-request", "a groupchat message goes to the room")

    def not_groupchat(self, request: Request) -> None:
        """A message to the room that is neither groupchat, an invitation nor a voice
        request."""
        request.existing_room()
        raise MucError("bad-request", "messages to a room are groupchat messages")

    # -- §7.5 private messages ----------------------------------------------------------------

    def private(self, request: Request) -> None:
        """§7.5: from one occupant to another, from the sender's occupant JID."""
        room, message = request.existing_room(), request.stanza
        occupant = request.occupant
        target = room.check_private(occupant, request.nick or "")
        assert occupant is not None
        out = domish.Element((None, "message"))
        for key, value in message.attributes.items():
            if key not in ("from", "to"):
                out[key] = value
        out.children = render.passed_on(message)
        out["from"] = render.occupant_jid(room, occupant.nick)
        render.user_x(out)
        render.occupant_id(out, room, occupant.bare)
        for full in list(target.sessions):
            self.send(render.copy_to(out, full))

    # -- IQs: XEP-0199 to the service and rooms, IQs between occupants ----------------------

    def pong(self, request: Request) -> None:
        """XEP-0199: the service and its rooms answer pings."""
        if request.to.user is not None:
            request.existing_room()
        return None

    def ping(self, request: Request) -> Any:
        """XEP-0410: the room answers an occupant's ping to its own occupant JID; a ping
        to another occupant is forwarded like any IQ."""
        occupant = request.occupant
        if occupant is not None and occupant.nick == request.nick:
            return None
        return self.forward(request)

    def forward(self, request: Request) -> defer.Deferred[list[domish.Element]]:
        """An IQ to another occupant goes to its latest session from the sender's occupant
        JID, with an id of ours; the answer's payload (or error) is the answer."""
        room, occupant = request.found, request.occupant
        if room is None or occupant is None:
            raise MucError("not-acceptable", "you are not in this room")  # XEP-0410 §4
        target = room.occupants.get(request.nick or "")
        if target is None:
            raise MucError("item-not-found", "no such occupant")
        out = deep_copy(request.stanza)
        out["id"] = self.tracker.new_id()
        out["from"] = render.occupant_jid(room, occupant.nick)
        out["to"] = target.jid
        d = self.tracker.request(out)
        d.addCallbacks(lambda answer: list(answer.elements()), _unanswered)
        return d

    def answer(self, request: Request) -> None:
        """A result or error IQ: the answer to a forwarded IQ when it is from the session
        asked (the tracker ignores anything else)."""
        self.tracker.answer(request.stanza)


def _unanswered(failure: Failure) -> None:
    """No answer in time, or the service stopped while waiting."""
    failure.trap(defer.TimeoutError, defer.CancelledError)
    raise error.StanzaError("recipient-unavailable", text="the occupant did not answer")
