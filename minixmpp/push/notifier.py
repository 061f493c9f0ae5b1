"""Publishing notifications to App Servers (XEP-0357 §7).

Rules: ``shared/specs/push-rules.md`` ("The notification", "App Server replies"), the
extensions of ``tigase-push-extensions.md``, and the active
:class:`~minixmpp.push.profiles.Profile`. Sleeping sessions (push rule 2) are
``push/sleep.py``'s, the App Servers' answers ``push/replies.py``'s, the summary form
``push/summary.py``'s.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from typing import Any

from twisted.internet import defer
from twisted.logger import Logger
from twisted.words.xish import domish
from wokkel.subprotocols import XMPPHandler

from minixmpp import ns
from minixmpp.forms import child, submit
from minixmpp.im.message import BOUNCED, DELIVERED, OFFLINE, Outcome
from minixmpp.im.presence import Available
from minixmpp.iqtracker import IQTracker
from minixmpp.push import extensions as ext
from minixmpp.push import message as push_message
from minixmpp.push import policy, summary
from minixmpp.push.decisions import Decisions
from minixmpp.push.message import PushMessage
from minixmpp.push.profiles import PROFILES, Profile
from minixmpp.push.queue import important as is_important
from minixmpp.push.replies import Replies
from minixmpp.push.sleep import Sleep
from minixmpp.sessions import Session, SessionManager
from minixmpp.stanza import parse
from minixmpp.storage.interfaces import IPushStore, IRosterStore, PushRegistration

#: an App Server's hook (MongooseIM's virtual pubsub host): (user, registration,
#: fields) → a Deferred firing with "result" or an error condition
Hook = Callable[[str, PushRegistration, dict[str, str]], "defer.Deferred[str]"]


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
                 decisions: Decisions | None = None, ack_delay: float = 0,
                 count_reset: bool = False) -> None:
        super().__init__()
        self.domain = domain
        self.store = store
        self.rosters = rosters
        self.sessions = sessions
        self.reactor = reactor
        self.privacy = privacy
        self.timeout = timeout
        self.profile = profile
        self.on_archive = on_archive  # the server ORs in the profile's choice
        self.groupchat = groupchat
        #: the account's nickname in a room (MUC can plug its own lookup in)
        self.nick: ext.NickLookup = nick or (lambda _user, _room: None)
        self.log_publishes = log_publishes
        #: the message-count 0 push once the account fetched its offline messages
        self.count_reset = count_reset or profile.count_reset
        #: publishes waiting for the App Server's reply (``--push-timeout``)
        self.requests = IQTracker(reactor, lambda iq: self.xmlstream.send(iq), "push",
                                  timeout)
        #: push-worthy messages since the account was last plainly available
        self.unseen: Counter[str] = Counter()
        #: push rule 2: the sleeping sessions (``push/sleep.py``)
        self.sleep = Sleep(self, csi_inactive=csi_inactive, ack_delay=ack_delay)
        #: called as (event, user, registration, detail): see PushEnableHandler.on_event
        self.on_event = on_event
        #: the App Servers' answers, per the profile's error policy
        self.replies = Replies(store, profile, max_errors, on_event)
        #: every registration's decision per message (``push/decisions.py``)
        self.decisions = decisions or Decisions(0, reactor.seconds, profile.name)
        #: an App Server's affiliation change (XEP-0357 §8), when the profile honours it
        self.remote: Callable[[domish.Element, str, PushMessage], None] | None = None
        #: a virtual pubsub host (MongooseIM): its JID and the hook that takes pushes
        self.virtual: tuple[str, Hook] | None = None

    @property
    def max_errors(self) -> int:
        return self.replies.max_errors

    def connectionInitialized(self) -> None:
        self.xmlstream.addObserver("/iq[@type='result']", self._reply)
        self.xmlstream.addObserver("/iq[@type='error']", self._reply)

    def cancel_all(self) -> None:
        """Forget every reply still awaited and every batch (server shutdown)."""
        self.requests.cancel_all()
        self.sleep.cancel_all()

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
        elif outcome.result == BOUNCED:
            self._refused(outcome)

    def _refused(self, outcome: Outcome) -> None:
        """A message bounced before any session or the offline store took it: no push,
        and the decision says why (a blocked sender, or nowhere to keep it)."""
        m = push_message.read(outcome.stanza, outcome.user)
        if m is not None and m.pubsub is not None and self.remote is not None:
            self.remote(outcome.stanza, outcome.user, m)
        if not self.decisions.on:
            return
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
        back (fetched its offline messages, or plainly available); with the count
        reset, a message-count 0 push says so (Tigase's
        notifyOfflineMessagesRetrieved)."""
        if event.flushed or policy.plainly_available(event.session):
            self.back(event.session)
        if event.flushed and self.count_reset:
            user = event.session.user
            registrations = self.store.registrations(user)
            if registrations:
                self.notify(user, registrations, policy.COUNT_RESET,
                            f"{event.session.jid.full()} fetched {event.flushed} offline "
                            "message(s)", count=0)

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
        if m.pubsub is not None and self.remote is not None:
            self.remote(stanza, user, m)
        why = policy.unworthy(m)
        if why is not None:
            if self.decisions.on:
                self.decisions.record(user, policy.nothing(
                    registrations, policy.NOT_PUSH_WORTHY, why), stanza.getAttribute("id"))
            return
        if m.call is not None and m.call.action == "propose" and self.profile.calls == "every":
            self.decide(m, stanza, user, registrations, offline=offline, call=True)
        elif not targets or not self.sleep.message(m, stanza, user, registrations, targets,
                                                   offline=offline):
            self.decide(m, stanza, user, registrations, offline=offline)

    def decide(self, m: PushMessage, stanza: domish.Element, user: str,
               registrations: list[PushRegistration], *, offline: bool,
               hibernated: str | None = None, again: str | None = None,
               sleep: str = policy.HIBERNATED, call: bool = False) -> None:
        """Each registration's verdict (``policy.decide``, then the filters), recorded;
        a publish for each that pushes."""
        verdicts = policy.decide(registrations, self.sessions.of(user), offline=offline,
                                 hibernated=hibernated, again=again,
                                 archived=self.on_archive and m.archived,
                                 profile=self.profile, sleep=sleep, call=call)
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
        important = is_important(stanza) if self.profile.all_fields else True
        for v in chosen:
            self.publish(user, v.registration, stanza, v.rule, m, important=important)

    def push(self, user: str, verdicts: list[policy.Verdict], stanza: domish.Element,
             m: PushMessage, *, important: bool = True) -> None:
        """Record ``verdicts`` (all pushed) and publish each (a sleeping queue's pushes)."""
        if self.decisions.on:
            self.decisions.record(user, verdicts, stanza.getAttribute("id"))
        for v in verdicts:
            self.publish(user, v.registration, stanza, v.rule, m, important=important)

    def notify(self, user: str, registrations: list[PushRegistration], rule: str,
               detail: str, *, count: int | None = None, extra: domish.Element | None = None,
               stanza_id: str | None = None, track: bool = True) -> None:
        """A push for no message (a wake, the start, a ping, a count reset, an account
        removal) to each of ``registrations``, recorded as ``rule``."""
        if self.decisions.on:
            self.decisions.record(user, [policy.Verdict(r, True, rule, detail)
                                         for r in registrations], stanza_id)
        for r in registrations:
            self.publish(user, r, None, rule, count=count, extra=extra, track=track)

    def _subscription(self, user: str) -> Callable[[str], str | None]:
        def subscription(contact: str) -> str | None:
            item = self.rosters.get(user, contact)
            return item.subscription if item is not None else None
        return subscription

    def back(self, session: Session) -> None:
        """The account is back (plainly available, or fetched its offline messages)."""
        self.unseen.pop(session.user, None)

    def forget(self, user: str) -> None:
        """The account is deleted: its unseen count goes with it."""
        self.unseen.pop(user, None)

    # -- publishing (XEP-0357 §7) ---------------------------------------------------------

    def summary(self, user: str, m: PushMessage | None, *, count: int | None = None,
                important: bool = True) -> dict[str, str]:
        """The ``urn:xmpp:push:summary`` fields (XEP-0357 §7), in order, per profile."""
        unseen = count if count is not None else (
            max(self.unseen[user], 1) if m is not None else self.unseen[user])
        return summary.fields(self.profile, m, unseen=unseen,
                              pending=self.rosters.pending_in(user), privacy=self.privacy,
                              important=important)

    def publish(self, user: str, registration: PushRegistration,
                stanza: domish.Element | None, reason: str, m: PushMessage | None = None,
                *, important: bool = True, count: int | None = None,
                extra: domish.Element | None = None, track: bool = True
                ) -> defer.Deferred[str | None]:
        """Publish one notification (XEP-0357 §7) for ``stanza`` (None: for no message);
        fires with how the App Server answered: ``"result"``, an error condition,
        ``"timeout"`` (None at shutdown)."""
        if m is None and stanza is not None:
            m = push_message.read(stanza, user)
        virtual = self.virtual
        if virtual is not None and registration.jid == virtual[0]:
            return self._hooked(user, registration, reason, virtual[1],
                                self.summary(user, m, count=count, important=important))
        e = (ext.Extensions.from_dict(registration.extensions)
             if m is not None and self.profile.extensions and registration.extensions
             else None)
        iq = domish.Element((None, "iq"), None, {"type": "set", "from": self.domain,
                                                 "to": registration.jid,
                                                 "id": self.requests.new_id()})
        pubsub = child(iq, ns.PUBSUB, "pubsub")
        publish = child(pubsub, ns.PUBSUB, "publish", None if registration.node is None
                        else {"node": registration.node})
        notification = child(child(publish, ns.PUBSUB, "item"), ns.PUSH, "notification")
        fields: Any
        if m is not None and e is not None and e.encrypt:
            unread = max(self.unseen[user], 1)
            notification.addChild(ext.encrypted_element(m, unread, e.encrypt))
            fields = "encrypted"
        elif m is None and not self.profile.bare_form:
            fields = {}  # an empty <notification/> (ejabberd)
        else:
            profile = self.profile  # the summary built here: the push path's calls counted
            fields = summary.fields(profile, m, unseen=count if count is not None else max(
                self.unseen[user], 1 if m is not None else 0),
                pending=self.rosters.pending_in(user), privacy=self.privacy,
                important=important)
            notification.addChild(
                summary.form(profile, fields) if profile.all_fields else submit(
                    ns.PUSH_SUMMARY, fields, profile.form_type,
                    summary.LABELS if profile.labels else None))
            if e is not None and e.jingle and m is not None and m.call is not None:
                notification.addChild(ext.jingle_element(m))
        if e is not None and e.priority and m is not None:
            notification.addChild(ext.priority_element(m))
        if extra is not None:
            notification.addChild(extra)
        if registration.publish_options:
            child(pubsub, ns.PUBSUB, "publish-options").addChild(
                parse(registration.publish_options, neutral=False))
        key = (user, registration.jid, registration.node)
        answered = self.requests.request(iq)
        if track:
            answered.addCallbacks(self.replies.answered, self.replies.failed, (key,), None,
                                  (key,))
        else:  # the answer is not looked at (ejabberd's IgnoreResponse)
            answered.addCallbacks(lambda _iq: "result", _condition)
        if self.log_publishes:
            # One line per publish, rendered here: cheaper than a multi-field format.
            self.log.info("{line}", line=f"push publish {iq['id']} to {registration.jid} "
                          f"node={registration.node} for {user} ({reason}): {fields}")
        return answered

    def _hooked(self, user: str, registration: PushRegistration, reason: str, hook: Hook,
                fields: dict[str, str]) -> defer.Deferred[str | None]:
        """MongooseIM's publish_via_hook: no IQ; the hook's ``item-not-found`` (its
        device_not_registered) disables the node, any other answer is ignored."""
        if self.log_publishes:
            self.log.info("{line}", line=f"push hook {registration.jid} node="
                          f"{registration.node} for {user} ({reason}): {fields}")
        key = (user, registration.jid, registration.node)

        def answered(condition: str) -> str:
            if condition == "result":
                self.replies.answered(None, key)
            elif condition == "item-not-found":
                self.replies.error(key, condition, "cancel", policy="cancel")
            return condition

        return hook(user, registration, fields).addCallback(answered)

    # -- replies (XEP-0357 §7.1, push/replies.py) ---------------------------------------------

    def reply(self, iq: domish.Element) -> bool:
        """Handle ``iq`` if it answers one of our publishes (True), else leave it."""
        return self.requests.answer(iq)

    def _reply(self, iq: domish.Element) -> None:
        if self.reply(iq):
            iq.handled = True


def _condition(failure: Any) -> str | None:
    if failure.check(defer.CancelledError):
        return None
    if failure.check(defer.TimeoutError):
        return "timeout"
    return getattr(failure.value, "condition", "undefined-condition")


def _room_copy(stanza: domish.Element) -> bool:
    """A groupchat message addressed to a bare JID (a room's copy for a member)."""
    if stanza.getAttribute("type") != "groupchat":
        return False
    to = stanza.getAttribute("to") or ""
    return "/" not in to
