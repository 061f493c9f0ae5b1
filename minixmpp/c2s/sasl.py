"""SASL (RFC 6120 §6): the mechanisms (RFC 4616 PLAIN, RFC 5802/7677 SCRAM) and the
negotiation stage that exchanges them over the stream (§6.4).

Each mechanism is a small object whose :meth:`step` takes the client's data and
returns ``("challenge", data)`` or ``("success", data)``, or raises
:class:`SASLFailure` with the RFC 6120 §6.5 condition. SCRAM runs on ``scramp``;
only salted keys are stored (see ``storage.memory``). :class:`SASLStage` is the XML
half: ``<mechanisms/>``, ``<auth/>``, ``<response/>``, ``<abort/>``.
"""

from __future__ import annotations

import base64
import binascii
import functools
import hashlib
import ipaddress
import os
import unicodedata
from collections.abc import Hashable
from typing import Any

from scramp import ScramException, ScramMechanism
from scramp import core as _scramp_core
from scramp.core import ServerError
from twisted.words.protocols.jabber import jid
from twisted.words.xish import domish

from minixmpp import addressing, ns
from minixmpp.c2s import tls
from minixmpp.c2s.stage import UNAUTHENTICATED, Stage
from minixmpp.storage.interfaces import IAccountStore, InvalidPassword

#: SCRAM hashes, strongest first (RFC 5802, RFC 7677, draft-melnikov-scram-sha-512)
SCRAM_HASHES = ("SCRAM-SHA-512", "SCRAM-SHA-256", "SCRAM-SHA-1")
PLUS = frozenset(f"{h}-PLUS" for h in SCRAM_HASHES)

# scramp computes no tls-exporter data itself (Python's ssl cannot) and so refuses the
# name; we hand it the bytes from pyOpenSSL (c2s.tls.channel_bindings), which it then
# only compares. Accept the name (RFC 9266) for data given as bytes.
_scramp_core.CbName.SUPPORTED_TYPES = frozenset(
    _scramp_core.CbName.SUPPORTED_TYPES | {"tls-exporter"})
_scramp_core.CbName.UNSUPPORTED_TYPES = frozenset()


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

    def __init__(self, accounts: IAccountStore, domain: str, any_password: bool = False
                 ) -> None:
        self.accounts = accounts
        self.domain = domain
        #: ``--auth any-password``: any password logs in; an unknown account is made
        self.any_password = any_password
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
        if user and password and self.any_password:
            if not self.accounts.exists(user):
                try:
                    self.accounts.create(user, password)
                except InvalidPassword:
                    raise SASLFailure("not-authorized", "SASLprep refuses the password"
                                      ) from None
        elif not user or not password or not self.accounts.check_password(user, password):
            raise SASLFailure("not-authorized")
        if authzid and authzid not in (f"{user}@{self.domain}", user):
            raise SASLFailure("invalid-authzid")
        self.user = user
        return "success", None


#: the hash function of each SCRAM family (RFC 5802 §2.2, RFC 7677)
HASHES = {"SCRAM-SHA-1": hashlib.sha1, "SCRAM-SHA-256": hashlib.sha256,
          "SCRAM-SHA-512": hashlib.sha512}


def downgrade_protection(scram_hash: str, offered: list[str],
                         cb_types: list[str] | None) -> str:
    """XEP-0474 (SSDP): the attributes the server-first-message gains, each the hash
    (of the mechanism's own family, base64) of the SASL mechanisms offered on this
    profile and the XEP-0440 channel-binding types advertised (None: none were).

    ``h`` is §4.1 of v0.4+: the sorted mechanisms joined by %x1E, then %x1F and the
    sorted types joined by %x1E. ``d`` is the same in v0.3 (``,`` and ``|``), which
    ejabberd sends and Monal before 6.4 checks; clients ignore attributes they do not
    know (RFC 5802 §5.1)."""
    digest = HASHES[scram_hash]

    def attribute(name: str, item: str, group: str) -> str:
        text = item.join(sorted(offered))
        if cb_types is not None:
            text += group + item.join(sorted(cb_types))
        return f",{name}={base64.b64encode(digest(text.encode()).digest()).decode()}"

    return attribute("h", "\x1e", "\x1f") + attribute("d", ",", "|")


