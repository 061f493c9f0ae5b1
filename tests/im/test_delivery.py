"""The delivery pipeline's Outcome values (im/message.py), with real sessions and a
recording listener; end-to-end behaviour is covered over real streams elsewhere."""

from __future__ import annotations

from typing import Any

from twisted.logger import globalLogPublisher
from twisted.words.protocols.jabber.jid import JID
from twisted.words.xish import domish

from minixmpp.c2s.sm import StreamManagement
from minixmpp.im.message import BOUNCED, DELIVERED, DROPPED, OFFLINE, MessageDelivery, Outcome
from minixmpp.sessions import Session, SessionManager
from minixmpp.storage.memory import MemoryAccountStore


class Stream:
    """Stands in for a c2s authenticator: records what the session is sent."""

    def __init__(self) -> None:
        self.sent: list[domish.Element] = []

    def send(self, stanza: domish.Element) -> None:
        self.sent.append(stanza)

    def request_ack(self) -> None:
        pass


class Offline:
    def __init__(self, room: int) -> None:
        self.room = room
        self.taken: list[domish.Element] = []

    def take(self, stanza: domish.Element, user: str) -> bool:
        if not self.accepts(stanza, user):
            return False
        self.write(stanza, user)
        return True

    def accepts(self, stanza: domish.Element, user: str) -> bool:
        return len(self.taken) < self.room

    def write(self, stanza: domish.Element, user: str) -> None:
        self.taken.append(stanza)


class Recorder:
    def __init__(self) -> None:
        self.outcomes: list[Outcome] = []

    def delivered(self, outcome: Outcome) -> None:
        self.outcomes.append(outcome)


def message(mtype: str = "chat", to: str = "alice@localhost") -> domish.Element:
    m = domish.Element((None, "message"))
    m["from"], m["to"], m["type"] = "bob@localhost/desk", to, mtype
    m.addElement("body", content="hi")
    return m


def setup(room: int = 10, stages=()):
    accounts = MemoryAccountStore()
    accounts.create("alice", "pw")
    sessions = SessionManager()
    routed: list[domish.Element] = []
    offline, recorder = Offline(room), Recorder()
    delivery = MessageDelivery(sessions, accounts, routed.append, stages=stages,
                               offline=offline, listeners=(recorder,))
    return delivery, sessions, routed, offline, recorder


def bind(sessions: SessionManager, resource: str, *, hibernated: bool = False) -> Session:
    session = Session(JID(f"alice@localhost/{resource}"), None if hibernated else Stream())
    session.presence = domish.Element((None, "presence"))
    sessions.bind(session)
    return session


def test_live_and_hibernated_targets_are_told_apart() -> None:
    delivery, sessions, _, _, recorder = setup()
    live = bind(sessions, "desk")
    asleep = bind(sessions, "phone", hibernated=True)
    asleep.sm = StreamManagement(True, 300)
    delivery.deliver(message(), JID("alice@localhost"))
    [outcome] = recorder.outcomes
    assert outcome.result == DELIVERED
    assert outcome.delivered == (live,) and outcome.queued == (asleep,)
    assert len(live.stream.sent) == 1 and len(asleep.sm.queue) == 1


def test_offline_bounced_and_dropped_outcomes() -> None:
    delivery, _, routed, offline, recorder = setup(room=1)
    delivery.deliver(message(), JID("alice@localhost"))
    delivery.deliver(message(), JID("alice@localhost"))
    delivery.deliver(message("headline"), JID("alice@localhost"))
    assert [o.result for o in recorder.outcomes] == [OFFLINE, BOUNCED, DROPPED]
    assert len(offline.taken) == 1
    assert [e.getAttribute("type") for e in routed] == ["error"]  # only the bounce


def test_a_stage_can_stop_a_message() -> None:
    class Block:
        def incoming(self, stanza: domish.Element, user: str) -> Outcome | None:
            return Outcome(stanza, user, DROPPED)

    delivery, sessions, _, offline, recorder = setup(stages=(Block(),))
    live = bind(sessions, "desk")
    delivery.deliver(message(), JID("alice@localhost"))
    assert [o.result for o in recorder.outcomes] == [DROPPED]
    assert live.stream.sent == [] and offline.taken == []


def test_a_session_ending_inside_its_send_is_not_a_target() -> None:
    """A hibernated queue that overflows ends the session during the send: the message
    goes on to offline storage once (not also through the ending session's redelivery),
    and the outcome does not name the ended session."""
    delivery, sessions, _, offline, recorder = setup()
    asleep = bind(sessions, "phone", hibernated=True)
    asleep.sm = StreamManagement(True, 300, limit=1)
    asleep.sm.queue.append(message())  # one already queued: the next overflows

    def overflow(session: Session) -> None:
        queued = list(session.sm.queue)
        session.sm.queue.clear()
        sessions.unbind(session)
        delivery.redeliver(session, queued)

    asleep.on_overflow = overflow
    stanza = message()
    delivery.deliver(stanza, JID("alice@localhost"))
    [outcome] = recorder.outcomes
    assert outcome.result == OFFLINE and outcome.targets == ()
    assert len(offline.taken) == 2 and offline.taken.count(stanza) == 1


def test_a_failing_listener_loses_nothing() -> None:
    """The listeners are told in order and the offline copy is written after them; a
    listener that raises is logged, and the others and the offline write still run."""
    class Broken:
        def delivered(self, outcome: Outcome) -> None:
            raise RuntimeError("a bug in one listener")

    accounts = MemoryAccountStore()
    accounts.create("alice", "pw")
    offline, recorder = Offline(10), Recorder()
    seen: list[int] = []

    class Order:
        def delivered(self, outcome: Outcome) -> None:
            seen.append(len(offline.taken))  # the offline copy is not written yet

    delivery = MessageDelivery(SessionManager(), accounts, lambda e: None, offline=offline,
                               listeners=(Order(), Broken(), recorder))
    errors: list[Any] = []
    observer = errors.append
    globalLogPublisher.addObserver(observer)
    try:
        delivery.deliver(message(), JID("alice@localhost"))
    finally:
        globalLogPublisher.removeObserver(observer)
    assert seen == [0]
    assert [o.result for o in recorder.outcomes] == [OFFLINE]
    assert len(offline.taken) == 1
    assert any(e.get("log_failure") is not None for e in errors)
