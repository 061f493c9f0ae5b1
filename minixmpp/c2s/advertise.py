"""Stream features that only announce what the server does (no negotiation): entity
capabilities (XEP-0115 §6.3), roster versioning (RFC 6121 §2.6.1), subscription
pre-approval (RFC 6121 §3.4.1) and the stream's limits (XEP-0478)."""

from __future__ import annotations

from collections.abc import Hashable

from twisted.words.xish import domish

from minixmpp import ns
from minixmpp.c2s.stage import AUTHENTICATED, UNAUTHENTICATED, Stage


def limits(max_bytes: int, idle_seconds: int) -> domish.Element:
    """XEP-0478 §3.1: the largest top-level element taken (``--max-stanza-size``) and,
    when streams are closed for silence (``--idle-timeout``), after how long."""
    element = domish.Element((ns.STREAM_LIMITS, "limits"))
    element.addElement("max-bytes", content=str(max_bytes))
    if idle_seconds:
        element.addElement("idle-seconds", content=str(idle_seconds))
    return element


class Advertised(Stage):
    """``<c/>`` and ``<limits/>`` before and after authentication (XEP-0478 §4: the same
    limits in both, as Prosody); ``<ver/>`` and ``<sub/>`` after it."""

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
        settings = self.context.settings
        out.append(limits(settings.max_stanza_size, settings.idle_timeout))
        return out

    def feature_key(self) -> Hashable:
        caps = self.context.caps
        return caps.ver if caps is not None else None
