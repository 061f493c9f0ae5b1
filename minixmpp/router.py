"""The router and the local domain (RFC 6120 §8.1, §10; RFC 6121 §8).

:class:`Router` is Twisted's component router (one route per domain), quieter and
with RFC 6120 §10.4 errors for unknown domains. :class:`LocalDomain` is the route
of the served domain: it takes the stanzas the router gives it and decides, per
RFC 6121 §8.5, whether they go to a bound resource or to a server-side handler.
Server-side handlers are wokkel ``XMPPHandler``\\s attached to ``LocalDomain``; they
see only stanzas addressed to the server or, on the account's behalf, to a bare JID.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any, Protocol

from twisted.application import service
from twisted.logger import Logger
from twisted.words.protocols.jabber import component, jid, xmlstream
from twisted.words.xish import domish, utility

from minixmpp import addressing
from minixmpp.stanza import bounce

__all__ = ["LocalDomain", "Router", "SentListener", "bounce"]

if TYPE_CHECKING:
    from minixmpp.im.message import MessageDelivery
    from minixmpp.im.presence import PresenceHandler
    from minixmpp.sessions import Session, SessionManager
    from minixmpp.storage.interfaces import IAccountStore


class StanzaGuard(Protocol):
    """May stop a stanza at the edge of the local domain (True: it took care of it)."""

    def inbound(self, stanza: domish.Element, to: jid.JID) -> bool: ...

    def outbound(self, session: Session, stanza: domish.Element) -> bool: ...


class SentListener(Protocol):
    """Told of every message a local client sends, before it is routed, and again once
    the router is done with it."""

    def sent(self, session: Session, message: domish.Element) -> None: ...

    def routed(self, session: Session, message: domish.Element) -> None: ...


class Router(component.Router):
    """Routes stanzas by the domain of their ``to`` (RFC 6120 §8.1.1)."""

    log = Logger()

    def route(self, stanza: domish.Element) -> None:
        to = stanza.getAttribute("to")
        try:
            host = addressing.parse(to).host if to else addressing.parse(stanza["from"]).host
        except (jid.InvalidFormat, KeyError):
            return bounce(stanza, "jid-malformed", self.route)
        destination = self.routes.get(host)
        if destination is None:
            destination = self.routes.get(None)
        if destination is not None:
            destination.send(stanza)
        else:
            # RFC 6120 §8.3.3.15: we have no server-to-server connections.
            bounce(stanza, "remote-server-not-found", self.route)


class LocalDomain(xmlstream.XMPPHandlerCollection, service.Service):
    """The served domain: local delivery plus server-side handlers (RFC 6121 §8.5)."""

    log = Logger()

    def __init__(self, router: Router, domain: str, sessions: SessionManager,
                 accounts: IAccountStore, *, presence: PresenceHandler,
                 messages: MessageDelivery) -> None:
        xmlstream.XMPPHandlerCollection.__init__(self)
        self.router = router
        self.domain = domain
        self.sessions = sessions
        self.accounts = accounts
        self.presence = presence
        self.messages = messages
        #: told of every message a local client sends (archive, carbons), in order
        self.sent: tuple[SentListener, ...] = ()
        #: take an IQ result/error to the server that answers a request of ours (push
        #: publishes) before the handlers' observers see it: the hot path stays short
        self.replies: tuple[Callable[[domish.Element], bool], ...] = ()
        #: may stop IQs and presence to local accounts, and messages and IQs local clients
        #: send (blocking, XEP-0191); messages to local accounts go through the delivery
        #: stages instead
        self.guards: tuple[StanzaGuard, ...] = ()
        # Handlers talk to an XML pipe: what they send goes straight to the router (no
        # dispatch on the way out: nothing else observes it), what the router gives us
        # for the server is dispatched to them.
        self._pipe = utility.XmlPipe()
        self.xmlstream = self._pipe.source
        self.xmlstream.send = router.route
        router.routes[domain] = self

    def install(self, *, sent: Sequence[SentListener] = (),
                guards: Sequence[StanzaGuard] = (),
                replies: Sequence[Callable[[domish.Element], bool]] = ()) -> None:
        """What the features declared, in the order they run (``Server``, once)."""
        self.sent, self.guards, self.replies = tuple(sent), tuple(guards), tuple(replies)

    def addHandler(self, handler: Any) -> None:
        xmlstream.XMPPHandlerCollection.addHandler(self, handler)
        handler.makeConnection(self.xmlstream)
        handler.connectionInitialized()

    # -- outbound: from a local client -----------------------------------------------------

    def from_client(self, session: Session, stanza: domish.Element) -> None:
        """A stamped stanza from one of our clients (RFC 6120 §10)."""
        if stanza.name == "presence":
            return self.presence.outbound(session, stanza)
        if stanza.getAttribute("to") is None:
            # RFC 6120 §10.3: no 'to' means the account's bare JID.
            stanza["to"] = session.jid.userhost()
        for guard in self.guards:
            if guard.outbound(session, stanza):
                return
        if stanza.name != "message":
            return self.router.route(stanza)
        for listener in self.sent:
            listener.sent(session, stanza)
        try:
            self.router.route(stanza)
        finally:  # the archive writes what waited for delivery, even if delivery failed
            for listener in self.sent:
                listener.routed(session, stanza)

    def route(self, stanza: domish.Element) -> None:
        """Send a stanza from the server into the router."""
        self.router.route(stanza)

    # -- inbound: from the router ------------------------------------------------------------

    def send(self, stanza: domish.Element) -> None:
        """The router gives us a stanza addressed to our domain."""
        try:
            to = addressing.parse(stanza["to"])
        except (jid.InvalidFormat, KeyError):
            return bounce(stanza, "jid-malformed", self.route)
        if stanza.name in ("iq", "presence"):
            for guard in self.guards:
                if guard.inbound(stanza, to):
                    return
        if stanza.name == "iq":
            self._iq(stanza, to)
        elif stanza.name == "message":
            if to.user is None:
                return  # messages to the server itself: nothing to do
            self.messages.deliver(stanza, to)
        elif stanza.name == "presence":
            if to.user is not None:
                self.presence.inbound(stanza, to)
        # any other element is dropped: only clients and components create stanzas

    def _iq(self, iq: domish.Element, to: jid.JID) -> None:
        """RFC 6121 §8.5.1–8.5.3 for IQs; server-side handlers answer the rest."""
        itype = iq.getAttribute("type")
        if itype in ("result", "error") and to.user is None:
            for reply in self.replies:
                if reply(iq):
                    return
        if to.user is not None and not self.accounts.exists(to.user):
            return bounce(iq, "service-unavailable", self.route)
        if to.resource is not None:
            session = self.sessions.get(to)
            if session is not None:
                session.send(iq)
            elif itype in ("get", "set"):
                bounce(iq, "service-unavailable", self.route)
            return
        self.dispatch(iq)
        if itype in ("get", "set") and not getattr(iq, "handled", False):
            bounce(iq, "service-unavailable", self.route)

    def dispatch(self, stanza: domish.Element) -> None:
        """Hand a stanza to the server-side handlers."""
        self._pipe.sink.send(stanza)
