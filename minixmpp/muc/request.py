"""A stanza to the MUC service, resolved once at the edge (XEP-0045 §4.1 addressing): who
sent it, to which room and nick, and the one place a :class:`MucError` becomes a stanza
error (as ``pep/errors.py``)."""

from __future__ import annotations

from dataclasses import dataclass

from twisted.words.protocols.jabber import error, jid
from twisted.words.xish import domish

from minixmpp import addressing
from minixmpp.muc.room import MucError, Occupant, Room

#: what a stanza is addressed to: the service JID, a room, an occupant (§4.1)
SERVICE, ROOM, OCCUPANT = "service", "room", "occupant"


@dataclass(frozen=True)
class Request:
    """One stanza to the service, with its addresses parsed and its room looked up."""

    stanza: domish.Element
    sender: jid.JID
    to: jid.JID
    #: the room addressed, if it exists
    found: Room | None

    @property
    def target(self) -> str:
        if self.to.user is None:
            return SERVICE
        return ROOM if self.to.resource is None else OCCUPANT

    def existing_room(self) -> Room:
        """The room addressed; ``item-not-found`` when there is none."""
        if self.found is None:
            raise MucError("item-not-found", "no such room")
        return self.found

    @property
    def full(self) -> str:
        return self.sender.full()

    @property
    def bare(self) -> str:
        return self.sender.userhost()

    @property
    def nick(self) -> str | None:
        """The nick addressed: the resource of an occupant JID, prepared and at most 1023
        octets as every parsed JID's (``addressing.parse``)."""
        return self.to.resource

    @property
    def occupant(self) -> Occupant | None:
        """The sender's occupant in the room, if it is joined."""
        return self.found.occupant_of(self.full) if self.found is not None else None

    @property
    def payload(self) -> domish.Element | None:
        """An IQ's child element."""
        return self.stanza.firstChildElement()

    def child(self, uri: str, name: str) -> domish.Element | None:
        return next(self.stanza.elements(uri, name), None)


def child_text(element: domish.Element | None, name: str) -> str | None:
    """The text of ``element``'s first child called ``name`` (any namespace)."""
    if element is None:
        return None
    for child in element.elements():
        if child.name == name:
            return str(child)
    return None


def nickname(text: str) -> str:
    """A nickname given in a payload (§7.10 registration, §9.3 a reserved nick) as rooms
    keep it: a resourcepart, prepared (RFC 7622 §3.4: 1 to 1023 octets), else
    ``jid-malformed`` (RFC 6120 §8.3.3.8), as for a nick in an occupant JID."""
    try:
        return addressing.resourcepart(text)
    except jid.InvalidFormat:
        raise MucError("jid-malformed", "that is not a valid nickname") from None


def stanza_error(e: MucError) -> error.StanzaError:
    """The stanza error for a rule that said no."""
    return error.StanzaError(e.condition, e.type, e.text)
