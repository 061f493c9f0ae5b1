"""The pubsub family's domain errors (PEP and the pubsub service), and their stanza errors
(XEP-0060 §5–§8 error cases, §12 and the ``pubsub#errors`` schema).

Rules raise :class:`PubSubRefusal` with a XEP-0060 application condition; the protocol
edge (:func:`stanza_error`) turns it into the stanza error XEP-0060 names for it.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from twisted.internet import defer
from twisted.words.protocols.jabber import error
from wokkel.pubsub import PubSubError

#: application condition → (stanza condition, type), as XEP-0060 names them: §6.1.3
#: (subscribe), §6.2.3 (unsubscribe), §6.3.4 (options), §6.5.9 (items), §7.1.3 (publish),
#: §7.1.5 (publish-options), §8.1.3 (create)
CONDITIONS: dict[str | None, tuple[str, str]] = {
    "presence-subscription-required": ("not-authorized", "auth"),
    "not-in-roster-group": ("not-authorized", "auth"),
    "pending-subscription": ("not-authorized", "auth"),
    "closed-node": ("not-allowed", "cancel"),
    "precondition-not-met": ("conflict", "cancel"),
    "payload-too-big": ("not-acceptable", "modify"),
    "invalid-payload": ("bad-request", "modify"),
    "item-required": ("bad-request", "modify"),
    "item-forbidden": ("bad-request", "modify"),
    "invalid-jid": ("bad-request", "modify"),
    "jid-required": ("bad-request", "modify"),
    "invalid-options": ("bad-request", "modify"),
    "nodeid-required": ("not-acceptable", "modify"),
    "max-nodes-exceeded": ("not-allowed", "cancel"),
    "max-items-exceeded": ("not-allowed", "cancel"),
    "too-many-subscriptions": ("policy-violation", "wait"),
    "not-subscribed": ("unexpected-request", "cancel"),
    "unsupported-access-model": ("not-acceptable", "modify"),
    "unsupported": ("feature-not-implemented", "cancel"),
}


class PubSubRefusal(Exception):
    """A request a pubsub service refuses: ``condition`` is a stanza condition or, with
    ``app``, the XEP-0060 application condition that goes with it (``feature`` names the
    feature of an ``<unsupported/>``)."""

    def __init__(self, condition: str, app: str | None = None, text: str | None = None,
                 feature: str | None = None) -> None:
        super().__init__(text or app or condition)
        self.condition = condition
        self.app = app
        self.text = text
        self.feature = feature


def refuse(app: str, text: str | None = None) -> PubSubRefusal:
    """The error for a XEP-0060 application condition, with its usual stanza condition."""
    return PubSubRefusal(CONDITIONS[app][0], app, text)


def unsupported(feature: str, text: str | None = None) -> PubSubRefusal:
    """``feature-not-implemented`` + ``<unsupported feature='…'/>`` (XEP-0060 §12)."""
    return PubSubRefusal("feature-not-implemented", "unsupported", text, feature)


def stanza_error(e: PubSubRefusal) -> error.StanzaError:
    if e.app is None:
        return error.StanzaError(e.condition, text=e.text)
    failure = PubSubError(e.condition, e.app, feature=e.feature, text=e.text)
    usual = CONDITIONS.get(e.app)
    if usual is not None and usual[0] == e.condition:
        failure.type = usual[1]  # else the stanza condition's own type (RFC 6120 §8.3.3)
    return failure


def edge(method: Callable[..., Any]) -> Callable[..., defer.Deferred]:
    """A wokkel ``PubSubResource`` verb from a rule: its result, or the stanza error of the
    :class:`PubSubRefusal` it raised (the protocol edge)."""
    def run(self: Any, request: Any) -> defer.Deferred:
        try:
            return defer.succeed(method(self, request))
        except PubSubRefusal as e:
            return defer.fail(stanza_error(e))
    run.__name__ = method.__name__
    run.__doc__ = method.__doc__
    return run
