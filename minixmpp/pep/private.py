"""Private XML storage (XEP-0049): one document per namespace, for the account only.

``storage:bookmarks`` is not stored here: it reads and writes XEP-0402 bookmarks in PEP
(``bookmarks.py``).
"""

from __future__ import annotations

from twisted.words.protocols.jabber import error
from twisted.words.protocols.jabber.jid import JID
from twisted.words.xish import domish
from wokkel import disco
from wokkel.iwokkel import IDisco
from wokkel.subprotocols import IQHandlerMixin, XMPPHandler
from zope.interface import implementer

from minixmpp import addressing
from minixmpp.pep.bookmarks import FEATURES, NS_LEGACY, Bookmarks
from minixmpp.pep.errors import PepError, stanza_error
from minixmpp.stanza import parse
from minixmpp.storage.interfaces import IPrivateStore

NS_PRIVATE = "jabber:iq:private"
QUERY = f"/iq[@type='get' or @type='set']/query[@xmlns='{NS_PRIVATE}']"
RESERVED = (None, "", NS_PRIVATE, "jabber:client", "jabber:server")


@implementer(IDisco)
class PrivateStorage(XMPPHandler, IQHandlerMixin):
    """XEP-0049 §2–§3 on the account's own bare JID; advertises the XEP-0402 §5
    compatibility features on the account."""

    iqHandlers = {"/iq[@type='get']": "onGet", "/iq[@type='set']": "onSet"}

    def __init__(self, store: IPrivateStore, bookmarks: Bookmarks, max_size: int) -> None:
        super().__init__()
        self.store = store
        self.bookmarks = bookmarks
        self.max_size = max_size

    def connectionInitialized(self) -> None:
        self.xmlstream.addObserver(QUERY, self.handleRequest)

    def _request(self, iq: domish.Element) -> tuple[str, domish.Element]:
        sender, to = addressing.parse(iq["from"]), addressing.parse(iq["to"])
        if to.user is None or to.userhost() != sender.userhost():
            raise error.StanzaError("forbidden", text="private XML is the account's own")
        children = list(iq.query.elements())
        if len(children) != 1:
            raise error.StanzaError("bad-request", text="exactly one element per request")
        if children[0].uri in RESERVED:
            raise error.StanzaError("not-acceptable", text="that namespace is reserved")
        return to.user, children[0]

    def _answer(self, element: domish.Element) -> domish.Element:
        query = domish.Element((NS_PRIVATE, "query"))
        query.addChild(element)
        return query

    def onGet(self, iq: domish.Element) -> domish.Element:
        user, wanted = self._request(iq)
        if wanted.uri == NS_LEGACY:
            return self._answer(self.bookmarks.legacy(user))
        stored = self.store.get(user, f"private:{wanted.uri}:{wanted.name}")
        empty = domish.Element((wanted.uri, wanted.name))
        return self._answer(parse(stored, neutral=False) if stored else empty)

    def onSet(self, iq: domish.Element) -> None:
        user, element = self._request(iq)
        if element.uri == NS_LEGACY:
            try:
                self.bookmarks.store_legacy(user, element)
            except PepError as e:
                raise stanza_error(e) from None
            return None
        xml = element.toXml()
        if len(xml.encode()) > self.max_size:
            raise error.StanzaError("not-acceptable", text=f"at most {self.max_size} bytes "
                                                           "(--pep-max-item-size)")
        self.store.put(user, f"private:{element.uri}:{element.name}", xml)
        return None

    def getDiscoInfo(self, requestor: JID, target: JID, nodeIdentifier: str = ""):
        if target.user is None or nodeIdentifier:
            return []
        return [disco.DiscoFeature(f) for f in FEATURES]

    def getDiscoItems(self, requestor: JID, target: JID, nodeIdentifier: str = ""):
        return []