class Scram:
    """SCRAM-SHA-1/-256/-512 (RFC 5802, RFC 7677) and their ``-PLUS`` variants with
    channel binding (RFC 5802 §6; types of RFC 5929 and RFC 9266, offered per XEP-0440).

    ``bindings`` are the channel-binding data of this connection by type (empty without
    TLS). A client that says ``y`` (it could bind, but thinks we cannot) while we offer
    ``-PLUS`` fails: that is a downgrade (RFC 5802 §6). ``offered`` (the mechanisms and
    channel-binding types the stream advertised) adds XEP-0474's downgrade protection
    to the server-first-message.
    """

    def __init__(self, name: str, accounts: IAccountStore, domain: str,
                 bindings: dict[str, bytes] | None = None,
                 offered: tuple[list[str], list[str] | None] | None = None) -> None:
        self.name = name
        self.hash = name.removesuffix("-PLUS")
        self.plus = name.endswith("-PLUS")
        self.accounts = accounts
        self.domain = domain
        self.bindings = bindings or {}
        self.offered = offered
        self.user: str | None = None
        self._candidate = ""
        self._server: Any = None
        self._stage = 0

    def _auth_info(self, username: str) -> tuple[bytes, bytes, bytes, int]:
        name = username.replace("=2C", ",").replace("=3D", "=")
        self._candidate = saslprep_user(name, self.domain)
        creds = self.accounts.scram(self._candidate, self.hash) if self._candidate else None
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
            self._server = self._make_server(self._check_gs2(text))
            try:
                self._server.set_client_first(text)
                first = self._server.get_server_first()
                if self.offered is not None:  # XEP-0474: signed with the rest (§4.1)
                    first += downgrade_protection(self.hash, *self.offered)
                    self._server.server_first = first
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

    def _make_server(self, cb_type: str | None) -> Any:
        mechanism = ScramMechanism(self.name)
        if cb_type is None:
            return mechanism.make_server(self._auth_info)
        return mechanism.make_server(self._auth_info,
                                     channel_binding=(cb_type, self.bindings[cb_type]))

    def _check_gs2(self, text: str) -> str | None:
        """The GS2 header (RFC 5802 §7): the channel-binding type the client asks for
        (None without), checked against the mechanism and this connection; and no
        foreign authzid."""
        parts = text.split(",", 2)
        if len(parts) < 3 or parts[0] not in ("n", "y") and not parts[0].startswith("p="):
            raise SASLFailure("malformed-request", "bad GS2 header")
        cb_type = parts[0][2:] if parts[0].startswith("p=") else None
        if self.plus and cb_type is None:
            raise SASLFailure("malformed-request", f"{self.name} needs channel binding")
        if not self.plus and cb_type is not None:
            raise SASLFailure("malformed-request", f"{self.name} has no channel binding")
        if cb_type is not None and cb_type not in self.bindings:
            raise SASLFailure("malformed-request",
                              f"channel binding {cb_type!r} is not offered on this stream")
        if parts[0] == "y" and self.bindings:
            raise SASLFailure("not-authorized", "channel binding was offered (downgrade?)")
        authzid = parts[1]
        if authzid and not authzid.startswith("a="):
            raise SASLFailure("malformed-request", "bad GS2 header")
        if authzid:
            name = parts[2].split(",", 1)[0]
            user = saslprep_user(name[2:] if name.startswith("n=") else name, self.domain)
            if authzid[2:] not in (f"{user}@{self.domain}", user):
                raise SASLFailure("invalid-authzid")
        return cb_type


#: Every mechanism, in order of preference (RFC 6120 §6.4.1): ``-PLUS`` first; ANONYMOUS
#: (RFC 4505) only where ``--auth anonymous``.
ALL = (*(f"{h}-PLUS" for h in SCRAM_HASHES), *SCRAM_HASHES, "PLAIN", "ANONYMOUS")


def mechanisms(plain: bool, channel_binding: bool = False,
               allowed: frozenset[str] = frozenset(ALL)) -> list[str]:
    """Mechanism names in order of preference: ``-PLUS`` when the stream can bind to its
    TLS channel, PLAIN when it may be offered, of those ``allowed`` (``--disable``)."""
    return [name for name in ALL if name in allowed
            and (channel_binding or not name.endswith("-PLUS"))
            and (plain or name != "PLAIN")]


def create(name: str, context: Any, bindings: dict[str, bytes] | None = None,
           offered: list[str] | None = None) -> Any:
    """A fresh mechanism object for one exchange on a stream of ``context``'s domain;
    ``offered``: the mechanisms this profile advertised (for XEP-0474)."""
    settings = context.settings
    if name == "PLAIN":
        return Plain(context.accounts, settings.domain, settings.auth_mode == "any-password")
    if name == "ANONYMOUS":
        from minixmpp.c2s.anonymous import Anonymous

        return Anonymous(context.anonymous)
    cb_types = sorted(bindings) if bindings else None  # advertised per XEP-0440 then
    return Scram(name, context.accounts, settings.domain, bindings,
                 None if offered is None else (offered, cb_types))


def channel_binding_feature(types: list[str]) -> domish.Element:
    """XEP-0440 §3: the channel-binding types this stream offers."""
    feature = domish.Element((ns.SASL_CB, "sasl-channel-binding"))
    for cb_type in types:
        feature.addElement("channel-binding")["type"] = cb_type
    return feature


@functools.lru_cache(maxsize=256)
def _loopback(host: str) -> bool:
    """Is ``host`` (a peer address) a loopback address? Asked on every features list."""
    try:
        return ipaddress.ip_address(host.split("%")[0]).is_loopback
    except ValueError:
        return False


