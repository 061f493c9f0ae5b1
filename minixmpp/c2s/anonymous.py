"""SASL ANONYMOUS (RFC 4505, XEP-0175) for a domain with ``--auth anonymous``.

A login gets a fresh account with a random localpart; it is an ordinary account while it
has a session (roster, PEP, archive, push: everything works), and it is deleted with
everything stored for it when its last session ends (after a stream-management session
that hibernated expires, not before). Anonymous streams count against the connection
limits like any other.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable

from twisted.logger import Logger

from minixmpp.c2s.sasl import SASLFailure
from minixmpp.feature import Context, Feature
from minixmpp.sessions import Session, SessionManager
from minixmpp.storage.interfaces import IAccountStore


class AnonymousAccounts:
    """The accounts ANONYMOUS logins made, and their end."""

    log = Logger()

    def __init__(self, accounts: IAccountStore, sessions: SessionManager,
                 delete: Callable[[str], None]) -> None:
        self.accounts = accounts
        self.sessions = sessions
        self.delete = delete
        self.users: set[str] = set()

    def create(self) -> str:
        """A new account with a random localpart (RFC 4505 §3: the server assigns it)."""
        for _ in range(8):
            user = f"anon-{secrets.token_hex(6)}"
            if not self.accounts.exists(user):
                self.accounts.create(user, secrets.token_urlsafe(24))
                self.users.add(user)
                return user
        raise SASLFailure("temporary-auth-failure")

    def unbound(self, session: Session) -> None:
        """A session ended: the last one of an anonymous account takes the account."""
        user = session.user
        if user in self.users and not self.sessions.of(user):
            self.users.discard(user)
            if self.accounts.exists(user):
                self.delete(user)
                self.log.info("anonymous account {user} ended with its last session",
                              user=user)

    def clear(self) -> None:
        self.users.clear()


class Anonymous:
    """SASL ANONYMOUS (RFC 4505 §2): one message, an optional trace (ignored)."""

    name = "ANONYMOUS"

    def __init__(self, accounts: AnonymousAccounts) -> None:
        self.accounts = accounts
        self.user: str | None = None

    def step(self, data: bytes | None) -> tuple[str, bytes | None]:
        if data is not None and len(data) > 1020:  # §3: at most 255 UTF-8 characters
            raise SASLFailure("malformed-request", "the trace is too long")
        self.user = self.accounts.create()
        return "success", None


def build(ctx: Context) -> Feature | None:
    """The ``anonymous`` feature, on a domain with ``--auth anonymous``."""
    if ctx.settings.auth_mode != "anonymous":
        return None

    def delete(user: str) -> None:
        ctx.provided("admin").delete_account(user)

    accounts = AnonymousAccounts(ctx.storage.accounts, ctx.sessions, delete)
    return Feature("anonymous", service=accounts, unbound=(accounts.unbound,),
                   provides={"anonymous": accounts}, clear=accounts.clear,
                   describe=lambda: {"anonymous_accounts": len(accounts.users)})
