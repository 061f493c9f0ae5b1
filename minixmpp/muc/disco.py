"""Discovering the service, its rooms and their occupants (XEP-0045 §6), through wokkel's
``IDisco``: the component's ``DiscoHandler`` asks this handler, beside the others."""

from __future__ import annotations

from typing import Any

from twisted.words.protocols.jabber import error
from twisted.words.protocols.jabber.jid import JID
from wokkel import disco
from wokkel.subprotocols import XMPPHandler

from minixmpp import ns
from minixmpp.discovery import EVERY_JID, Discoverable
from minixmpp.muc import config as roomconfig
from minixmpp.muc import render
from minixmpp.muc.registry import RoomRegistry
from minixmpp.muc.room import Room

#: what every room offers beyond its muc_* features (§6.4): the message id reflected
#: (§7.4, ``muc#stable_id``), voice requests (§7.13, §8.6), registration (§7.10), the
#: room's own answer to a self-ping (XEP-0410 §3.2)
ROOM_FEATURES = (ns.MUC_STABLE_ID, ns.MUC_REQUEST, ns.MUC_SELF_PING, ns.VCARD, ns.MAM,
                 ns.MAM_EXTENDED, ns.SID, ns.OCCUPANT_ID, ns.MODERATE, ns.MODERATE_0,
                 ns.PING, ns.REGISTER, ns.DISCO_INFO, ns.DISCO_ITEMS)


class RoomDisco(Discoverable, XMPPHandler):
    """§6.1–§6.2 the service, §6.3 its public rooms, §6.4 a room, §6.5 its occupants;
    ``vcard-temp`` on the service and rooms (XEP-0486 §3.1), the channel search on the
    service (XEP-0433 §4.1)."""

    disco_identities = (("conference", "text", "Chatrooms (minixmpp)"),)
    #: §7.4: ``muc#stable_id`` on the service and on each room
    disco_features = (ns.MUC, ns.MUC_STABLE_ID, ns.VCARD, ns.CHANNEL_SEARCH, ns.PING,
                      ns.OCCUPANT_ID)
    #: the service's JID, and rooms (JIDs with a localpart)
    disco_on = EVERY_JID

    def __init__(self, registry: RoomRegistry) -> None:
        super().__init__()
        self.registry = registry

    def disco_info(self, requestor: JID, target: JID) -> list[Any]:
        """§6.4: a room's identity, its ``muc_*`` features and its ``muc#roominfo`` form;
        a room that does not exist, or is locked to all but its owner (§10.1.1), is
        ``item-not-found``."""
        if target.user is None:
            return super().disco_info(requestor, target)
        if target.resource is not None:
            return []  # an occupant's, forwarded to it (messages.py)
        room = self._room(target)
        if room.locked and room.affiliation(requestor.userhost()) != "owner":
            raise error.StanzaError("item-not-found", text="no such room")
        return [disco.DiscoIdentity("conference", "text", room.config.name or room.name),
                disco.DiscoFeature(ns.MUC),
                *(disco.DiscoFeature(f) for f in roomconfig.features(room)),
                *(disco.DiscoFeature(f) for f in ROOM_FEATURES),
                roomconfig.roominfo(room)]

    def getDiscoItems(self, requestor: JID, target: JID, nodeIdentifier: str = ""
                      ) -> list[Any]:
        """§6.3 the public rooms that are open; §6.5 a room's occupants, to occupants or
        for a public room (as Prosody)."""
        if target.user is None:
            return [disco.DiscoItem(JID(room.jid), name=room.config.name or name)
                    for name, room in sorted(self.registry.rooms.items())
                    if room.config.public and not room.locked]
        if target.resource is not None:
            return []
        room = self._room(target)
        if not (room.config.public or room.occupants_of(requestor.userhost())):
            return []
        return [disco.DiscoItem(JID(render.occupant_jid(room, nick)))
                for nick in sorted(room.occupants)]

    def _room(self, target: JID) -> Room:
        room = self.registry.rooms.get(target.user or "")
        if room is None:
            raise error.StanzaError("item-not-found", text="no such room")
        self.registry.expire_lock(room)
        return room
