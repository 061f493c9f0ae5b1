"""Entity Time (XEP-0202) answered by the server: UTC, offset +00:00."""

from __future__ import annotations

import datetime
from collections.abc import Callable

from twisted.words.protocols.jabber import error
from twisted.words.xish import domish
from wokkel.subprotocols import IQHandlerMixin, XMPPHandler

from minixmpp import addressing, ns
from minixmpp.discovery import Discoverable
from minixmpp.feature import Context, Feature

GET_TIME = f"/iq[@type='get']/time[@xmlns='{ns.TIME}']"


class EntityTimeHandler(Discoverable, XMPPHandler, IQHandlerMixin):
    """XEP-0202 §3: the server's time; a bare JID's time is its resources' business."""

    disco_features = (ns.TIME,)

    iqHandlers = {GET_TIME: "onTime"}

    def __init__(self, clock: Callable[[], float]) -> None:
        super().__init__()
        self.clock = clock

    def connectionInitialized(self) -> None:
        self.xmlstream.addObserver(GET_TIME, self.handleRequest)

    def onTime(self, iq: domish.Element) -> domish.Element:
        if addressing.parse(iq["to"]).user is not None:
            raise error.StanzaError("service-unavailable")
        now = datetime.datetime.fromtimestamp(self.clock(), datetime.UTC)
        answer = domish.Element((ns.TIME, "time"))
        answer.addElement("tzo", content="+00:00")
        answer.addElement("utc", content=now.strftime("%Y-%m-%dT%H:%M:%S.") +
                          f"{now.microsecond // 1000:03d}Z")
        return answer


def build(ctx: Context) -> Feature:
    """The ``time`` feature (XEP-0202 on the domain JID)."""
    return Feature("time", handlers=(EntityTimeHandler(ctx.reactor.seconds),))
