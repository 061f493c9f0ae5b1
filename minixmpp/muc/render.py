"""How a room shows its occupants (XEP-0045 §7.2.3, §15.6): the one place that builds
``<x xmlns='…muc#user'/>`` with its ``<item/>`` and status codes, and the copies of a
client's stanza that the room passes on."""

from __future__ import annotations

from collections.abc import Iterable

from twisted.words.xish import domish

from minixmpp import ns
from minixmpp.muc.room import Occupant, Room, RoomConfig

#: children the room never passes on from a client (it sets its own)
FORGEABLE = {(ns.OCCUPANT_ID, "occupant-id"), (ns.MUC_USER, "x")}


def occupant_jid(room: Room, nick: str) -> str:
    """§4.1: an occupant's address, ``room@service/nick``."""
    return f"{room.jid}/{nick}"


def occupant_id(stanza: domish.Element, room: Room, bare: str) -> None:
    """XEP-0421 §4: the sender's occupant id on a stanza the room sends."""
    stanza.addElement((ns.OCCUPANT_ID, "occupant-id"))["id"] = room.occupant_id(bare)


def user_x(stanza: domish.Element, codes: Iterable[str] = ()) -> domish.Element:
    """``<x xmlns='…muc#user'/>`` on ``stanza`` with status codes (§15.6): the mark of a
    private message (§7.5), a configuration change (§10.2.1)."""
    x = stanza.addElement((ns.MUC_USER, "x"))
    for code in codes:
        x.addElement("status")["code"] = code
    return x


def presence(room: Room, occupant: Occupant, to: str, show_jid: bool, *,
             unavailable: bool = False, codes: Iterable[str] = (), nick: str | None = None,
             actor: str | None = None, reason: str | None = None, role: str | None = None,
             affiliation: str | None = None, destroy: domish.Element | None = None
             ) -> domish.Element:
    """§7.2.3: an occupant's presence, with its ``muc#user`` item as ``to`` may see it:
    the real JID when ``show_jid``, the new ``nick`` (§7.6.3), the ``actor`` and
    ``reason`` of a kick or ban (§8.2, §9.1), the ``destroy`` of §10.9."""
    last = occupant.sessions.get(occupant.jid) if occupant.sessions else None
    stanza = domish.Element((None, "presence"))
    if last is not None and not unavailable:
        stanza.children = [c for c in last.children]
    elif last is not None:
        stanza.children = [c for c in last.children if isinstance(c, domish.Element)
                           and c.name == "status"]
    stanza["from"] = occupant_jid(room, occupant.nick)
    stanza["to"] = to
    if unavailable:
        stanza["type"] = "unavailable"
    x = stanza.addElement((ns.MUC_USER, "x"))
    item = x.addElement("item")
    item["affiliation"] = affiliation or room.affiliation(occupant.bare)
    item["role"] = role or ("none" if unavailable else occupant.role)
    if show_jid:
        item["jid"] = occupant.jid
    if nick:
        item["nick"] = nick
    if actor:
        item.addElement("actor")["nick"] = actor
    if reason:
        item.addElement("reason", content=reason)
    if destroy is not None:
        x.addChild(destroy)
    for code in codes:
        x.addElement("status")["code"] = code
    occupant_id(stanza, room, occupant.bare)
    return stanza


def affiliation_item(room: Room, bare: str, affiliation: str, to: str,
                     reason: str | None = None, codes: Iterable[str] = ()) -> domish.Element:
    """A message from the room about ``bare``, who is not in it: its new affiliation, to
    the occupants (§9.3, §10.3, §10.6 "the service MAY send a message from the room
    itself", role ``none``), or to ``bare`` itself with status 101 (§18.1, item 2)."""
    message = domish.Element((None, "message"))
    message["from"], message["to"] = room.jid, to
    if "101" in codes:
        message["type"] = "headline"  # as Prosody: told now, not stored offline
        message.addElement("body", content=f"Your affiliation in room {room.jid} is now "
                                           f"{affiliation}.")
    x = user_x(message)
    item = x.addElement("item")
    item["affiliation"], item["jid"], item["role"] = affiliation, bare, "none"
    if reason:
        item.addElement("reason", content=reason)
    for code in codes:
        x.addElement("status")["code"] = code
    return message


def avatar_presence(room: Room, to: str) -> domish.Element:
    """XEP-0486 §5.2 (as Prosody): the room's avatar hash as an XEP-0153 presence from its
    bare JID; an empty ``<photo/>`` when it has none."""
    stanza = domish.Element((None, "presence"))
    stanza["from"], stanza["to"] = room.jid, to
    update = stanza.addElement((ns.VCARD_UPDATE, "x"))
    update.addElement("photo", content=room.avatar_hashes[0] if room.avatar_hashes else "")
    return stanza


def self_codes(room: Room, created: bool = False) -> list[str]:
    """The codes of an occupant's own presence on entering: 110 (§7.2.3), 100
    non-anonymous (§7.2.4), 170 archived (§7.2.12), 201 a new room (§10.1.1)."""
    codes = ["110"]
    if room.config.whois == "anyone":
        codes.append("100")
    if room.config.archiving:
        codes.append("170")
    if created:
        codes.append("201")
    return codes


def config_codes(before: RoomConfig, after: RoomConfig) -> list[str]:
    """§10.2.1: 104 for any change, 172/173 anonymity, 170/171 archiving."""
    codes = ["104"]
    if after.whois != before.whois:
        codes.append("172" if after.whois == "anyone" else "173")
    if after.archiving != before.archiving:
        codes.append("170" if after.archiving else "171")
    return codes


def destroyed(request: domish.Element | None) -> domish.Element:
    """§10.9: the ``<destroy/>`` occupants are told of, with the alternate venue, the
    reason and the venue's password the owner gave."""
    element = domish.Element((ns.MUC_USER, "destroy"))
    if request is None:
        return element
    if request.getAttribute("jid"):
        element["jid"] = request["jid"]
    for name in ("reason", "password"):
        text = next((str(c) for c in request.elements() if c.name == name), None)
        if text:
            element.addElement(name, content=text)
    return element


def clean(presence: domish.Element) -> domish.Element:
    """The presence an occupant sent, without what only the room may say."""
    out = domish.Element((None, "presence"))
    out.children = [c for c in presence.children if isinstance(c, domish.Element) and not (
        c.uri in (ns.MUC, ns.MUC_USER) or (c.uri, c.name) in FORGEABLE)]
    return out


def passed_on(stanza: domish.Element, room: Room | None = None) -> list[domish.Element | str]:
    """The children of a client's stanza the room passes on: not the ones only the room
    may set, nor a stanza id claiming to be the room's (XEP-0359 §3.1)."""
    return [c for c in stanza.children if not (isinstance(c, domish.Element) and (
        (c.uri, c.name) in FORGEABLE or (room is not None and c.uri == ns.SID
                                         and c.getAttribute("by") == room.jid)))]


def copy_to(stanza: domish.Element, to: str) -> domish.Element:
    """A copy of ``stanza`` for ``to``. Its own list of children: delivery adds to it
    (the recipient archive's stanza-id), which must not show up in the other copies."""
    out = domish.Element((None, stanza.name))
    out.attributes = dict(stanza.attributes)
    out.children = list(stanza.children)
    out["to"] = to
    return out
