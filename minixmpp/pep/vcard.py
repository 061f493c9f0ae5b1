"""vCard-temp (XEP-0054) with the PEP avatar conversion (XEP-0398) and photo hashes in
presence (XEP-0153), as Prosody's mod_vcard_legacy does.

The vCard is stored as sent. Its ``<PHOTO/>`` is also published as a XEP-0084 avatar
(data and metadata nodes, ``open`` access, as vCards are public); on every read the
``<PHOTO/>`` comes from the current PEP avatar, so an avatar published with XEP-0084
shows in the vCard too. Available presence gets ``<x xmlns='vcard-temp:x:update'>`` with
the avatar's hash.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
from typing import Any

from twisted.words.protocols.jabber import error
from twisted.words.protocols.jabber.jid import JID
from twisted.words.xish import domish
from wokkel import disco
from wokkel.subprotocols import IQHandlerMixin, XMPPHandler

from minixmpp import addressing, ns
from minixmpp.discovery import EVERY_JID, Discoverable
from minixmpp.pep.errors import PepError, stanza_error
from minixmpp.pep.resource import PEPResource, parse_payload
from minixmpp.sessions import Session
from minixmpp.stanza import parse
from minixmpp.storage.interfaces import IPrivateStore, PepItem

KEY = "vcard"
AVATAR_OPTIONS = {"pubsub#access_model": "open"}


def _child(parent: domish.Element, name: str) -> domish.Element | None:
    return next((c for c in parent.elements() if c.name == name), None)


class VCardHandler(Discoverable, XMPPHandler, IQHandlerMixin):
    """XEP-0054 §3 get/set; XEP-0398 §3 conversion; XEP-0153 §3.2 hashes."""

    disco_on = EVERY_JID

    iqHandlers = {"/iq[@type='get']": "onGet", "/iq[@type='set']": "onSet"}

    def __init__(self, store: IPrivateStore, pep: PEPResource, max_size: int) -> None:
        super().__init__()
        self.store = store
        self.pep = pep
        self.max_size = max_size
        self._hashes: dict[str, str | None] = {}

    def connectionInitialized(self) -> None:
        self.xmlstream.addObserver(f"/iq[@type='get' or @type='set']/vCard[@xmlns='{ns.VCARD}']",
                                   self.onVCard)

    def onVCard(self, iq: domish.Element) -> None:
        if addressing.parse(iq["to"]).user is not None:  # the server's own: not ours
            self.handleRequest(iq)

    def onGet(self, iq: domish.Element) -> domish.Element:
        """Anyone may read an account's vCard (XEP-0054 §3.2)."""
        owner = addressing.parse(iq["to"]).user or ""
        stored = self.store.get(owner, KEY)
        vcard = parse(stored, neutral=False) if stored else domish.Element((ns.VCARD, "vCard"))
        photo = self._photo(owner, addressing.parse(iq["from"]).userhost())
        if photo is not None:
            vcard.children = [c for c in vcard.children
                              if not (isinstance(c, domish.Element) and c.name == "PHOTO")]
            vcard.addChild(photo)
        return vcard

    def onSet(self, iq: domish.Element) -> None:
        sender, to = addressing.parse(iq["from"]), addressing.parse(iq["to"])
        if to.userhost() != sender.userhost():
            raise error.StanzaError("forbidden", text="only the account sets its vCard")
        owner = to.user or ""
        vcard = iq.vCard
        xml = vcard.toXml()
        if len(xml.encode()) > self.max_size:
            raise error.StanzaError("not-acceptable", text=f"at most {self.max_size} bytes "
                                                           "(--pep-max-item-size)")
        photo = _child(vcard, "PHOTO")
        try:
            if photo is not None:
                self._publish_photo(owner, photo, sender.full())
        except PepError as e:
            raise stanza_error(e) from None
        self.store.put(owner, KEY, xml)
        return None

    # -- XEP-0398: vCard PHOTO ↔ XEP-0084 ---------------------------------------------------

    def _publish_photo(self, owner: str, photo: domish.Element, publisher: str) -> None:
        binval = _child(photo, "BINVAL")
        metadata = domish.Element((ns.AVATAR_METADATA, "metadata"))
        if binval is None or not str(binval).strip():
            # An empty PHOTO: no avatar (XEP-0084 §4.5).
            self.pep.publish_item(owner, ns.AVATAR_METADATA, "current", metadata, publisher,
                                  self._options(owner, ns.AVATAR_METADATA))
            return
        text = "".join(str(binval).split())
        try:
            data = base64.b64decode(text, validate=True)
        except (binascii.Error, ValueError):
            raise error.StanzaError("bad-request", text="BINVAL is not base64") from None
        digest = hashlib.sha1(data).hexdigest()
        mime = _child(photo, "TYPE")
        element = domish.Element((ns.AVATAR_DATA, "data"))
        element.addContent(text)
        self.pep.publish_item(owner, ns.AVATAR_DATA, digest, element, publisher,
                              self._options(owner, ns.AVATAR_DATA))
        info = metadata.addElement("info")
        info["id"], info["bytes"] = digest, str(len(data))
        info["type"] = str(mime).strip() if mime is not None and str(mime).strip() \
            else "image/png"
        self.pep.publish_item(owner, ns.AVATAR_METADATA, digest, metadata, publisher,
                              self._options(owner, ns.AVATAR_METADATA))

    def _options(self, owner: str, node: str) -> dict[str, str] | None:
        """Options for a node we create; an existing node keeps the owner's choice."""
        return AVATAR_OPTIONS if self.pep.store.node(owner, node) is None else None

    def _current(self, owner: str) -> tuple[domish.Element, PepItem] | None:
        items = self.pep.store.items(owner, ns.AVATAR_METADATA)
        return (parse_payload(items[-1]), items[-1]) if items else None

    def _photo(self, owner: str, requester: str) -> domish.Element | None:
        """``<PHOTO/>`` from the PEP avatar, if there is one the requester may see."""
        node = self.pep.store.node(owner, ns.AVATAR_METADATA)
        current = self._current(owner)
        if node is None or current is None or not self.pep.readable(owner, node, requester):
            return None
        metadata, _ = current
        for info in metadata.elements(ns.AVATAR_METADATA, "info"):
            if info.getAttribute("url"):
                continue
            data = self.pep.store.item(owner, ns.AVATAR_DATA, info.getAttribute("id", ""))
            if data is None:
                continue
            photo = domish.Element((ns.VCARD, "PHOTO"))
            photo.addElement("TYPE", content=info.getAttribute("type", "image/png"))
            photo.addElement("BINVAL", content=str(parse_payload(data)).strip())
            return photo
        return None

    # -- XEP-0153: the hash in presence ----------------------------------------------------

    def avatar_hash(self, owner: str) -> str | None:
        if owner not in self._hashes:
            current = self._current(owner)
            info = next(current[0].elements(ns.AVATAR_METADATA, "info"), None) if current else None
            self._hashes[owner] = info.getAttribute("id") if info is not None else (
                "" if current else None)
        return self._hashes[owner]

    def changed(self, owner: str, name: str, item: PepItem | None) -> None:
        if name == ns.AVATAR_METADATA:
            self._hashes.pop(owner, None)

    def presence(self, session: Session, stanza: domish.Element) -> None:
        """Before broadcast: ``<photo/>`` is the PEP avatar's hash (empty: no avatar)."""
        digest = self.avatar_hash(session.user)
        if digest is None:
            return
        update = next(stanza.elements(ns.VCARD_UPDATE, "x"), None)
        if update is None:
            update = stanza.addElement((ns.VCARD_UPDATE, "x"))
        update.children = [c for c in update.children
                           if not (isinstance(c, domish.Element) and c.name == "photo")]
        update.addElement("photo", content=digest or None)

    def forget(self, owner: str) -> None:
        self._hashes.pop(owner, None)

    def disco_info(self, requestor: JID, target: JID) -> list[Any]:
        return [disco.DiscoFeature(ns.VCARD if target.user is None
                                   else ns.PEP_VCARD_CONVERSION)]
