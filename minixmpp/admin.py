"""Administrative actions, shared by the HTTP control API and ``reset``: end a session,
delete an account with everything stored for it."""

from __future__ import annotations

from collections.abc import Callable

from twisted.logger import Logger
from twisted.words.protocols.jabber import error

from minixmpp.c2s.sm import Resumption
from minixmpp.sessions import Session, SessionManager
from minixmpp.storage.interfaces import IAccountStore


class Admin:
    """What an administrator (or a test harness) may do to accounts and sessions."""

    log = Logger()

    def __init__(self, accounts: IAccountStore, sessions: SessionManager,
                 resumption: Resumption, forget: Callable[[str], None]) -> None:
        self.accounts = accounts
        self.sessions = sessions
        self.resumption = resumption
        #: drops everything stored for a deleted account (``Server.forget_account``)
        self.forget = forget

    def end_session(self, session: Session, condition: str, text: str | None = None) -> None:
        """Close a live session with a stream error (RFC 6120 §4.9); a hibernated one
        (XEP-0198) ends at once, its unacknowledged messages kept (offline)."""
        if session.hibernated:
            self.resumption.end(session)
        else:
            session.stream.sendStreamError(error.StreamError(condition, text=text))

    def delete_account(self, user: str) -> None:
        """End the account's sessions (``not-authorized``), delete it and everything
        stored for it; raises ``NoSuchAccount``."""
        for session in self.sessions.of(user):
            self.end_session(session, "not-authorized", "account deleted")
        self.accounts.delete(user)
        self.forget(user)
