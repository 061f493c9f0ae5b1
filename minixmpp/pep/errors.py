"""PEP's domain errors are the pubsub family's (:mod:`minixmpp.pubsub.errors`): rules
raise :class:`PepError` with a XEP-0060 application condition; the protocol edge
(:func:`stanza_error`) turns it into the stanza error XEP-0060 names for it."""

from __future__ import annotations

from minixmpp.pubsub.errors import CONDITIONS, PubSubRefusal, refuse, stanza_error, unsupported

PepError = PubSubRefusal

__all__ = ["CONDITIONS", "PepError", "refuse", "stanza_error", "unsupported"]
