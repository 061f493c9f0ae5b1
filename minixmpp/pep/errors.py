"""PEP's domain errors, and their stanza errors (XEP-0060 §6–§8 error cases).

Rules raise :class:`PepError` with a XEP-0060 application condition; the protocol edge
(:func:`stanza_error`) turns it into the stanza error XEP-0060 names for it.
"""

from __future__ import annotations

from twisted.words.protocols.jabber import error
from wokkel.pubsub import PubSubError

#: application condition → (stanza condition, type), XEP-0060 §6.5.9, §7.1.3, §7.1.5
CONDITIONS: dict[str | None, tuple[str, str]] = {
    "presence-subscription-required": ("not-authorized", "auth"),
    "not-in-roster-group": ("not-authorized", "auth"),
    "closed-node": ("not-allowed", "cancel"),
    "precondition-not-met": ("conflict", "cancel"),
    "payload-too-big": ("not-acceptable", "modify"),
    "invalid-payload": ("bad-request", "modify"),
    "item-required": ("bad-request", "modify"),
    "nodeid-required": ("not-acceptable", "modify"),
    "max-nodes-exceeded": ("not-allowed", "cancel"),
    "unsupported-access-model": ("not-acceptable", "modify"),
}


class PepError(Exception):
    """A request PEP refuses: ``condition`` is a stanza condition or, with ``app``, the
    XEP-0060 application condition that implies one."""

    def __init__(self, condition: str, app: str | None = None, text: str | None = None
                 ) -> None:
        super().__init__(text or app or condition)
        self.condition = condition
        self.app = app
        self.text = text


def refuse(app: str, text: str | None = None) -> PepError:
    """The error for a XEP-0060 application condition."""
    return PepError(CONDITIONS[app][0], app, text)


def stanza_error(e: PepError) -> error.StanzaError:
    if e.app is not None:
        condition, etype = CONDITIONS.get(e.app, (e.condition, "cancel"))
        failure = PubSubError(condition, e.app, text=e.text)
        failure.type = etype
        return failure
    return error.StanzaError(e.condition, text=e.text)
