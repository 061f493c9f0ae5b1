"""Entity Time (XEP-0202) answered by the server: UTC, offset +00:00."""

from __future__ import annotations

import datetime
from collections.abc import Callable
from typing import Any

from twisted.words.protocols.jabber import error
from twisted.words.xish import domish
from wokkel import disco
from wokkel.iwokkel import IDisco
from wokkel.subprotocols import IQHandlerMixin, XMPPHandler
from zope.interface import implementer

from minixmpp import addressing

NS_TIME = "urn:xmpp:time"
GET_TIME = f"/iq[@type='get']/time[@xmlns='{NS_TIME}']"


@implementer(IDisco)
class EntityTimeHandler(XMPPHandler, IQHandlerMixin):
    """XEP-0202 §3: the server's time; a bare JID's time is its resources' business."""

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
        answer = domish.Element((NS_TIME, "time"))
        answer.addElement("tzo", content="+00:00")
        answer.addElement("utc", content=now.strftime("%Y-%m-%dT%H:%M:%S.") +
                          f"{now.microsecond // 1000:03d}Z")
        return answer

    def getDiscoInfo(self, requestor: Any, target: Any, nodeIdentifier: str = "") -> list[Any]:
        if nodeIdentifier or target.user is not None:
            return []
        return [disco.DiscoFeature(NS_TIME)]

    def getDiscoItems(self, requestor: Any, target: Any, nodeIdentifier: str = "") -> list[Any]:
        return []
