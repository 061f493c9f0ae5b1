"""Room avatars (XEP-0486): the room's ``vcard-temp`` vCard, set by its owners and read by
anyone (§3.2, §3.4), its PHOTO hashes in the ``muc#roominfo`` form (§3.3, in
:mod:`.config`), a change told to the occupants with status 104 (§3.2) and, as Prosody's
``vcard.lib.lua`` does, with the XEP-0153 presence from the room's bare JID (§5.2), also
sent to each occupant on entering."""

from __future__ import annotations

import base64
import binascii
import hashlib
import uuid
from collections.abc import Callable

from twisted.words.xish import domish

from minixmpp import ns
from minixmpp.muc import render
from minixmpp.muc.registry import RoomRegistry
from minixmpp.muc.request import Request
from minixmpp.muc.room import MucError, Room
from minixmpp.stanza import parse


class Avatars:
    """IQs with ``<vCard xmlns='vcard-temp'/>`` to every room of the registry."""

    def __init__(self, registry: RoomRegistry, send: Callable[[domish.Element], None]) -> None:
        self.registry = registry
        self.send = send

    def get(self, request: Request) -> domish.Element:
        """§3.4: the room's vCard, to anyone; an empty one when none is set."""
        room = request.existing_room()
        if not room.vcard:
            return domish.Element((ns.VCARD, "vCard"))
        return parse(room.vcard, ns.VCARD, neutral=False)

    def set(self, request: Request) -> None:
        """§3.2: owners set the vCard (an empty one unpublishes the avatar); at most
        ``limits.vcard`` bytes (``--pep-max-item-size``, as an account's vCard)."""
        room, vcard = request.existing_room(), request.payload
        if room.affiliation(request.bare) != "owner":
            raise MucError("forbidden", "only owners are allowed to set avatars")  # §6
        assert vcard is not None
        xml = vcard.toXml() if list(vcard.elements()) else ""
        if len(xml.encode()) > self.registry.limits.vcard:
            raise MucError("not-acceptable", f"at most {self.registry.limits.vcard} bytes "
                                             "(--pep-max-item-size)")
        room.vcard, room.avatar_hashes = xml, photo_hashes(vcard)
        self.registry.save(room)
        self.changed(room)

    def changed(self, room: Room) -> None:
        """§3.2: status 104 to every occupant; the XEP-0153 hash from the room (§5.2)."""
        for _, full in room.sessions():
            message = domish.Element((None, "message"))
            message["from"], message["to"], message["type"] = room.jid, full, "groupchat"
            message["id"] = str(uuid.uuid4())
            render.user_x(message, ("104",))
            self.send(message)
            self.send(render.avatar_presence(room, full))


def photo_hashes(vcard: domish.Element) -> list[str]:
    """XEP-0486 §3.3 and §5.1: the SHA-1 (XEP-0153) of each PHOTO's decoded BINVAL, in
    order; a BINVAL that is not base64 is ``bad-request``."""
    hashes = []
    for photo in vcard.elements():
        if photo.name != "PHOTO":
            continue
        binval = next((c for c in photo.elements() if c.name == "BINVAL"), None)
        text = "".join(str(binval).split()) if binval is not None else ""
        if not text:
            continue
        try:
            data = base64.b64decode(text, validate=True)
        except (binascii.Error, ValueError):
            raise MucError("bad-request", "BINVAL is not base64") from None
        hashes.append(hashlib.sha1(data).hexdigest())
    return hashes
