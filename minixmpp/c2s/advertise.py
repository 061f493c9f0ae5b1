"""Stream features that only announce what the server does (no negotiation): entity
capabilities (XEP-0115 §6.3), roster versioning (RFC 6121 §2.6.1) and subscription
pre-approval (RFC 6121 §3.4.1)."""

from __future__ import annotations

from collections.abc import Hashable

from twisted.words.xish import domish

from minixmpp import ns
from minixmpp.c2s.stage import AUTHENTICATED, UNAUTHENTICATED, Stage


class Advertised(Stage):
    """``<c/>`` before and after authentication; ``<ver/>`` and ``<sub/>`` after it."""

    phases = frozenset({UNAUTHENTICATED, AUTHENTICATED})
    order = 90

    def features(self) -> list[domish.Element]:
        out = []
        caps = self.context.caps
        c = caps.element() if caps is not None else None
        if c is not None:
            out.append(c)
        if self.auth.phase == AUTHENTICATED:
            out.append(domish.Element((ns.ROSTERVER, "ver")))
            out.append(domish.Element((ns.PREAPPROVAL, "sub")))
        return out

    def feature_key(self) -> Hashable:
        caps = self.context.caps
        return caps.ver if caps is not None else None
