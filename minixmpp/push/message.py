"""What the push rules need to know about a message, read once from its XML.

The edge of the push path: :func:`read` walks the stanza; the policy, the filters and
the notifier decide on the plain :class:`PushMessage` it returns.
"""

from __future__ import annotations

from dataclasses import dataclass

from twisted.words.protocols.jabber import jid
from twisted.words.xish import domish

from minixmpp import addressing
from minixmpp.im import mam

#: Payloads that stand for an encrypted body (OMEMO legacy and v2, OX, legacy PGP).
ENCRYPTED = {
    ("eu.siacs.conversations.axolotl", "encrypted"),
    ("urn:xmpp:omemo:2", "encrypted"),
    ("urn:xmpp:openpgp:0", "openpgp"),
    ("jabber:x:encrypted", "x"),
}
NS_CARBONS = "urn:xmpp:carbons:2"
NS_JMI = "urn:xmpp:jingle-message:0"  # XEP-0353
NS_RTP = "urn:xmpp:jingle:apps:rtp:1"  # XEP-0167 descriptions carry the media


@dataclass(frozen=True)
class Call:
    """A Jingle Message Initiation (XEP-0353 §3) action: ``propose`` with its media."""

    action: str
    sid: str
    media: tuple[str, ...] = ()


@dataclass(frozen=True)
class PushMessage:
    """One message for ``user``, as the push rules see it."""

    type: str  # chat | normal | groupchat | headline | error
    sender: str  # full JID as stamped ('' when unparsable)
    sender_bare: str
    own: bool  # from the account itself
    body: str | None
    encrypted: bool
    carbon: bool
    call: Call | None
    archivable: bool

    @property
    def nick(self) -> str:
        """For groupchat: the occupant's nickname (the resource of the room JID)."""
        return self.sender.partition("/")[2]


def _body(stanza: domish.Element) -> str | None:
    for child in stanza.elements():
        if child.name == "body" and child.uri in (None, "jabber:client"):
            return str(child)
    return None


def _call(stanza: domish.Element) -> Call | None:
    for child in stanza.elements():
        if child.uri == NS_JMI and child.name in ("propose", "retract", "accept", "reject",
                                                  "proceed"):
            media = tuple(dict.fromkeys(
                d.getAttribute("media") for d in child.elements()
                if d.name == "description" and d.uri == NS_RTP and d.getAttribute("media")))
            return Call(child.name, child.getAttribute("id") or "", media)
    return None


def read(stanza: domish.Element, user: str) -> PushMessage | None:
    """The push view of ``stanza`` addressed to ``user``; None for anything but a
    message with a valid ``from``."""
    if stanza.name != "message":
        return None
    try:
        sender = addressing.parse(stanza.getAttribute("from") or "")
        to = addressing.parse(stanza.getAttribute("to") or "")
    except jid.InvalidFormat:
        return None
    return PushMessage(
        type=stanza.getAttribute("type") or "normal",
        sender=sender.full(), sender_bare=sender.userhost(),
        own=sender.user == user and sender.host == to.host,
        body=_body(stanza),
        encrypted=any((c.uri, c.name) in ENCRYPTED for c in stanza.elements()),
        carbon=any(c.uri == NS_CARBONS for c in stanza.elements()),
        call=_call(stanza),
        archivable=mam.archivable(stanza))
