"""Server-side SASL mechanisms (RFC 6120 §6, RFC 4616 PLAIN, RFC 5802/7677 SCRAM).

Each mechanism is a small object whose :meth:`step` takes the client's data and
returns ``("challenge", data)`` or ``("success", data)``, or raises
:class:`SASLFailure` with the RFC 6120 §6.5 condition. SCRAM runs on ``scramp``;
only salted keys are stored (see ``storage.memory``).
"""

from __future__ import annotations

import os
import unicodedata

from scramp import ScramException, ScramMechanism
from scramp.core import ServerError
from twisted.words.protocols.jabber import jid

from minixmpp import addressing
from minixmpp.storage.interfaces import IAccountStore


class SASLFailure(Exception):
    """Authentication failed with an RFC 6120 §6.5 condition."""

    def __init__(self, condition: str, text: str = "") -> None:
        super().__init__(condition, text)
        self.condition = condition
        self.text = text


def saslprep_user(name: str, domain: str) -> str:
    """A SASL username (simple user name, RFC 6120 §6.3.8) as an account localpart."""
    try:
        return addressing.make(unicodedata.normalize("NFKC", name), domain, None).user or ""
    except jid.InvalidFormat:
        return ""


class Plain:
    """SASL PLAIN (RFC 4616): ``[authzid] NUL authcid NUL passwd``."""

    name = "PLAIN"

    def __init__(self, accounts: IAccountStore, domain: str) -> None:
        self.accounts = accounts
        self.domain = domain
        self.user: str | None = None

    def step(self, data: bytes | None) -> tuple[str, bytes | None]:
        if data is None:
            return "challenge", b""
        try:
            authzid, authcid, password = data.decode("utf-8").split("\x00")
        except (UnicodeDecodeError, ValueError):
            raise SASLFailure("malformed-request", "PLAIN wants authzid NUL authcid NUL passwd"
                              ) from None
        user = saslprep_user(authcid, self.domain)
        if not user or not password or not self.accounts.check_password(user, password):
            raise SASLFailure("not-authorized")
        if authzid and authzid not in (f"{user}@{self.domain}", user):
            raise SASLFailure("invalid-authzid")
        self.user = user
        return "success", None


class Scram:
    """SCRAM-SHA-1 / SCRAM-SHA-256 (RFC 5802, RFC 7677) without channel binding."""

    def __init__(self, name: str, accounts: IAccountStore, domain: str) -> None:
        self.name = name
        self.accounts = accounts
        self.domain = domain
        self.user: str | None = None
        self._candidate = ""
        self._server = ScramMechanism(name).make_server(self._auth_info)
        self._stage = 0

    def _auth_info(self, username: str) -> tuple[bytes, bytes, bytes, int]:
        name = username.replace("=2C", ",").replace("=3D", "=")
        self._candidate = saslprep_user(name, self.domain)
        creds = self.accounts.scram(self._candidate, self.name) if self._candidate else None
        if creds is None:
            # Unknown user: go on with keys nobody knows, so the failure comes at the
            # proof, like a wrong password (RFC 5802 §5.1: don't reveal which accounts exist).
            self._candidate = ""
            return os.urandom(16), os.urandom(32), os.urandom(32), 4096
        return creds.salt, creds.stored_key, creds.server_key, creds.iteration_count

    def step(self, data: bytes | None) -> tuple[str, bytes | None]:
        if data is None:
            return "challenge", b""
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError:
            raise SASLFailure("malformed-request", "not UTF-8") from None
        if self._stage == 0:
            self._check_gs2(text)
            try:
                self._server.set_client_first(text)
                first = self._server.get_server_first()
            except ScramException as e:
                raise SASLFailure("malformed-request", str(e)) from None
            except Exception:  # noqa: BLE001  (scramp raises plain errors on garbage)
                raise SASLFailure("malformed-request", "bad client-first-message") from None
            self._stage = 1
            return "challenge", first.encode()
        if self._stage == 1:
            self._stage = 2
            try:
                self._server.set_client_final(text)
                final = self._server.get_server_final()
            except ScramException as e:
                if e.server_error is ServerError.INVALID_PROOF:
                    raise SASLFailure("not-authorized") from None
                raise SASLFailure("malformed-request", str(e)) from None
            except Exception:  # noqa: BLE001
                raise SASLFailure("malformed-request", "bad client-final-message") from None
            if not self._candidate:
                raise SASLFailure("not-authorized")
            self.user = self._candidate
            return "success", final.encode()
        raise SASLFailure("malformed-request", "unexpected response")

    def _check_gs2(self, text: str) -> None:
        """Reject channel binding (we offer no -PLUS) and a foreign authzid."""
        parts = text.split(",", 2)
        if len(parts) < 3 or parts[0] not in ("n", "y") and not parts[0].startswith("p="):
            raise SASLFailure("malformed-request", "bad GS2 header")
        if parts[0].startswith("p="):
            raise SASLFailure("malformed-request", "channel binding not offered")
        authzid = parts[1]
        if authzid and not authzid.startswith("a="):
            raise SASLFailure("malformed-request", "bad GS2 header")
        if authzid:
            name = parts[2].split(",", 1)[0]
            user = saslprep_user(name[2:] if name.startswith("n=") else name, self.domain)
            if authzid[2:] not in (f"{user}@{self.domain}", user):
                raise SASLFailure("invalid-authzid")


def mechanisms(plain: bool) -> list[str]:
    """Mechanism names in order of preference (RFC 6120 §6.4.1)."""
    names = ["SCRAM-SHA-256", "SCRAM-SHA-1"]
    if plain:
        names.append("PLAIN")
    return names


def create(name: str, accounts: IAccountStore, domain: str) -> Plain | Scram:
    """A fresh mechanism object for one exchange."""
    if name == "PLAIN":
        return Plain(accounts, domain)
    return Scram(name, accounts, domain)
