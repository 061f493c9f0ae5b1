"""Publishing notifications to App Servers and handling their replies (XEP-0357 §7).

Rules: ``shared/specs/push-rules.md`` ("The notification", "App Server replies").
"""

from __future__ import annotations

import itertools
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from twisted.logger import Logger
from twisted.words.protocols.jabber import error
from twisted.words.xish import domish
from wokkel.pubsub import NS_PUBSUB
from wokkel.subprotocols import XMPPHandler

from minixmpp.forms import NS_X_DATA
from minixmpp.im import mam
from minixmpp.im.message import DELIVERED, OFFLINE, Outcome
from minixmpp.im.presence import Available
from minixmpp.push import NS_PUSH, NS_SUMMARY, policy
from minixmpp.sessions import Session, SessionManager
from minixmpp.stanza import parse
from minixmpp.storage.interfaces import IPushStore, IRosterStore, PushRegistration

#: Conditions that count as transient (push-rules "App Server replies").
TRANSIENT = {"remote-server-timeout", "service-unavailable", "internal-server-error"}
PLACEHOLDER = "New message"


def _form(form_type: str, fields: dict[str, str]) -> domish.Element:
    """A submitted data form (XEP-0004) with a hidden FORM_TYPE (XEP-0068)."""
    x = domish.Element((NS_X_DATA, "x"))
    x["type"] = "submit"
    hidden = x.addElement("field")
    hidden["var"], hidden["type"] = "FORM_TYPE", "hidden"
    hidden.addElement("value", content=form_type)
    for var, value in fields.items():
        field = x.addElement("field")
        field["var"] = var
        field.addElement("value", content=value)
    return x


@dataclass
class Pending:
    user: str
    jid: str
    node: str | None
    timeout: Any


