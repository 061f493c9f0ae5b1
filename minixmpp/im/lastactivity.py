"""Last Activity (XEP-0012): the server's uptime (§5) and offline contacts' last
logout (§4), as Prosody's mod_lastactivity answers them.

A query to an account's bare JID is answered by the server: ``forbidden`` unless the
requester is the account itself or subscribed to its presence (§4.1 "MUST NOT reveal");
``seconds='0'`` while a resource is available; else the seconds since the last
resource went unavailable, with that presence's status; ``item-not-found`` if the
account never logged out here.
"""

from __future__ import annotations

from collections.abc import Callable

from twisted.words.protocols.jabber import error
from twisted.words.xish import domish
from wokkel.subprotocols import IQHandlerMixin, XMPPHandler

from minixmpp import addressing, ns
from minixmpp.discovery import EVERY_JID, Discoverable
from minixmpp.feature import Context, Feature
from minixmpp.sessions import Session, SessionManager
from minixmpp.storage.interfaces import ILastActivityStore, IRosterStore

GET_LAST = f"/iq[@type='get']/query[@xmlns='{ns.LAST}']"


class LastActivityHandler(Discoverable, XMPPHandler, IQHandlerMixin):
    disco_features = (ns.LAST,)
    disco_on = EVERY_JID
    iqHandlers = {GET_LAST: "onLast"}

    def __init__(self, store: ILastActivityStore, rosters: IRosterStore,
                 sessions: SessionManager, clock: Callable[[], float]) -> None:
        super().__init__()
        self.store = store
        self.rosters = rosters
        self.sessions = sessions
        self.clock = clock
        self.started = clock()

    def connectionInitialized(self) -> None:
        self.xmlstream.addObserver(GET_LAST, self.handleRequest)

    def unavailable(self, session: Session, stanza: domish.Element) -> None:
        """A resource went unavailable: the last one records the logout (§4)."""
        if any(s is not session for s in self.sessions.available(session.user)):
            return
        status = next((str(c) for c in stanza.elements() if c.name == "status"), "")
        self.store.put(session.user, self.clock(), status)

    def onLast(self, iq: domish.Element) -> domish.Element:
        to, sender = addressing.parse(iq["to"]), addressing.parse(iq["from"])
        answer = domish.Element((ns.LAST, "query"))
        if to.user is None:  # §5: the server's uptime
            answer["seconds"] = str(int(self.clock() - self.started))
            return answer
        requester = sender.userhost()
        if requester != to.userhost():
            item = self.rosters.get(to.user, requester)
            if item is None or item.subscription not in ("from", "both"):
                raise error.StanzaError("forbidden")
        if self.sessions.available(to.user):
            answer["seconds"] = "0"
            return answer
        last = self.store.get(to.user)
        if last is None:
            raise error.StanzaError("item-not-found")
        when, status = last
        answer["seconds"] = str(max(0, int(self.clock() - when)))
        if status:
            answer.addContent(status)
        return answer


def build(ctx: Context) -> Feature:
    """The ``last`` feature: the IQ, and each resource's last logout (an unavailable
    presence listener)."""
    store = ctx.storage.last_activity
    handler = LastActivityHandler(store, ctx.storage.rosters, ctx.sessions,
                                  ctx.reactor.seconds)
    return Feature("last", service=handler, handlers=(handler,), unavailable=(handler,),
                   forget=store.drop)
