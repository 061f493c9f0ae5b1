"""FAST (XEP-0484): tokens a SASL2 client asks for and later logs in with, through the
HT-SHA-256 mechanisms (draft-schmaus-kitten-sasl-ht): ``-NONE`` (no channel binding) and
``-ENDP`` (bound to ``tls-server-end-point``).

Tokens are kept per account and user-agent id (``storage.ITokenStore``). Issuing a new
token keeps the previous one valid until the new one is used (§3.4 rotation); ``<fast
invalidate='true'/>`` forgets the client's tokens; a ``count`` not above the last one
seen is a replay and fails.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Callable

from twisted.words.xish import domish

from minixmpp import ns
from minixmpp.c2s.sasl import SASLFailure, saslprep_user
from minixmpp.feature import Context, Feature
from minixmpp.storage.interfaces import FastToken, ITokenStore
from minixmpp.timestamps import utc_stamp

#: mechanism → channel-binding type (None: no binding)
MECHANISMS: dict[str, str | None] = {"HT-SHA-256-ENDP": "tls-server-end-point",
                                     "HT-SHA-256-NONE": None}


class Tokens:
    """Issues, checks, rotates and invalidates FAST tokens (``--fast-token-lifetime``)."""

    def __init__(self, store: ITokenStore, lifetime: int, clock: Callable[[], float]) -> None:
        self.store = store
        self.lifetime = lifetime
        self.clock = clock

    def issue(self, user: str, agent: str, mechanism: str) -> FastToken:
        """A new token for (user, agent); the current one becomes ``previous`` (§3.4)."""
        old = self.store.get(user, agent)
        token = FastToken(mechanism, secrets.token_urlsafe(32), self.clock() + self.lifetime,
                          previous=old.current if old is not None else None,
                          count=old.count if old is not None else 0)
        self.store.put(user, agent, token)
        return token

    def candidates(self, user: str, agent: str, mechanism: str) -> list[str]:
        """The secrets that may log (user, agent) in with ``mechanism`` now."""
        token = self.store.get(user, agent)
        if token is None or token.mechanism != mechanism or token.expiry < self.clock():
            return []
        return [t for t in (token.current, token.previous) if t]

    def used(self, user: str, agent: str, secret: str, count: int | None) -> bool:
        """A login with ``secret`` succeeded: record the count (False: a replay) and
        complete a rotation when the new token was used."""
        token = self.store.get(user, agent)
        if token is None:
            return False
        if count is not None:
            if count <= token.count:
                return False
            token.count = count
        if secret == token.current:
            token.previous = None
        self.store.put(user, agent, token)
        return True

    def invalidate(self, user: str, agent: str) -> None:
        self.store.delete(user, agent)


def _hmac(token: str, label: bytes, cb: bytes) -> bytes:
    return hmac.new(token.encode(), label + cb, hashlib.sha256).digest()


class HashedToken:
    """HT-SHA-256-NONE/-ENDP, server side: one message ``authcid NUL HMAC(token,
    "Initiator" || cb)``, answered with ``HMAC(token, "Responder" || cb)`` as SASL2
    additional data."""

    def __init__(self, name: str, tokens: Tokens, domain: str, agent: str,
                 bindings: dict[str, bytes]) -> None:
        self.name = name
        self.tokens = tokens
        self.domain = domain
        self.agent = agent
        self.bindings = bindings
        self.user: str | None = None
        self.secret: str | None = None

    def step(self, data: bytes | None) -> tuple[str, bytes | None]:
        if data is None:
            return "challenge", b""
        authcid, sep, proof = data.partition(b"\x00")
        if not sep:
            raise SASLFailure("malformed-request", "HT wants authcid NUL hashed token")
        try:
            user = saslprep_user(authcid.decode("utf-8"), self.domain)
        except UnicodeDecodeError:
            raise SASLFailure("malformed-request", "not UTF-8") from None
        cb_type = MECHANISMS[self.name]
        cb = b""
        if cb_type is not None:
            if cb_type not in self.bindings:
                raise SASLFailure("malformed-request", f"{self.name} needs TLS")
            cb = self.bindings[cb_type]
        if not user or not self.agent:
            raise SASLFailure("not-authorized")
        for secret in self.tokens.candidates(user, self.agent, self.name):
            if hmac.compare_digest(_hmac(secret, b"Initiator", cb), proof):
                self.user, self.secret = user, secret
                return "success", _hmac(secret, b"Responder", cb)
        raise SASLFailure("not-authorized")


def inline_feature() -> domish.Element:
    """``<fast/>`` inside SASL2's ``<inline/>`` (§3.1): the mechanisms tokens work with."""
    fast = domish.Element((ns.FAST, "fast"))
    for name in MECHANISMS:
        fast.addElement("mechanism", content=name)
    return fast


def token_element(token: FastToken) -> domish.Element:
    """``<token xmlns='urn:xmpp:fast:0' expiry token/>`` in SASL2 success (§3.2)."""
    element = domish.Element((ns.FAST, "token"))
    element["expiry"] = utc_stamp(token.expiry)
    element["token"] = token.current
    return element


def build(ctx: Context) -> Feature:
    """The ``fast`` feature: tokens for SASL2 logins (``provides["fast"]``), forgotten
    with the account."""
    store = ctx.storage.tokens
    tokens = Tokens(store, ctx.settings.fast_token_lifetime, ctx.reactor.seconds)
    return Feature("fast", service=tokens, provides={"fast": tokens}, forget=store.drop)
