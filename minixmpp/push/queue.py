"""What a sleeping session's queue is, for push: Prosody's importance of a stanza.

mod_cloud_notify (Prosody 13, ``plugins/mod_cloud_notify.lua``, ``is_important``)
pushes a hibernated session's queue in two kinds: *important* stanzas (a message with a
body, an encrypted payload, a call proposal) get a push with the important body, any
other stanza (a presence, an IQ, a chat state, a receipt, a headline, an outgoing
carbon copy) a body-less one.
"""

from __future__ import annotations

from twisted.words.xish import domish

from minixmpp import ns
from minixmpp.push import message as push_message
from minixmpp.push.message import ENCRYPTED, PushMessage


def _carbon(stanza: domish.Element) -> tuple[domish.Element, str] | None:
    """The message a carbon copy carries and its direction (XEP-0280 §7)."""
    for child in stanza.elements(ns.CARBONS):
        for forwarded in child.elements(ns.FORWARD, "forwarded"):
            for inner in forwarded.elements():
                if inner.name == "message":
                    return inner, "out" if child.name == "sent" else "in"
    return None


def important(stanza: domish.Element) -> bool:
    """Prosody's is_important: an incoming message (or received carbon copy) that is not
    a headline, with an OMEMO, legacy PGP or OX payload, a Jingle proposal, or a
    non-empty body that is not a group chat subject change."""
    if stanza.name != "message":
        return False
    carbon = _carbon(stanza)
    if carbon is not None:
        stanza, direction = carbon
        if direction == "out":
            return False
    kind = stanza.getAttribute("type")
    if kind == "headline":
        return False
    body = subject = None
    for child in stanza.elements():
        if (child.uri, child.name) in ENCRYPTED:
            return True
        if child.uri == ns.JINGLE_MESSAGE and child.name == "propose":
            return True
        if child.name == "body" and child.uri in (None, ns.CLIENT):
            body = str(child)
        elif child.name == "subject" and child.uri in (None, ns.CLIENT):
            subject = str(child)
    if kind == "groupchat" and subject:
        return False
    return bool(body)


def view(stanza: domish.Element, user: str) -> PushMessage | None:
    """The push view of any queued stanza: a message as :func:`push_message.read`
    reads it, anything else as a stanza from its sender with no body."""
    if stanza.name == "message":
        return push_message.read(stanza, user)
    sender = stanza.getAttribute("from") or ""
    return PushMessage(type=stanza.name, sender=sender,
                       sender_bare=sender.partition("/")[0], own=False, body=None,
                       encrypted=False, carbon=False, call=None, archived=False)
