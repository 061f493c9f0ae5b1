"""Publishing notifications to App Servers and handling their replies (XEP-0357 §7).

Rules: ``shared/specs/push-rules.md`` ("The notification", "App Server replies"), the
extensions of ``tigase-push-extensions.md``, and the active
:class:`~minixmpp.push.profiles.Profile`. Push "rule 2" state (which sleeping session
already caused a push) lives here and nowhere else.
"""

from __future__ import annotations

import weakref
from collections import Counter
from collections.abc import Callable
from typing import Any

from twisted.internet import defer
from twisted.logger import Logger
from twisted.python.failure import Failure
from twisted.words.xish import domish
from wokkel.subprotocols import XMPPHandler

from minixmpp import ns
from minixmpp.forms import child, submit
from minixmpp.im.message import BOUNCED, DELIVERED, OFFLINE, Outcome
from minixmpp.im.presence import Available
from minixmpp.iqtracker import IQTracker
from minixmpp.push import extensions as ext
from minixmpp.push import message as push_message
from minixmpp.push import policy
from minixmpp.push.decisions import Decisions
from minixmpp.push.message import PushMessage
from minixmpp.push.profiles import PROFILES, Profile
from minixmpp.sessions import Session, SessionManager
from minixmpp.stanza import parse
from minixmpp.storage.interfaces import IPushStore, IRosterStore, PushRegistration

#: Conditions that count as transient (push-rules "App Server replies").
TRANSIENT = {"remote-server-timeout", "service-unavailable", "internal-server-error"}
PLACEHOLDER = "New message"
LABELS = {"message-count": "Message count", "pending-subscription-count":
          "Pending subscription requests", "last-message-sender": "Last message sender",
          "last-message-body": "Last message body"}


