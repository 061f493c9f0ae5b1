"""The negotiation stages of a c2s stream (RFC 6120 §4.3), receiving side.

A stream goes through three phases: *unauthenticated* (STARTTLS, SASL), *authenticated*
(resource binding, resumption) and *bound* (stanzas). A :class:`Stage` is one concern of
that negotiation: it offers its stream features for the phase (§4.3.2) and takes the
top-level elements that belong to it. The authenticator asks its stages in order; an
element no stage takes is a stream error. A new negotiation (SASL2, Bind2, FAST) is a new
stage in ``C2SFactory.stages``; nothing else changes.
"""

from __future__ import annotations

from collections.abc import Hashable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar

from twisted.words.xish import domish

if TYPE_CHECKING:
    from minixmpp.c2s.limits import AuthLimiter
    from minixmpp.c2s.sm import Resumption
    from minixmpp.c2s.stream import C2SAuthenticator
    from minixmpp.c2s.tls import TLSMaterial
    from minixmpp.config import Settings
    from minixmpp.sessions import Session, SessionManager
    from minixmpp.storage.interfaces import IAccountStore

#: before SASL success
UNAUTHENTICATED = "unauthenticated"
#: authenticated, no resource bound yet
AUTHENTICATED = "authenticated"
#: a resource is bound: stanzas flow
BOUND = "bound"


@dataclass
class C2SContext:
    """What a c2s stream may use of the server, and nothing more."""

    settings: Settings
    reactor: Any
    tls: TLSMaterial | None
    accounts: IAccountStore
    sessions: SessionManager
    resumption: Resumption
    #: hands a checked, stamped stanza from a bound resource to the local domain
    deliver: Any  # Callable[[Session, domish.Element], None]
    auth_limiter: AuthLimiter
    #: the server's entity capabilities (``im.caps.ServerCaps``), for ``<c/>``
    caps: Any = None
    #: who may register in-band (``im.register.Registrar``), None when off
    registrar: Any = None
    #: FAST tokens (``c2s.fast.Tokens``) for SASL2 logins
    fast: Any = None
    #: the message archive (``IArchiveStore``), for Bind2's MAM metadata; None when off
    archive: Any = None
    #: the features that are on (``features.FEATURES`` names): what SASL2 and Bind2 may
    #: offer inline
    enabled: frozenset[str] = frozenset()
    #: the SASL mechanisms that may be offered (``--disable plain``, ``--auth``)
    mechanisms: frozenset[str] = frozenset()
    #: the accounts ANONYMOUS logins make (``c2s.anonymous``), with ``--auth anonymous``
    anonymous: Any = None
    #: traffic capture (``traffic.Traffic``), None when off (``--traffic 0``)
    traffic: Any = None


class Stage:
    """One negotiation concern of one stream (a receiving-side initializer)."""

    #: the phases in which this stage offers features and takes elements
    phases: ClassVar[frozenset[str]] = frozenset()
    #: where the stage stands among the others (its features are offered and elements
    #: offered to it in this order): 10 STARTTLS, 20 SASL, 30 SASL2, 40 registration,
    #: 50 bind, 60 SM, 70 CSI, 80 a push profile's answer, 90 advertised, 100 stanzas
    order: ClassVar[int] = 85

    def __init__(self, auth: C2SAuthenticator) -> None:
        self.auth = auth

    @property
    def context(self) -> C2SContext:
        """The served domain's context: the stream's, chosen by its header's ``to``."""
        return self.auth.context

    def features(self) -> list[domish.Element]:
        """The stream features this stage offers now (RFC 6120 §4.3.2)."""
        return []

    def feature_key(self) -> Hashable:
        """What :meth:`features` depends on besides the phase (serialized features are
        cached by it)."""
        return None

    def receive(self, element: domish.Element) -> bool:
        """Take ``element`` if it belongs to this stage; False lets the next stage try."""
        return False

    def bound(self, session: Session) -> None:
        """A resource was bound or resumed on this stream."""

    def connection_lost(self) -> None:
        """The connection is gone: cancel timers."""
