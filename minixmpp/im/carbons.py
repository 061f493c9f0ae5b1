"""Message Carbons (XEP-0280): copies of a user's chats to their other resources.

The server advertises ``urn:xmpp:carbons:rules:0`` (§6.2), so the rules of §6.1 are
followed as REQUIRED: :class:`Rules` decides which messages are copied.
"""

from __future__ import annotations

from collections import OrderedDict

from twisted.words.protocols.jabber import error, jid
from twisted.words.xish import domish
from wokkel.subprotocols import IQHandlerMixin, XMPPHandler

from minixmpp import addressing, ns
from minixmpp.discovery import Discoverable
from minixmpp.feature import Context, Feature
from minixmpp.im.message import DELIVERED, Outcome
from minixmpp.sessions import Session, SessionManager
from minixmpp.stanza import qualified

#: payloads "typically used in IM" (§6.1): receipts, chat states, chat markers
IM_PAYLOADS = frozenset({ns.RECEIPTS, ns.CHATSTATES, ns.CHAT_MARKERS})


def _bare(address: str | None) -> str | None:
    """The bare JID of ``address`` (None when absent or unparsable)."""
    if not address:
        return None
    try:
        return addressing.parse(address).userhost()
    except jid.InvalidFormat:
        return None


def _has_resource(address: str | None) -> bool:
    """Is ``address`` a full JID (stamped by the server, so well-formed)?"""
    return address is not None and "/" in address


class Rules:
    """XEP-0280 §6.1 (REQUIRED once ``urn:xmpp:carbons:rules:0`` is advertised).

    A message is copied unless it is marked ``<private/>`` (§7, with Prosody also
    ``<no-copy/>``, XEP-0334) or is a carbon itself, and if one of these holds: type
    ``chat``; type ``normal`` with a ``<body/>``; an IM payload (XEP-0184, XEP-0085,
    XEP-0333); type ``error`` in answer to a message that was copied; a direct (XEP-0249)
    or mediated (XEP-0045 §7.8.2) invitation. Never ``groupchat``, nor a private message
    a MUC participant sends to the user (the room already gives it to every joined
    client); the user's own private messages to a participant are ordinary chats.

    The error rule needs the messages it answers: the ids of eligible messages are kept,
    per account and peer, for the last :data:`KEEP` of them (accounts with a
    carbons-enabled session only).
    """

    #: eligible message ids remembered for the error rule, all accounts together
    KEEP = 4096

    def __init__(self) -> None:
        self._ids: OrderedDict[tuple[str, str, str], None] = OrderedDict()

    def eligible(self, message: domish.Element, user: str, incoming: bool) -> bool:
        """Is ``message`` (received by, or sent by, ``user``) copied? Eligible messages
        are remembered for the error rule."""
        kind = message.getAttribute("type") or "normal"
        peer = _bare(message.getAttribute("from" if incoming else "to"))
        children = list(message.elements())
        uris = {c.uri for c in children}
        if ns.CARBONS in uris or kind == "groupchat" or any(
                c.uri == ns.HINTS and c.name == "no-copy" for c in children):
            return False
        if kind == "error":
            ident = message.getAttribute("id")
            return bool(ident and peer) and (user, peer, ident) in self._ids
        muc = next((c for c in children if c.uri == ns.MUC_USER and c.name == "x"), None)
        invitation = ns.CONFERENCE in uris or (
            muc is not None and any(c.name == "invite" for c in muc.elements()))
        if (not invitation and incoming and muc is not None
                and _has_resource(message.getAttribute("from"))
                and _has_resource(message.getAttribute("to"))):
            return False  # a participant's private message, from the room
        if not (kind == "chat" or invitation or uris & IM_PAYLOADS or (
                kind == "normal" and any(c.name == "body" and c.uri is None
                                         for c in children))):
            return False
        ident = message.getAttribute("id")
        if ident and peer:
            self._remember((user, peer, ident))
        return True

    def _remember(self, key: tuple[str, str, str]) -> None:
        self._ids[key] = None
        self._ids.move_to_end(key)
        while len(self._ids) > self.KEEP:
            self._ids.popitem(last=False)

    def forget(self, user: str) -> None:
        for key in [k for k in self._ids if k[0] == user]:
            del self._ids[key]

    def clear(self) -> None:
        self._ids.clear()


class CarbonsHandler(Discoverable, XMPPHandler, IQHandlerMixin):
    """``<enable/>``/``<disable/>`` (§4, §5) and the copies (§6, §7)."""

    disco_features = (ns.CARBONS, ns.CARBONS_RULES)

    iqHandlers = {f"/iq[@type='set']/enable[@xmlns='{ns.CARBONS}']": "onEnable",
                  f"/iq[@type='set']/disable[@xmlns='{ns.CARBONS}']": "onDisable"}

    def __init__(self, sessions: SessionManager) -> None:
        super().__init__()
        self.sessions = sessions
        self.rules = Rules()

    def connectionInitialized(self) -> None:
        self.xmlstream.addObserver(f"/iq[@type='set']/*[@xmlns='{ns.CARBONS}']",
                                   self.handleRequest)

    def _session(self, iq: domish.Element) -> Session:
        sender, to = addressing.parse(iq["from"]), addressing.parse(iq["to"])
        session = self.sessions.get(sender)
        if session is None or to.userhost() != sender.userhost():
            raise error.StanzaError("forbidden")
        return session

    def onEnable(self, iq: domish.Element) -> None:
        self._session(iq).carbons = True

    def onDisable(self, iq: domish.Element) -> None:
        self._session(iq).carbons = False

    def delivered(self, outcome: Outcome) -> None:
        """§6: a message delivered to some resources is copied to the others."""
        if outcome.result == DELIVERED:
            self._copy(outcome.stanza, outcome.user, "received", exclude=outcome.targets)

    def sent(self, session: Session, message: domish.Element) -> None:
        """§7: a message a resource sent is copied to the user's other resources."""
        self._copy(message, session.user, "sent", exclude=(session,))

    def routed(self, session: Session, message: domish.Element) -> None:
        """Nothing to do once the message is routed (``router.SentListener``)."""

    def _copy(self, message: domish.Element, user: str, direction: str,
              exclude: tuple[Session, ...]) -> None:
        """Copy to the account's other carbons-enabled sessions, if the message is
        eligible (asked only when the account has a carbons-enabled session)."""
        enabled = [s for s in self.sessions.of(user) if s.carbons]
        if not enabled or not self.rules.eligible(message, user, direction == "received"):
            return
        for session in enabled:
            if session in exclude:
                continue
            copy = domish.Element((None, "message"))
            copy["from"] = session.jid.userhost()
            copy["to"] = session.jid.full()
            copy["type"] = message.getAttribute("type") or "normal"
            copy.addElement((ns.CARBONS, direction)).addElement(
                (ns.FORWARD, "forwarded")).addChild(qualified(message))
            session.send(copy)


def build(ctx: Context) -> Feature:
    """The ``carbons`` feature: enable/disable IQs, and copies of what is received
    (a delivery listener) and sent (a sent listener)."""
    carbons = CarbonsHandler(ctx.sessions)
    return Feature("carbons", service=carbons, handlers=(carbons,), listeners=(carbons,),
                   sent=(carbons,), forget=carbons.rules.forget, clear=carbons.rules.clear)
