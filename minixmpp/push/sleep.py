"""Push rule 2 (push-rules "When to push"): a session that sleeps, and what its queue
pushes, per profile.

A session sleeps while it is hibernated (XEP-0198 §5), while it is CSI-inactive with
``--push-csi-inactive``, or, with ``Profile.ack_delayed``, while its connection is still
open but its client left stanzas unacknowledged for ``--push-ack-delay`` seconds
(Prosody's mod_smacks "smacks-ack-delayed" event, which mod_cloud_notify pushes for).
Each sleep is a token: "first" pushes once per token, "every" at each message, "timer"
batches for ``batch_seconds``. The stanzas of a sleep are pushed as the profile's
``queue`` says: push-worthy messages only; Prosody's two kinds, one push for the first
important stanza and one body-less for the first other (``process_stanza_queue``); or
ejabberd's every stanza (``mod_push:c2s_stanza``), a non-message as an empty
notification. This state lives here and nowhere else.
"""

from __future__ import annotations

import weakref
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from twisted.words.xish import domish

from minixmpp import ns
from minixmpp.push import message as push_message
from minixmpp.push import policy
from minixmpp.push.message import PushMessage
from minixmpp.push.queue import important, view
from minixmpp.sessions import Session
from minixmpp.storage.interfaces import PushRegistration

if TYPE_CHECKING:
    from minixmpp.push.notifier import PushNotifier

Token = tuple[str, Any]  # (what kind of sleep, which one)


@dataclass
class Batch:
    """Stanzas of one sleeping session waiting for the batch timer (Prosody's
    push_queue and awaiting_push_timer)."""

    timer: Any
    stanzas: list[domish.Element]
    user: str
    rule: str
    detail: str


def _proposal(stanza: domish.Element) -> bool:
    return any(c.uri == ns.JINGLE_MESSAGE and c.name == "propose" for c in stanza.elements())


