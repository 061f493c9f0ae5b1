"""Administrative actions, shared by the HTTP control API, in-band account removal
(XEP-0077) and ``reset``: end a session, delete an account with everything stored for
it, go back to the state right after start.

What is stored for an account is each feature's to forget (``Feature.forget``), and
what a feature keeps at all is its to clear (``Feature.clear``): these are loops over the
features, so a new feature's data goes with the account without a line here.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

from twisted.logger import Logger
from twisted.words.protocols.jabber import error
from twisted.words.protocols.jabber.jid import JID

from minixmpp.c2s import faults
from minixmpp.sessions import Session, SessionManager
from minixmpp.storage.interfaces import IAccountStore, IRosterStore

if TYPE_CHECKING:
    from minixmpp.c2s.sm import Resumption
    from minixmpp.feature import Feature


class Admin:
    """What an administrator (or a test harness) may do to accounts and sessions."""

    log = Logger()

    def __init__(self, domain: str, accounts: IAccountStore, rosters: IRosterStore,
                 sessions: SessionManager, resumption: Resumption,
                 features: Mapping[str, Feature], create_accounts: Callable[[], None],
                 clear: Callable[[], None], clock: Any = None) -> None:
        self.domain = domain
        #: the server's clock (faults' timers run on it)
        self.clock = clock
        self.accounts = accounts
        self.rosters = rosters
        self.sessions = sessions
        self.resumption = resumption
        self.features = features
        #: the configured accounts exist again (``--user``, the demo accounts)
        self.create_accounts = create_accounts
        #: what the core keeps besides accounts (authentication failures)
        self.clear_core = clear

    def end_session(self, session: Session, condition: str, text: str | None = None) -> None:
        """Close a live session with a stream error (RFC 6120 §4.9); a hibernated one
        (XEP-0198) ends at once, its unacknowledged messages kept (offline)."""
        if session.hibernated:
            self.resumption.end(session)
        else:
            session.stream.sendStreamError(error.StreamError(condition, text=text))

    # -- network faults (c2s/faults.py), on live sessions ------------------------------------

    def live(self, jid: JID) -> list[Session]:
        """The live sessions a JID names: that resource, or every one of the account."""
        if jid.resource is not None:
            session = self.sessions.get(jid)
            return [session] if session is not None and not session.hibernated else []
        return [s for s in self.sessions.of(jid.user or "") if not s.hibernated]

    def drop(self, session: Session) -> None:
        """Cut the connection without a stream close: a resumable session hibernates."""
        faults.drop(session.stream.xmlstream)

    def stall(self, session: Session, seconds: float) -> None:
        """Neither read from nor write to the session's connection for ``seconds``."""
        self._faults(session).stall(seconds)

    def delay(self, session: Session, seconds: float) -> None:
        """Every stanza to the session leaves ``seconds`` late (0: on time again)."""
        self._faults(session).delay(seconds)

    def _faults(self, session: Session) -> faults.Faults:
        xs = session.stream.xmlstream
        if xs.faults is None:
            xs.faults = faults.Faults(xs, self.clock)
        return xs.faults

    def delete_account(self, user: str) -> None:
        """End the account's sessions (``not-authorized``), delete it and everything
        stored for it; raises ``NoSuchAccount``."""
        for session in self.sessions.of(user):
            self.end_session(session, "not-authorized", "account deleted")
        self.accounts.delete(user)
        self.forget_account(user)

    def forget_account(self, user: str) -> None:
        """Drop everything stored for a deleted account: its roster, then what every
        feature keeps for it."""
        self.rosters.drop(user)
        for feature in self.features.values():
            if feature.forget is not None:
                feature.forget(user)

    def remove_account(self, user: str) -> None:
        """The account removes itself (XEP-0077 §3.2): its streams close with
        ``not-authorized``, hibernated sessions end, the account and its data go."""
        if self.accounts.exists(user):
            self.delete_account(user)
        self.log.info("{user}@{domain} removed its account (XEP-0077)", user=user,
                      domain=self.domain)

    def reset(self) -> None:
        """Back to the state right after start: configured accounts only, nothing
        stored, no sessions (closed with a ``reset`` stream error), no notifications."""
        for session in list(self.sessions):
            self.end_session(session, "reset")
        for user in self.accounts.users():
            self.delete_account(user)
        self.create_accounts()
        for feature in self.features.values():
            if feature.clear is not None:
                feature.clear()
        self.clear_core()