class PushNotifier(XMPPHandler):
    """Decides per message (``policy``), publishes, and tracks each reply by IQ id."""

    log = Logger()

    def __init__(self, domain: str, store: IPushStore, rosters: IRosterStore,
                 sessions: SessionManager, reactor: Any, *, privacy: bool = False,
                 max_errors: int = 16, timeout: float = 20,
                 csi_inactive: bool = False, on_archive: bool = False,
                 on_event: Callable[[str, str, PushRegistration, str], None] | None = None
                 ) -> None:
        super().__init__()
        self.domain = domain
        self.store = store
        self.rosters = rosters
        self.sessions = sessions
        self.reactor = reactor
        self.privacy = privacy
        self.max_errors = max_errors
        self.timeout = timeout
        self.csi_inactive = csi_inactive
        self.on_archive = on_archive
        self.pending: dict[str, Pending] = {}
        #: push-worthy messages since the account was last plainly available
        self.unseen: Counter[str] = Counter()
        self._ids = itertools.count(1)
        #: called as (event, user, registration, detail): see PushEnableHandler.on_event
        self.on_event: list[Callable[[str, str, PushRegistration, str], None]] = (
            [on_event] if on_event is not None else [])

    def connectionInitialized(self) -> None:
        self.xmlstream.addObserver("/iq[@type='result']", self._reply)
        self.xmlstream.addObserver("/iq[@type='error']", self._reply)

    def cancel_all(self) -> None:
        """Forget every reply still awaited (server shutdown)."""
        for pending in self.pending.values():
            if pending.timeout.active():
                pending.timeout.cancel()
        self.pending.clear()

    # -- deciding ------------------------------------------------------------------------

    def delivered(self, outcome: Outcome) -> None:
        """A delivery listener (``im.message``): a message delivered to sessions or
        stored offline pushes where the rules say."""
        if outcome.result in (DELIVERED, OFFLINE):
            self.message(outcome.stanza, outcome.user, offline=outcome.offline,
                         targets=list(outcome.targets))

    def available(self, event: Available) -> None:
        """A presence listener: the push message count starts again once the account is
        back (fetched its offline messages, or plainly available)."""
        if event.flushed or policy.plainly_available(event.session):
            self.back(event.session)

    def message(self, stanza: domish.Element, user: str, *, offline: bool,
                targets: list[Session]) -> None:
        """A message for ``user`` was delivered to ``targets`` or stored offline: push
        where the rules say."""
        if not policy.push_worthy(stanza, user):
            return
        registrations = self.store.registrations(user)
        if not registrations:
            return
        # Rule 2: the first push-worthy message queued for a hibernated session pushes;
        # later ones wait until the session was resumed (Prosody's batching).
        asleep = [t for t in targets
                  if t.hibernated or (self.csi_inactive and t.csi == "inactive")]
        hibernated = any(not t.asleep_pushed for t in asleep)
        for t in asleep:
            t.asleep_pushed = True
        chosen = policy.reasons(registrations, self.sessions.of(user), offline=offline,
                                hibernated=hibernated,
                                archived=self.on_archive and mam.archivable(stanza))
        if not chosen:
            return
        self.unseen[user] += 1
        for registration, reason in chosen:
            self.publish(user, registration, stanza, reason)

    def back(self, session: Session) -> None:
        """The account is back (plainly available, or fetched its offline messages)."""
        self.unseen.pop(session.user, None)

    # -- publishing (XEP-0357 §7) ---------------------------------------------------------

    def summary(self, user: str, stanza: domish.Element) -> dict[str, str]:
        """The ``urn:xmpp:push:summary`` fields (XEP-0357 §7), in order."""
        fields = {"message-count": str(self.unseen[user])}
        pending = sum(1 for item in self.rosters.items(user) if item.pending_in)
        if pending:
            fields["pending-subscription-count"] = str(pending)
        if self.privacy:
            fields["last-message-body"] = PLACEHOLDER
            return fields
        fields["last-message-sender"] = stanza["from"]
        body = policy.body_of(stanza)
        if body is None and policy.encrypted(stanza):
            body = PLACEHOLDER
        if body is not None:
            fields["last-message-body"] = body
        return fields

    def publish(self, user: str, registration: PushRegistration, stanza: domish.Element,
                reason: str) -> None:
        iq = domish.Element((None, "iq"))
        iq["type"] = "set"
        iq["from"] = self.domain
        iq["to"] = registration.jid
        iq["id"] = f"push-{next(self._ids)}"
        pubsub = iq.addElement((NS_PUBSUB, "pubsub"))
        publish = pubsub.addElement("publish")
        if registration.node is not None:
            publish["node"] = registration.node
        fields = self.summary(user, stanza)
        publish.addElement("item").addElement((NS_PUSH, "notification")).addChild(
            _form(NS_SUMMARY, fields))
        if registration.publish_options:
            pubsub.addElement("publish-options").addChild(
                parse(registration.publish_options, neutral=False))
        timeout = self.reactor.callLater(self.timeout, self._timed_out, iq["id"])
        self.pending[iq["id"]] = Pending(user, registration.jid, registration.node, timeout)
        self.xmlstream.send(iq)
        # One line per publish, rendered here: cheaper than a multi-field format.
        self.log.info("{line}", line=f"push publish {iq['id']} to {registration.jid} "
                      f"node={registration.node} for {user} ({reason}): {fields}")

    # -- replies (XEP-0357 §7.1) -----------------------------------------------------------

    def _reply(self, iq: domish.Element) -> None:
        pending = self.pending.pop(iq.getAttribute("id", ""), None)
        if pending is None or iq.getAttribute("from") != pending.jid:
            if pending is not None:  # a reply from someone else: keep waiting
                self.pending[iq["id"]] = pending
            return
        iq.handled = True
        if pending.timeout.active():
            pending.timeout.cancel()
        if iq["type"] == "result":
            self._update(pending, lambda r: (setattr(r, "errors", 0),
                                             setattr(r, "notifications", r.notifications + 1)))
            return
        failure = error.exceptionFromStanza(iq)
        condition = getattr(failure, "condition", "undefined-condition")
        transient = getattr(failure, "type", None) == "wait" or condition in TRANSIENT
        self._failed(pending, condition, transient)

    def _timed_out(self, iq_id: str) -> None:
        pending = self.pending.pop(iq_id, None)
        if pending is not None:
            self._failed(pending, "timeout", transient=True)

    def _failed(self, pending: Pending, condition: str, transient: bool) -> None:
        registration = self._find(pending)
        if registration is None:
            return
        registration.last_error = condition
        if transient:
            registration.errors += 1
            if registration.errors < self.max_errors:
                self.store.put(pending.user, registration)
                self.log.info("push error from {service} node={node} for {user}: {condition} "
                              "(transient, {n} of {max} in a row)", service=pending.jid,
                              node=pending.node, user=pending.user, condition=condition,
                              n=registration.errors, max=self.max_errors)
                return
            why = f"{registration.errors} transient errors in a row, last {condition}"
        else:
            why = f"permanent error {condition}"
        self.store.remove(pending.user, registration.jid, registration.node)
        self.log.info("push auto-disabled: {user} → {service} node={node} ({why})",
                      user=pending.user, service=pending.jid, node=pending.node, why=why)
        for callback in self.on_event:
            callback("auto-disabled", pending.user, registration, why)

    def _find(self, pending: Pending) -> PushRegistration | None:
        for registration in self.store.registrations(pending.user):
            if (registration.jid, registration.node) == (pending.jid, pending.node):
                return registration
        return None

    def _update(self, pending: Pending, change: Callable[[PushRegistration], Any]) -> None:
        registration = self._find(pending)
        if registration is not None:
            change(registration)
            self.store.put(pending.user, registration)