class Sleep:
    """The sleeping sessions of one domain, for the notifier."""

    def __init__(self, notifier: PushNotifier, *, csi_inactive: bool = False,
                 ack_delay: float = 0) -> None:
        self.notifier = notifier
        self.profile = notifier.profile
        self.csi_inactive = csi_inactive or self.profile.csi_inactive
        #: ``--push-ack-delay`` (for the decisions' detail)
        self.ack_delay = ack_delay
        #: a sleeping session → the sleep it already pushed for ("first")
        self.pushed: weakref.WeakKeyDictionary[Session, Token] = weakref.WeakKeyDictionary()
        #: "timer" batching: session → its batch
        self.batches: weakref.WeakKeyDictionary[Session, Batch] = weakref.WeakKeyDictionary()
        #: open connections in an ack-delayed episode: session → its token
        self.delayed: weakref.WeakKeyDictionary[Session, Token] = weakref.WeakKeyDictionary()

    def asleep(self, session: Session) -> Token | None:
        """The current sleep of ``session``, or None while it is awake."""
        if session.hibernated:
            return ("hibernated", session.sm.timer if session.sm is not None else None)
        if self.delayed:
            token = self.delayed.get(session)
            if token is not None:
                return token
        if self.csi_inactive and session.csi == "inactive":
            return ("inactive", session.stream)
        return None

    def own(self, session: Session) -> list[PushRegistration]:
        """The registrations a sleeping session's own pushes go to."""
        registrations = self.notifier.store.registrations(session.user)
        if not self.profile.own_registration:
            return registrations
        return [r for r in registrations if r.resource == session.resource]

    # -- a message to sleeping sessions (the notifier's delivery listener) -----------------

    def message(self, m: PushMessage, stanza: domish.Element, user: str,
                registrations: list[PushRegistration], targets: list[Session], *,
                offline: bool) -> bool:
        """Decide for a message delivered to ``targets`` if one of them sleeps (True);
        False when all are awake (the notifier decides as for live sessions)."""
        sleeping = []
        for target in targets:
            sleep = self.asleep(target)
            if sleep is None:
                self.pushed.pop(target, None)
            else:
                sleeping.append((target, sleep))
        if not sleeping:
            return False
        if not self.profile.own_registration:
            self._rule2(m, stanza, user, registrations, sleeping, offline)
            return True
        owners = {t.resource: (t, s) for t, s in sleeping}
        rest = [r for r in registrations if r.resource not in owners]
        if rest:  # not the sleeper's: as for a live session (archived, away, ...)
            self.notifier.decide(m, stanza, user, rest, offline=offline)
        for resource, pair in owners.items():
            own = [r for r in registrations if r.resource == resource]
            if own:
                self._rule2(m, stanza, user, own, [pair], offline)
        return True

    def _rule2(self, m: PushMessage, stanza: domish.Element, user: str,
               registrations: list[PushRegistration], sleeping: list[tuple[Session, Token]],
               offline: bool) -> None:
        mode = self.profile.hibernation
        hibernated = again = batched = None
        rule = policy.HIBERNATED
        for target, sleep in sleeping:
            if sleep[0] == "ack-delayed":
                rule = policy.ACK_DELAYED
            elif mode == "every":
                hibernated = target.jid.full()
                continue
            elif mode == "timer":
                if sleep[0] != "hibernated":  # CSI-inactive: no queue to watch, batch here
                    self._batch(target, stanza, user, policy.HIBERNATED,
                                f"queued for {target.jid.full()}, CSI-inactive (batched)")
                batched = target.jid.full()
                continue
            if self.pushed.get(target) != sleep:
                self.pushed[target] = sleep
                hibernated = target.jid.full()
            else:
                again = target.jid.full()
        n = self.notifier
        if batched is not None and hibernated is None and again is None:
            if n.decisions.on:  # the batch decides when its timer fires
                n.decisions.record(user, policy.nothing(
                    registrations, policy.BATCHED, f"{batched} sleeps: batched for "
                    f"{self.profile.batch_seconds:g} s, one push for the first important "
                    "stanza and one for the first other"), stanza.getAttribute("id"))
            return
        if hibernated is not None and rule == policy.ACK_DELAYED:
            hibernated = self._delayed_detail(hibernated)
        n.decide(m, stanza, user, registrations, offline=offline, hibernated=hibernated,
                 again=again, sleep=rule)

    def _delayed_detail(self, jid: str) -> str:
        return f"{jid} left stanzas unacknowledged for {self.ack_delay:g} s " \
               "(connection still open)"

    # -- the stream management events (push/keepalive.py) ------------------------------------

    def ack_delayed(self, session: Session) -> None:
        """The client of an open connection left stanzas unacknowledged too long: a new
        sleep, and a push for what its queue holds."""
        sm = session.sm
        if sm is None or session.hibernated or not sm.queue:
            return
        token: Token = ("ack-delayed", object())
        self.delayed[session] = token
        user = session.user
        if self.profile.queue == "important":  # Prosody: every queued stanza, batched
            self.pushed[session] = token
            for stanza in sm.queue:
                self._batch(session, stanza, user, policy.ACK_DELAYED,
                            self._delayed_detail(session.jid.full()))
            return
        newest = self._newest(sm.queue, user)
        if newest is not None:
            self.notifier.message(newest, user, offline=False, targets=[session])

    def acked(self, session: Session) -> None:
        """An ``<a/>`` came: the ack-delayed episode, if any, is over."""
        if self.delayed:
            self.delayed.pop(session, None)

    def hibernated(self, session: Session) -> None:
        """A session hibernated with what it never acknowledged (Prosody's
        hibernate_session, ejabberd's c2s_session_pending): pushed at once."""
        if self.delayed:
            self.delayed.pop(session, None)
        queue = list(session.sm.queue) if session.sm is not None else []
        if not self.profile.hibernated or not queue:
            return
        user, kind = session.user, self.profile.queue
        if kind == "important":
            self._process(session, queue, policy.HIBERNATED,
                          f"queued for {session.jid.full()}, unacknowledged when its "
                          "connection was lost")
            return
        found = self._newest(queue, user) if kind == "messages" else \
            next((s for s in queue if self._worthy(s, user)), None)
        if found is not None:
            self.notifier.message(found, user, offline=False, targets=[session])
        elif kind == "every":
            self._unimportant(session, queue[0])

    def queued(self, session: Session, stanza: domish.Element) -> None:
        """A stanza was queued for a hibernated session."""
        kind = self.profile.queue
        if kind == "important":
            self._batch(session, stanza, session.user, policy.HIBERNATED,
                        f"queued for {session.jid.full()}, hibernated (batched)")
        elif kind == "every" and not self._pushing(stanza, session.user):
            self._unimportant(session, stanza)

    def resumed(self, session: Session) -> None:
        """The session is back: its batch is dropped (Prosody's restore_session)."""
        batch = self.batches.pop(session, None)
        if batch is not None and batch.timer.active():
            batch.timer.cancel()

    def cancel_all(self) -> None:
        for batch in list(self.batches.values()):
            if batch.timer.active():
                batch.timer.cancel()
        self.batches.clear()

    # -- what a queue pushes ------------------------------------------------------------------

    def _worthy(self, stanza: domish.Element, user: str) -> bool:
        m = push_message.read(stanza, user) if stanza.name == "message" else None
        return m is not None and policy.push_worthy(m)

    def _pushing(self, stanza: domish.Element, user: str) -> bool:
        """Does the message path push for this stanza (a message that may push)?"""
        m = push_message.read(stanza, user) if stanza.name == "message" else None
        return m is not None and policy.unworthy(m) is None

    def _newest(self, queue: Any, user: str) -> domish.Element | None:
        return next((s for s in reversed(queue) if self._worthy(s, user)), None)

    def _unimportant(self, session: Session, stanza: domish.Element) -> None:
        """ejabberd: a stanza that is no chat message, an empty notification."""
        registrations = self.own(session)
        if registrations:
            self.notifier.notify(session.user, registrations, policy.UNIMPORTANT,
                                 f"{session.jid.full()} queued a {stanza.name} while "
                                 "hibernated", stanza_id=stanza.getAttribute("id"))

    def _batch(self, session: Session, stanza: domish.Element, user: str, rule: str,
               detail: str) -> None:
        batch = self.batches.get(session)
        if batch is None or not batch.timer.active():
            timer = self.notifier.reactor.callLater(self.profile.batch_seconds, self._flush,
                                                    session)
            self.batches[session] = batch = Batch(timer, [], user, rule, detail)
        batch.stanzas.append(stanza)

    def _flush(self, session: Session) -> None:
        batch = self.batches.pop(session, None)
        if batch is None or self.notifier.sessions.get(session.jid) is not session:
            return
        if batch.rule == policy.HIBERNATED and self.asleep(session) is None:
            return  # awake again
        self._process(session, batch.stanzas, batch.rule, batch.detail)

    def _process(self, session: Session, stanzas: list[domish.Element], rule: str,
                 detail: str) -> None:
        """Prosody's process_stanza_queue: one push for the first important stanza, one
        body-less push for the first other one, to the session's own registration."""
        registrations = self.own(session)
        if not registrations:
            return
        user, done = session.user, set()
        for stanza in stanzas:
            if self.profile.calls == "every" and _proposal(stanza):
                continue  # pushed to every registration when it was delivered
            kind = important(stanza)
            if kind in done:
                continue
            m = view(stanza, user)
            if m is None:
                continue
            if kind:
                verdicts = [policy.Verdict(r, True, rule, detail) for r in registrations]
            else:
                what = stanza.name if stanza.name != "message" else "message without a body"
                verdicts = [policy.Verdict(r, True, policy.UNIMPORTANT,
                                           f"{session.jid.full()} queued a {what} "
                                           "(not important): body-less push")
                            for r in registrations]
            self.notifier.push(user, verdicts, stanza, m, important=kind)
            done.add(kind)
            if len(done) == 2:
                break
