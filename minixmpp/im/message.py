"""Message delivery to local accounts (RFC 6121 §8.5.2 bare JID, §8.5.3 full JID)."""

from __future__ import annotations

from collections.abc import Callable

from twisted.words.protocols.jabber import jid
from twisted.words.xish import domish

from minixmpp.router import bounce
from minixmpp.sessions import Session, SessionManager
from minixmpp.storage.interfaces import IAccountStore

Route = Callable[[domish.Element], None]


class MessageDelivery:
    """Chooses the resources a message goes to, or what happens when there are none."""

    def __init__(self, sessions: SessionManager, accounts: IAccountStore, route: Route) -> None:
        self.sessions = sessions
        self.accounts = accounts
        self.route = route
        #: called as (stanza, user) when a chat/normal message finds no resource
        #: (RFC 6121 §8.5.2.2.1); returns True if it took the message (offline storage).
        self.offline: Callable[[domish.Element, str], bool] | None = None
        #: called as (stanza, user) for a message to an existing account, before delivery
        #: (the archive stamps its stanza-id here)
        self.before: list[Callable[[domish.Element, str], None]] = []
        #: called as (stanza, user, offline=, targets=) once delivered or stored
        self.delivered: list[Callable[..., None]] = []

    def deliver(self, stanza: domish.Element, to: jid.JID) -> None:
        mtype = stanza.getAttribute("type") or "normal"
        user = to.user or ""
        if not self.accounts.exists(user):  # §8.5.1
            if mtype not in ("error", "headline"):
                bounce(stanza, "service-unavailable", self.route)
            return
        for callback in self.before:
            callback(stanza, user)
        if to.resource is not None:  # §8.5.3
            session = self.sessions.get(to)
            if session is not None:
                session.send(stanza)
                return self._done(stanza, user, offline=False, targets=[session])
            if mtype == "groupchat":
                return bounce(stanza, "service-unavailable", self.route)
            if mtype == "error":
                return
        # §8.5.2: the bare JID (or a full JID whose resource is gone).
        if mtype == "groupchat":
            return bounce(stanza, "service-unavailable", self.route)
        if mtype == "error":
            return
        if mtype == "headline":
            targets = [s for s in self.sessions.available(user) if s.priority >= 0]
        else:
            targets = self.sessions.for_bare_delivery(user)
        for session in targets:
            session.send(stanza)
        if targets:
            return self._done(stanza, user, offline=False, targets=targets)
        if mtype == "headline":
            return
        if self.offline is not None and self.offline(stanza, user):
            return self._done(stanza, user, offline=True, targets=[])
        bounce(stanza, "service-unavailable", self.route)

    def _done(self, stanza: domish.Element, user: str, *, offline: bool,
              targets: list[Session]) -> None:
        for callback in self.delivered:
            callback(stanza, user, offline=offline, targets=targets)
