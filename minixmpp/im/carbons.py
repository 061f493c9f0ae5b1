"""Message Carbons (XEP-0280): copies of a user's chats to their other resources."""

from __future__ import annotations

from twisted.words.protocols.jabber import error
from twisted.words.xish import domish
from wokkel.subprotocols import IQHandlerMixin, XMPPHandler

from minixmpp import addressing, ns
from minixmpp.discovery import Discoverable
from minixmpp.feature import Context, Feature
from minixmpp.im.message import DELIVERED, Outcome
from minixmpp.sessions import Session, SessionManager
from minixmpp.stanza import qualified


def eligible(message: domish.Element) -> bool:
    """XEP-0280 §6: chat messages, and normal ones with a body; not marked private
    (or ``no-copy``, XEP-0334) and not carbons themselves."""
    kind = message.getAttribute("type") or "normal"
    children = list(message.elements())
    if any(c.uri == ns.CARBONS or (c.uri == ns.HINTS and c.name == "no-copy")
           for c in children):
        return False
    if kind == "chat":
        return True
    return kind == "normal" and any(c.name == "body" and c.uri is None for c in children)


class CarbonsHandler(Discoverable, XMPPHandler, IQHandlerMixin):
    """``<enable/>``/``<disable/>`` (§4, §5) and the copies (§6, §7)."""

    disco_features = (ns.CARBONS,)

    iqHandlers = {f"/iq[@type='set']/enable[@xmlns='{ns.CARBONS}']": "onEnable",
                  f"/iq[@type='set']/disable[@xmlns='{ns.CARBONS}']": "onDisable"}

    def __init__(self, sessions: SessionManager) -> None:
        super().__init__()
        self.sessions = sessions

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
        eligible (asked only when there is someone to copy to)."""
        targets = [s for s in self.sessions.of(user) if s.carbons and s not in exclude]
        if not targets or not eligible(message):
            return
        for session in targets:
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
                   sent=(carbons,))