class SASLStage(Stage):
    """The SASL exchange over the stream (RFC 6120 §6.4); success restarts the stream."""

    phases = frozenset({UNAUTHENTICATED})
    order = 20

    def __init__(self, auth) -> None:
        super().__init__(auth)
        self.mechanism: Plain | Scram | None = None
        self._bindings: dict[str, bytes] | None = None

    def bindings(self) -> dict[str, bytes]:
        """Channel-binding data of this stream's TLS (computed once, after the handshake);
        none when no ``-PLUS`` mechanism is on."""
        if not self.auth.tls or not self.context.mechanisms & PLUS:
            return {}
        if self._bindings is None:
            self._bindings = tls.channel_bindings(self.auth.xmlstream.transport)
        return self._bindings

    def plain_allowed(self) -> bool:
        """RFC 6120 §13.8: PLAIN only over TLS, unless configured (loopback by default)."""
        mode = self.context.settings.plain_without_tls
        if self.auth.tls or mode == "always":
            return True
        if mode == "never":
            return False
        host = getattr(self.auth.xmlstream.transport.getPeer(), "host", None)
        if host is None:
            return True
        return _loopback(host)

    def features(self) -> list[domish.Element]:
        if not self.auth.tls and self.context.settings.require_tls:
            return []
        bindings = self.bindings()
        mechs = domish.Element((ns.SASL, "mechanisms"))
        for name in mechanisms(self.plain_allowed(), bool(bindings), self.context.mechanisms):
            mechs.addElement("mechanism", content=name)
        if not bindings:
            return [mechs]
        return [mechs, channel_binding_feature(sorted(bindings))]

    def feature_key(self) -> Hashable:
        return (self.auth.tls, self.plain_allowed(), tuple(sorted(self.bindings())))

    def receive(self, element: domish.Element) -> bool:
        if element.uri != ns.SASL:
            return False
        if element.name == "auth":
            self._auth(element)
        elif element.name == "response":
            if self.mechanism is None:
                self._failure("malformed-request", "no exchange in progress")
            else:
                self._step(element)
        elif element.name == "abort":
            self.mechanism = None
            self._failure("aborted")
        else:
            return False
        return True

    def _auth(self, element: domish.Element) -> None:
        settings = self.context.settings
        if settings.require_tls and not self.auth.tls:
            return self._failure("encryption-required")
        name = element.getAttribute("mechanism") or ""
        bindings = self.bindings()
        offered = mechanisms(self.plain_allowed(), bool(bindings), self.context.mechanisms)
        if name not in offered:
            return self._failure("invalid-mechanism")
        self.mechanism = create(name, self.context, bindings, offered)
        self._step(element)

    def _step(self, element: domish.Element) -> None:
        text = "".join(c for c in element.children if isinstance(c, str)).strip()
        # no initial response: send an empty challenge (§6.4.2)
        step = self._exchange(None if not text and element.name == "auth" else text)
        if step is None:
            return
        mechanism, kind, payload = step
        reply = domish.Element((ns.SASL, kind))
        if payload:
            reply.addContent(base64.b64encode(payload).decode())
        elif kind == "challenge":
            reply.addContent("=")
        self.auth.send(reply)
        if kind == "success":
            self.mechanism = None
            assert mechanism.user is not None
            self.auth.authenticated(mechanism.user, mechanism.name)

    def _exchange(self, text: str | None) -> tuple[Any, str, bytes | None] | None:
        """Decode a client response (RFC 6120 §6.4.2: none, ``=`` for empty, or base64)
        and step the mechanism with it; a failure is answered here and gives None."""
        data: bytes | None
        if text is None:
            data = None
        elif text == "=":
            data = b""
        else:
            try:
                data = base64.b64decode(text, validate=True)
            except (binascii.Error, ValueError):
                self._failed(SASLFailure("incorrect-encoding"))
                return None
        mechanism = self.mechanism
        assert mechanism is not None
        try:
            kind, payload = mechanism.step(data)
        except SASLFailure as e:
            self._failed(e)
            return None
        return mechanism, kind, payload

    def _failed(self, e: SASLFailure) -> None:
        """A failed exchange: recorded, and answered late once an address keeps failing
        (``--auth-fail-limit``/``--auth-fail-delay``)."""
        self.mechanism = None
        delay = self.context.auth_limiter.failed(self.auth.ip, self.auth.peer, e.condition)
        if delay:
            self.context.reactor.callLater(delay, self._delayed_failure, e)
        else:
            self._failure(e.condition, e.text)

    def _delayed_failure(self, e: SASLFailure) -> None:
        if self.auth.open():
            self._failure(e.condition, e.text)

    def _failure(self, condition: str, text: str = "") -> None:
        failure = domish.Element((ns.SASL, "failure"))
        failure.addElement(condition)
        if text:
            failure.addElement("text", content=text)
        self.auth.send(failure)
