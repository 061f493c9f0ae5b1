"""What the push rules need to know about a message, read once from its XML.

The edge of the push path: :func:`read` walks the stanza; the policy, the filters and
the notifier decide on the plain :class:`PushMessage` it returns.
"""

from __future__ import annotations

from dataclasses import dataclass

from twisted.words.protocols.jabber import jid
from twisted.words.xish import domish

from minixmpp import addressing, ns

#: Payloads that stand for an encrypted body (OMEMO legacy and v2, OX, legacy PGP).
ENCRYPTED = {(ns.OMEMO_LEGACY, "encrypted"), (ns.OMEMO, "encrypted"), (ns.OPENPGP, "openpgp"),
             (ns.ENCRYPTED, "x")}
#: where an App Server's affiliation change comes (XEP-0357 §8, XEP-0060 §8.9.4)
PUBSUB = (ns.PUBSUB, ns.PUBSUB_EVENT)
#: XEP-0353 §3 actions a message may carry
JMI_ACTIONS = ("propose", "retract", "accept", "reject", "proceed")


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
    #: the account's archive kept it: the archive stage stamped its ``<stanza-id/>``
    #: (XEP-0313 §3.5), which it does only as the account's preferences say (XEP-0441)
    archived: bool
    #: a ``<pubsub/>`` child: an App Server's affiliation change (XEP-0357 §8)
    pubsub: domish.Element | None = None

    @property
    def nick(self) -> str:
        """For groupchat: the occupant's nickname (the resource of the room JID)."""
        return self.sender.partition("/")[2]


def _call(child: domish.Element) -> Call:
    media = tuple(dict.fromkeys(
        d.getAttribute("media") for d in child.elements()
        if d.name == "description" and d.uri == ns.JINGLE_RTP and d.getAttribute("media")))
    return Call(child.name, child.getAttribute("id") or "", media)


def read(stanza: domish.Element, user: str) -> PushMessage | None:
    """The push view of ``stanza`` addressed to ``user``; None for anything but a
    message with a valid ``from``. One walk over the children (on the push path)."""
    if stanza.name != "message":
        return None
    attributes = stanza.attributes
    try:
        sender = addressing.parse(attributes.get("from") or "")
        to = addressing.parse(attributes.get("to") or "")
    except jid.InvalidFormat:
        return None
    mtype = attributes.get("type") or "normal"
    body = call = pubsub = None
    encrypted = carbon = archived = False
    archive = f"{user}@{to.host}"
    for child in stanza.children:
        if not isinstance(child, domish.Element):
            continue
        uri, name = child.uri, child.name
        if uri == ns.SID and name == "stanza-id" and child.attributes.get("by") == archive:
            archived = True  # stamped by the archive stage: kept under the account's prefs
        if body is None and name == "body" and uri in (None, ns.CLIENT):
            body = str(child)
        elif uri == ns.CARBONS:
            carbon = True
        elif uri == ns.JINGLE_MESSAGE:
            if call is None and name in JMI_ACTIONS:
                call = _call(child)
        elif (uri, name) in ENCRYPTED:
            encrypted = True
        elif name == "pubsub" and uri in PUBSUB:
            pubsub = child
    return PushMessage(
        type=mtype, sender=sender.full(), sender_bare=sender.userhost(),
        own=sender.user == user and sender.host == to.host, body=body,
        encrypted=encrypted, carbon=carbon, call=call,
        archived=archived, pubsub=pubsub)
