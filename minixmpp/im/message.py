"""Message delivery to local accounts (RFC 6121 §8.5.2 bare JID, §8.5.3 full JID): the
delivery pipeline.

A message for an existing account runs through, in this order:

1. the **stages** (:class:`DeliveryStage`), each of which may change the stanza (the
   archive stamps its stanza-id) or stop it by returning an :class:`Outcome` (blocking);
2. the **routing rules**: to the chosen resources (live sessions get it written, hibernated
   XEP-0198 sessions queue it), else to offline storage, else a bounce;
3. the **listeners** (:class:`DeliveryListener`), which receive the :class:`Outcome`, a
   plain value saying what happened (push, carbons, then the archive writes);
4. for an ``offline`` outcome, the offline write: push has gone out first.

``Server`` assembles the sequence from the features' declarations
(``minixmpp.feature``); ``docs/architecture.md`` draws it.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Protocol

from twisted.logger import Logger
from twisted.words.protocols.jabber import jid
from twisted.words.xish import domish

from minixmpp import ns
from minixmpp.sessions import Session, SessionManager
from minixmpp.stanza import bounce
from minixmpp.storage.interfaces import IAccountStore

Route = Callable[[domish.Element], None]

#: Outcome results.
DELIVERED = "delivered"  # written to live sessions and/or queued for hibernated ones
OFFLINE = "offline"  # stored for later (XEP-0160)
BOUNCED = "bounced"  # answered with an error (RFC 6121 §8.5.2.2.1)
DROPPED = "dropped"  # silently discarded (errors, headlines nobody takes, RFC 6121 §8.5)


@dataclass(frozen=True)
class Outcome:
    """What happened to one message for a local account."""

    stanza: domish.Element
    user: str
    result: str
    #: live sessions the message was written to
    delivered: tuple[Session, ...] = ()
    #: hibernated stream-management sessions that queued it (XEP-0198 §5)
    queued: tuple[Session, ...] = ()
    #: what stopped it, for a stage's outcome (``"blocked"``: XEP-0191)
    reason: str = ""

    @property
    def targets(self) -> tuple[Session, ...]:
        """Every session that got the message, live or hibernated."""
        return self.delivered + self.queued

    @property
    def offline(self) -> bool:
        return self.result == OFFLINE


class DeliveryStage(Protocol):
    """Runs before routing; returns an :class:`Outcome` to stop the message (it then
    did whatever the outcome says itself, e.g. bounced), or None to go on."""

    def incoming(self, stanza: domish.Element, user: str) -> Outcome | None: ...


class DeliveryListener(Protocol):
    """Told what happened to every message for an existing account."""

    def delivered(self, outcome: Outcome) -> None: ...


class OfflineStore(Protocol):
    def take(self, stanza: domish.Element, user: str) -> bool: ...

    def accepts(self, stanza: domish.Element, user: str) -> bool: ...

    def write(self, stanza: domish.Element, user: str) -> None: ...


class MessageDelivery:
    """Chooses the resources a message goes to, or what happens when there are none."""

    log = Logger()

    def __init__(self, sessions: SessionManager, accounts: IAccountStore, route: Route, *,
                 stages: Sequence[DeliveryStage] = (), offline: OfflineStore | None = None,
                 listeners: Sequence[DeliveryListener] = ()) -> None:
        self.sessions = sessions
        self.accounts = accounts
        self.route = route
        self.stages = tuple(stages)
        self.offline = offline
        self.listeners = tuple(listeners)
        #: the stanza being written to its targets right now (see :meth:`redeliver`)
        self._sending: domish.Element | None = None
        self._installed = bool(stages or offline or listeners)

    def install(self, *, stages: Sequence[DeliveryStage] = (),
                offline: OfflineStore | None = None,
                listeners: Sequence[DeliveryListener] = ()) -> None:
        """What the features declared, in the order they run (``Server``, once)."""
        if self._installed:
            raise RuntimeError("the delivery pipeline is assembled once")
        self._installed = True
        self.stages = tuple(stages)
        self.offline = offline
        self.listeners = tuple(listeners)

    def deliver(self, stanza: domish.Element, to: jid.JID) -> None:
        mtype = stanza.getAttribute("type") or "normal"
        user = to.user or ""
        if not self.accounts.exists(user):  # §8.5.1
            if mtype not in ("error", "headline"):
                bounce(stanza, "service-unavailable", self.route)
            return
        for stage in self.stages:
            outcome = stage.incoming(stanza, user)
            if outcome is not None:
                return self._tell(outcome)
        outcome = self._route(stanza, to, user, mtype)
        self._tell(outcome)
        if outcome.result == OFFLINE and self.offline is not None:
            # Written after the listeners (push goes first), in the same turn: nothing
            # else runs in between, and no listener reads the offline queue.
            self.offline.write(stanza, user)

    def _route(self, stanza: domish.Element, to: jid.JID, user: str, mtype: str) -> Outcome:
        """RFC 6121 §8.5.2/§8.5.3 for a message to an existing account."""
        if to.resource is not None:  # §8.5.3
            session = self.sessions.get(to)
            if session is not None:
                outcome = self._send(stanza, user, [session])
                if outcome is not None:
                    return outcome
            elif mtype in ("groupchat", "error"):
                return self._bounced(stanza, user) if mtype == "groupchat" else \
                    Outcome(stanza, user, DROPPED)
        # §8.5.2: the bare JID (or a full JID whose resource is gone).
        if mtype == "groupchat":
            return self._bounced(stanza, user)
        if mtype == "error":
            return Outcome(stanza, user, DROPPED)
        if mtype == "headline":
            targets = [s for s in self.sessions.available(user) if s.priority >= 0]
        else:
            targets = self.sessions.for_bare_delivery(user)
        outcome = self._send(stanza, user, targets)
        if outcome is not None:
            return outcome
        if mtype == "headline":
            return Outcome(stanza, user, DROPPED)
        if self.offline is not None and self.offline.accepts(stanza, user):
            return Outcome(stanza, user, OFFLINE)  # written once the listeners are told
        return self._bounced(stanza, user)

    def _send(self, stanza: domish.Element, user: str,
              targets: list[Session]) -> Outcome | None:
        """Write to ``targets``; None when none of them still has the message (a
        hibernated session that overflowed ends during its ``send``)."""
        if not targets:
            return None
        self._sending = stanza
        try:
            for session in targets:
                session.send(stanza)
        finally:
            self._sending = None
        kept = [s for s in targets if self.sessions.get(s.jid) is s]
        if not kept:
            return None
        return Outcome(stanza, user, DELIVERED,
                       delivered=tuple(s for s in kept if not s.hibernated),
                       queued=tuple(s for s in kept if s.hibernated))

    def _bounced(self, stanza: domish.Element, user: str) -> Outcome:
        bounce(stanza, "service-unavailable", self.route)
        return Outcome(stanza, user, BOUNCED)

    def _tell(self, outcome: Outcome) -> None:
        for listener in self.listeners:
            try:
                listener.delivered(outcome)
            except Exception:  # noqa: BLE001  (one listener's bug must not lose the message)
                self.log.failure("delivery listener {listener!r} failed", listener=listener)

    def redeliver(self, session: Session, stanzas: list[domish.Element]) -> None:
        """A session ended with stanzas it never acknowledged (XEP-0198 §5): messages go
        to another available resource or to offline storage, IQ requests get an error;
        nothing is pushed again. The message being delivered right now is left to that
        delivery, which sees its target gone."""
        for stanza in stanzas:
            if stanza is self._sending:
                continue
            kind = stanza.getAttribute("type")
            if stanza.name == "message" and kind in (None, "normal", "chat"):
                if any(c.uri == ns.CARBONS for c in stanza.elements()):
                    continue  # a copy: the original went elsewhere
                targets = [s for s in self.sessions.for_bare_delivery(session.user)
                           if s is not session]
                for target in targets:
                    target.send(stanza)
                if not targets and not (self.offline is not None
                                        and self.offline.take(stanza, session.user)):
                    bounce(stanza, "service-unavailable", self.route)
            elif stanza.name == "iq" and kind in ("get", "set"):
                bounce(stanza, "service-unavailable", self.route)