class PushNotifier(XMPPHandler):
    """Decides per message (``policy``), publishes, and tracks each reply by IQ id."""

    log = Logger()

    def __init__(self, domain: str, store: IPushStore, rosters: IRosterStore,
                 sessions: SessionManager, reactor: Any, *, privacy: bool = False,
                 max_errors: int = 16, timeout: float = 20,
                 csi_inactive: bool = False, on_archive: bool = False,
                 profile: Profile = PROFILES["minixmpp"], groupchat: str = "never",
                 nick: ext.NickLookup | None = None, log_publishes: bool = True,
                 on_event: Callable[[str, str, PushRegistration, str], None] | None = None,
                 decisions: Decisions | None = None) -> None:
        super().__init__()
        self.domain = domain
        self.store = store
        self.rosters = rosters
        self.sessions = sessions
        self.reactor = reactor
        self.privacy = privacy
        self.max_errors = max_errors
        self.timeout = timeout
        self.profile = profile
        self.csi_inactive = csi_inactive or profile.csi_inactive
        self.on_archive = on_archive  # the server ORs in the profile's choice
        self.groupchat = groupchat
        #: the account's nickname in a room (MUC can plug its own lookup in)
        self.nick: ext.NickLookup = nick or (lambda _user, _room: None)
        self.log_publishes = log_publishes
        #: publishes waiting for the App Server's reply (``--push-timeout``)
        self.requests = IQTracker(reactor, lambda iq: self.xmlstream.send(iq), "push",
                                  timeout)
        #: push-worthy messages since the account was last plainly available
        self.unseen: Counter[str] = Counter()
        #: rule 2: a sleeping session → the sleep it already pushed for
        self._pushed_asleep: weakref.WeakKeyDictionary[Session, Any] = \
            weakref.WeakKeyDictionary()
        #: hibernation "timer" batching (Prosody): session → (timer, latest message)
        self._batches: weakref.WeakKeyDictionary[Session, Any] = weakref.WeakKeyDictionary()
        #: called as (event, user, registration, detail): see PushEnableHandler.on_event
        self.on_event = on_event
        #: every registration's decision per message (``push/decisions.py``)
        self.decisions = decisions or Decisions(0, reactor.seconds, profile.name)

    def connectionInitialized(self) -> None:
        self.xmlstream.addObserver("/iq[@type='result']", self._reply)
        self.xmlstream.addObserver("/iq[@type='error']", self._reply)

    def cancel_all(self) -> None:
        """Forget every reply still awaited and every batch (server shutdown)."""
        self.requests.cancel_all()
        for timer, *_ in list(self._batches.values()):
            if timer.active():
                timer.cancel()
        self._batches.clear()

    # -- deciding ------------------------------------------------------------------------

    def delivered(self, outcome: Outcome) -> None:
        """A delivery listener (``im.message``): a message delivered to sessions or
        stored offline pushes where the rules say."""
        if outcome.result in (DELIVERED, OFFLINE):
            self.message(outcome.stanza, outcome.user, offline=outcome.offline,
                         targets=list(outcome.targets))
        elif outcome.result == BOUNCED and _room_copy(outcome.stanza):
            # A room's copy for a member with no joined occupant (minixmpp.muc, as
            # Prosody's mod_muc_offline_delivery and Tigase): no resource takes it
            # (RFC 6121 §8.5.2), so it pushes as for an account not in the room —
            # offline (rule 1) without a connected resource, else rule 2 or 3.
            sessions = self.sessions.of(outcome.user)
            self.message(outcome.stanza, outcome.user,
                         offline=not any(s.available for s in sessions),
                         targets=[s for s in sessions if s.hibernated])
        elif outcome.result == BOUNCED and self.decisions.on:
            self._refused(outcome)

    def _refused(self, outcome: Outcome) -> None:
        """A message bounced before any session or the offline store took it: no push,
        and the decision says why (a blocked sender, or nowhere to keep it)."""
        m = push_message.read(outcome.stanza, outcome.user)
        registrations = self.store.registrations(outcome.user) if m is not None else ()
        if not registrations or m is None or policy.unworthy(m) is not None:
            return
        if outcome.reason == "blocked":
            verdicts = policy.nothing(registrations, policy.BLOCKED,
                                      f"{m.sender_bare} is blocked: the message was bounced")
        else:
            verdicts = policy.nothing(registrations, policy.BOUNCED,
                                      "no resource took the message and offline storage "
                                      "did not (off, or the account's queue is full)")
        self.decisions.record(outcome.user, verdicts, outcome.stanza.getAttribute("id"))

    def available(self, event: Available) -> None:
        """A presence listener: the push message count starts again once the account is
        back (fetched its offline messages, or plainly available)."""
        if event.flushed or policy.plainly_available(event.session):
            self.back(event.session)

    def _asleep(self, session: Session) -> Any:
        """The current sleep of ``session`` (a token), or None while it is awake:
        hibernated (one token per hibernation), or CSI-inactive when that counts."""
        if session.hibernated:
            return ("hibernated", session.sm.timer if session.sm is not None else None)
        if self.csi_inactive and session.csi == "inactive":
            return ("inactive", session.stream)
        return None

    def message(self, stanza: domish.Element, user: str, *, offline: bool,
                targets: list[Session]) -> None:
        """A message for ``user`` was delivered to ``targets`` or stored offline: push
        where the rules say, and record each registration's decision."""
        registrations = self.store.registrations(user)
        if not registrations:
            return  # the common case, and nothing to decide: read nothing
        m = push_message.read(stanza, user)
        if m is None:
            return
        why = policy.unworthy(m)
        if why is not None:
            if self.decisions.on:
                self.decisions.record(user, policy.nothing(
                    registrations, policy.NOT_PUSH_WORTHY, why), stanza.getAttribute("id"))
            return
        # Rule 2: per the profile, the first message queued for a sleeping session
        # pushes and later ones wait for it to wake ("first"), every one pushes
        # ("every"), or they are batched on a timer ("timer").
        hibernated = again = None
        batched = False
        for target in targets:
            sleep = self._asleep(target)
            if sleep is None:
                self._pushed_asleep.pop(target, None)
                continue
            mode = self.profile.hibernation
            if mode == "every":
                hibernated = target.jid.full()
            elif mode == "timer":
                self._batch(target, stanza, user)
                batched = True
                continue
            elif self._pushed_asleep.get(target) != sleep:
                self._pushed_asleep[target] = sleep
                hibernated = target.jid.full()
            else:
                again = target.jid.full()
        if batched:
            # the batch decides when its timer fires
            if self.decisions.on:
                self.decisions.record(user, policy.nothing(
                    registrations, policy.BATCHED, f"batched for "
                    f"{self.profile.batch_seconds:g} s: one push for the latest message"),
                    stanza.getAttribute("id"))
            return
        self._decide(m, stanza, user, registrations, offline=offline, hibernated=hibernated,
                     again=again)

    def _decide(self, m: PushMessage, stanza: domish.Element, user: str,
                registrations: list[PushRegistration], *, offline: bool,
                hibernated: str | None, again: str | None = None) -> None:
        verdicts = policy.decide(registrations, self.sessions.of(user), offline=offline,
                                 hibernated=hibernated, again=again,
                                 archived=self.on_archive and m.archived,
                                 profile=self.profile)
        context: policy.Context | None = None
        for i, v in enumerate(verdicts):
            if v.pushed and policy.filtered(v.registration, m):
                if context is None:
                    context = policy.Context(user, self.profile, self._subscription(user),
                                             self.groupchat, self.nick)
                stop = policy.stopped(v.registration, m, context)
                if stop is not None:
                    verdicts[i] = policy.Verdict(v.registration, False, *stop)
        if self.decisions.on:
            self.decisions.record(user, verdicts, stanza.getAttribute("id"))
        chosen = [v for v in verdicts if v.pushed]
        if not chosen:
            return
        if policy.push_worthy(m) or m.type == "groupchat":
            self.unseen[user] += 1
        for v in chosen:
            self.publish(user, v.registration, stanza, v.rule, m)

    def _subscription(self, user: str) -> Callable[[str], str | None]:
        def subscription(contact: str) -> str | None:
            item = self.rosters.get(user, contact)
            return item.subscription if item is not None else None
        return subscription

    def _batch(self, session: Session, stanza: domish.Element, user: str) -> None:
        """Prosody's batching: the first message queued for a sleeping session starts a
        timer; when it fires, one push for the latest message."""
        batch = self._batches.get(session)
        if batch is not None and batch[0].active():
            batch[1] = stanza
            return
        timer = self.reactor.callLater(self.profile.batch_seconds, self._flush, session)
        self._batches[session] = [timer, stanza, user]

    def _flush(self, session: Session) -> None:
        batch = self._batches.pop(session, None)
        if batch is None or self._asleep(session) is None:
            return
        _, stanza, user = batch
        m = push_message.read(stanza, user)
        registrations = self.store.registrations(user)
        if m is not None and registrations:
            self._decide(m, stanza, user, registrations, offline=False,
                         hibernated=f"{session.jid.full()} (batched)")

    def back(self, session: Session) -> None:
        """The account is back (plainly available, or fetched its offline messages)."""
        self.unseen.pop(session.user, None)

    def forget(self, user: str) -> None:
        """The account is deleted: its unseen count goes with it."""
        self.unseen.pop(user, None)

    # -- publishing (XEP-0357 §7) ---------------------------------------------------------

    def summary(self, user: str, m: PushMessage) -> dict[str, str]:
        """The ``urn:xmpp:push:summary`` fields (XEP-0357 §7), in order, per profile."""
        fields: dict[str, str] = {}
        count = self.profile.message_count
        if count == "unseen":
            fields["message-count"] = str(max(self.unseen[user], 1))
        elif count == "one":
            fields["message-count"] = "1"
        pending = self.rosters.pending_in(user)
        if pending or self.profile.empty_pending_count:
            fields["pending-subscription-count"] = str(pending) if pending else ""
        if self.privacy:
            fields["last-message-body"] = PLACEHOLDER
            return fields
        fields["last-message-sender"] = m.sender
        body = m.body
        if body is None and m.encrypted:
            body = PLACEHOLDER
        if body is not None:
            fields["last-message-body"] = body
        return fields

    def publish(self, user: str, registration: PushRegistration, stanza: domish.Element,
                reason: str, m: PushMessage | None = None) -> defer.Deferred[str | None]:
        """Publish one notification (XEP-0357 §7); fires with how the App Server
        answered: ``"result"``, an error condition, ``"timeout"`` (None at shutdown)."""
        m = m or push_message.read(stanza, user)
        assert m is not None
        e = (ext.Extensions.from_dict(registration.extensions)
             if self.profile.extensions and registration.extensions else None)
        iq = domish.Element((None, "iq"), None, {"type": "set", "from": self.domain,
                                                 "to": registration.jid,
                                                 "id": self.requests.new_id()})
        pubsub = child(iq, ns.PUBSUB, "pubsub")
        publish = child(pubsub, ns.PUBSUB, "publish", None if registration.node is None
                        else {"node": registration.node})
        notification = child(child(publish, ns.PUBSUB, "item"), ns.PUSH, "notification")
        if e is not None and e.encrypt:
            unread = max(self.unseen[user], 1)
            notification.addChild(ext.encrypted_element(m, unread, e.encrypt))
            fields: Any = "encrypted"
        else:
            fields = self.summary(user, m)
            notification.addChild(submit(ns.PUSH_SUMMARY, fields, self.profile.form_type,
                                         LABELS if self.profile.labels else None))
            if e is not None and e.jingle and m.call is not None:
                notification.addChild(ext.jingle_element(m))
        if e is not None and e.priority:
            notification.addChild(ext.priority_element(m))
        if registration.publish_options:
            child(pubsub, ns.PUBSUB, "publish-options").addChild(
                parse(registration.publish_options, neutral=False))
        key = (user, registration.jid, registration.node)
        answered = self.requests.request(iq)
        answered.addCallbacks(self._answered, self._failed, (key,), None, (key,))
        if self.log_publishes:
            # One line per publish, rendered here: cheaper than a multi-field format.
            self.log.info("{line}", line=f"push publish {iq['id']} to {registration.jid} "
                          f"node={registration.node} for {user} ({reason}): {fields}")
        return answered

    # -- replies (XEP-0357 §7.1) -----------------------------------------------------------

    def reply(self, iq: domish.Element) -> bool:
        """Handle ``iq`` if it answers one of our publishes (True), else leave it."""
        return self.requests.answer(iq)

    def _reply(self, iq: domish.Element) -> None:
        if self.reply(iq):
            iq.handled = True

    def _answered(self, iq: domish.Element, key: tuple[str, str, str | None]) -> str:
        self._update(key, lambda r: (setattr(r, "errors", 0),
                                     setattr(r, "notifications", r.notifications + 1)))
        return "result"

    def _counts(self, condition: str, kind: str) -> tuple[bool, bool]:
        """(counted, disables at once) for an error, per the profile's error policy."""
        policy_name = self.profile.errors
        if policy_name == "first":
            return True, True
        if policy_name == "non-wait":  # Prosody: wait errors (and timeouts) are ignored
            return kind != "wait", False
        transient = kind == "wait" or condition in TRANSIENT or condition == "timeout"
        return True, not transient

    def _failed(self, failure: Failure, key: tuple[str, str, str | None]) -> str | None:
        """An error reply, or none in time (``timeout``, a ``wait`` error): counted or
        disabling per the profile; returns the condition."""
        if failure.check(defer.CancelledError):
            return None  # shutdown
        if failure.check(defer.TimeoutError):
            condition, kind = "timeout", "wait"
        else:
            condition = getattr(failure.value, "condition", "undefined-condition")
            kind = getattr(failure.value, "type", None) or "cancel"
        self._error(key, condition, kind)
        return condition

    def _error(self, key: tuple[str, str, str | None], condition: str, kind: str) -> None:
        user, service, node = key
        registration = self._find(key)
        if registration is None:
            return
        registration.last_error = condition
        counted, at_once = self._counts(condition, kind)
        if not at_once:
            if counted:
                registration.errors += 1
            if registration.errors < self.max_errors:
                self.store.put(user, registration)
                self.log.info("push error from {service} node={node} for {user}: {condition} "
                              "({how}, {n} of {max})", service=service,
                              node=node, user=user, condition=condition,
                              how="counted" if counted else "not counted",
                              n=registration.errors, max=self.max_errors)
                return
            why = f"{registration.errors} errors, last {condition}"
        else:
            why = f"error {condition}" if self.profile.errors == "first" \
                else f"permanent error {condition}"
        self.store.remove(user, registration.jid, registration.node)
        self.log.info("push auto-disabled: {user} → {service} node={node} ({why})",
                      user=user, service=service, node=node, why=why)
        if self.on_event is not None:
            self.on_event("auto-disabled", user, registration, why)

    def _find(self, key: tuple[str, str, str | None]) -> PushRegistration | None:
        user, service, node = key
        for registration in self.store.registrations(user):
            if (registration.jid, registration.node) == (service, node):
                return registration
        return None

    def _update(self, key: tuple[str, str, str | None],
                change: Callable[[PushRegistration], Any]) -> None:
        registration = self._find(key)
        if registration is not None:
            change(registration)
            self.store.put(key[0], registration)


def _room_copy(stanza: domish.Element) -> bool:
    """A groupchat message addressed to a bare JID (a room's copy for a member)."""
    if stanza.getAttribute("type") != "groupchat":
        return False
    to = stanza.getAttribute("to") or ""
    return "/" not in to
