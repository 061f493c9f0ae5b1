"""Private XML storage (XEP-0049): one document per namespace, for the account only.

``storage:bookmarks`` is not stored here: it reads and writes XEP-0402 bookmarks in PEP
(``bookmarks.py``).
"""

from __future__ import annotations

from twisted.words.protocols.jabber import error
from twisted.words.xish import domish
from wokkel.subprotocols import IQHandlerMixin, XMPPHandler

from minixmpp import addressing, ns
from minixmpp.discovery import ACCOUNT, Discoverable
from minixmpp.pep.bookmarks import FEATURES, Bookmarks
from minixmpp.pep.errors import PepError, stanza_error
from minixmpp.stanza import parse
from minixmpp.storage.interfaces import IPrivateStore

QUERY = f"/iq[@type='get' or @type='set']/query[@xmlns='{ns.PRIVATE}']"
RESERVED = (None, "", ns.PRIVATE, ns.CLIENT, ns.SERVER)


class PrivateStorage(Discoverable, XMPPHandler, IQHandlerMixin):
    """XEP-0049 §2–§3 on the account's own bare JID; advertises the XEP-0402 §5
    compatibility features on the account."""

    disco_features = FEATURES
    disco_on = frozenset({ACCOUNT})

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
        query = domish.Element((ns.PRIVATE, "query"))
        query.addChild(element)
        return query

    def onGet(self, iq: domish.Element) -> domish.Element:
        user, wanted = self._request(iq)
        if wanted.uri == ns.BOOKMARKS_LEGACY:
            return self._answer(self.bookmarks.legacy(user))
        stored = self.store.get(user, f"private:{wanted.uri}:{wanted.name}")
        empty = domish.Element((wanted.uri, wanted.name))
        return self._answer(parse(stored, neutral=False) if stored else empty)

    def onSet(self, iq: domish.Element) -> None:
        user, element = self._request(iq)
        if element.uri == ns.BOOKMARKS_LEGACY:
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
