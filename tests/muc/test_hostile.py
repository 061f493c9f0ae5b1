"""Hostile nicknames (issue 22, finding 4): a nick is a resourcepart (XEP-0045 §7.2.3,
RFC 7622 §3.4), at most 1023 octets once prepared, and the room keeps it prepared. Over
the limit, or empty once prepared, it is ``jid-malformed`` (RFC 6120 §8.3.3.8) on join,
nick change, §7.10 registration and a §9.3 reserved nick; error presences carry
``<x xmlns='…/muc'/>``. Never a traceback in the log."""

from __future__ import annotations

from typing import Any

import pytest
from twisted.words.xish import domish

from minixmpp.stanza import parse
from tests.rawtext import Raw, raw_barrier, raw_login
from tests.xmlassert import assert_xml

ROOM = "lounge@conference.localhost"
MUC = "http://jabber.org/protocol/muc"
STANZA_ERRORS = "urn:ietf:params:xml:ns:xmpp-stanzas"
LONG = "n" * 1024  # one octet over RFC 7622 §3.4
SOFT_HYPHEN = "\u00ad"  # mapped to nothing by stringprep (RFC 3454 B.1)


pytestmark = pytest.mark.usefixtures("no_tracebacks")  # conftest.py


def element(text: str) -> domish.Element:
    return parse(text, neutral=False)


def last(text: str, name: str) -> str:
    """The last ``<name>…</name>`` (or ``<name …/>``) in what a raw client read."""
    start = text.rindex(f"<{name} ")
    end = text.find(f"</{name}>", start)
    return text[start:end + len(name) + 3] if end >= 0 else text[start:text.index(">", start) + 1]


async def owner_with_room(server: Any) -> Raw:
    """alice creates the room as an instant room (§10.1.2), joined as ``Al``."""
    alice = await raw_login(server, "alice")
    alice.send(f"<presence to='{ROOM}/Al'><x xmlns='{MUC}'/></presence>")
    await alice.read_until("<subject")
    await iq(alice, "c1", f"<query xmlns='{MUC}#owner'><x xmlns='jabber:x:data' "
                          "type='submit'/></query>")
    return alice


async def iq(raw: Raw, iq_id: str, payload: str, to: str = ROOM) -> str:
    """An IQ set to ``to``; its answer."""
    raw.buffer = b""
    raw.send(f"<iq type='set' id='{iq_id}' to='{to}'>{payload}</iq>")
    text = await raw.read_until(f"id='{iq_id}'[^>]*(/>|>.*?</iq>)")
    return last(text, "iq")


def register(nick: str) -> str:
    """§7.10.1: the registration form, submitted."""
    return ("<query xmlns='jabber:iq:register'><x xmlns='jabber:x:data' type='submit'>"
            f"<field var='FORM_TYPE'><value>{MUC}#register</value></field>"
            f"<field var='muc#register_roomnick'><value>{nick}</value></field></x></query>")


def jid_malformed(answer: str, name: str = "iq") -> None:
    assert_xml(element(answer), element(f"<{name} type='error'><error type='modify'>"
                                        f"<jid-malformed xmlns='{STANZA_ERRORS}'/></error>"
                                        f"</{name}>"))


async def test_a_nick_over_1023_octets_is_jid_malformed_on_join_and_nick_change(server):
    alice = await owner_with_room(server)
    bob = await raw_login(server, "bob")
    bob.send(f"<presence to='{ROOM}/{LONG}'><x xmlns='{MUC}'/></presence>")
    error = last(await bob.read_until("</presence>"), "presence")
    jid_malformed(error, "presence")
    assert_xml(element(error), element(f"<presence type='error'><x xmlns='{MUC}'/>"
                                       "</presence>"))
    alice.buffer = b""
    alice.send(f"<presence to='{ROOM}/{LONG}'/>")  # §7.6: a new nick
    jid_malformed(last(await alice.read_until("</presence>"), "presence"), "presence")
    assert list(server.muc.rooms["lounge"].occupants) == ["Al"]
    await raw_barrier(alice)
    alice.close()
    bob.close()


async def test_registration_keeps_the_prepared_nick_and_refuses_one_over_1023_octets(server):
    """§7.10: the nick registered is the prepared one, so ``B\\u00adob`` is ``Bob`` and
    nobody else may register ``Bob``; a nick over 1023 octets, or nothing once prepared
    (1200 octets of soft hyphens), is ``jid-malformed``."""
    alice = await owner_with_room(server)
    bob = await raw_login(server, "bob")
    jid_malformed(await iq(bob, "r1", register(LONG)))
    jid_malformed(await iq(bob, "r2", register(SOFT_HYPHEN * 600)))
    assert_xml(element(await iq(bob, "r3", register(f"B{SOFT_HYPHEN}ob"))),
               element("<iq type='result' id='r3'/>"))
    room = server.muc.rooms["lounge"]
    assert room.nicks["bob@localhost"] == "Bob"
    assert all(len(n.encode()) <= 1023 for n in room.nicks.values())
    carol = await raw_login(server, "carol")
    assert_xml(element(await iq(carol, "r4", register("Bob"))), element(
        f"<iq type='error'><error><conflict xmlns='{STANZA_ERRORS}'/></error></iq>"))
    for raw in (alice, bob, carol):
        raw.close()


async def test_a_reserved_nick_over_1023_octets_is_jid_malformed(server):
    """§9.3 / §9.5: an affiliation given with a ``nick`` reserves it; over 1023 octets it
    is refused and nothing changes (all or nothing)."""
    alice = await owner_with_room(server)
    item = "<query xmlns='{muc}#admin'><item affiliation='member' jid='carol@localhost' " \
           "nick='{nick}'/></query>"
    jid_malformed(await iq(alice, "a1", item.format(muc=MUC, nick=LONG)))
    room = server.muc.rooms["lounge"]
    assert room.affiliation("carol@localhost") == "none" and "carol@localhost" not in room.nicks
    assert_xml(element(await iq(alice, "a2", item.format(muc=MUC, nick=f"C{SOFT_HYPHEN}arol"))),
               element("<iq type='result' id='a2'/>"))
    assert room.nicks["carol@localhost"] == "Carol"
    alice.close()


async def test_a_jid_with_an_empty_label_in_an_admin_item_or_invitation_is_jid_malformed(
        server):
    """Finding 1 at the MUC edge: ``bob@.localhost`` (RFC 7622 §3.2) in a §9 item or a
    §7.8 invitation is ``jid-malformed``, not an ``IndexError``; the room goes on."""
    alice = await owner_with_room(server)
    jid_malformed(await iq(alice, "a1", f"<query xmlns='{MUC}#admin'><item affiliation="
                                        "'member' jid='bob@.localhost'/></query>"))
    alice.buffer = b""
    alice.send(f"<message to='{ROOM}' id='i1'><x xmlns='{MUC}#user'>"
               "<invite to='bob@local..host'/></x></message>")
    jid_malformed(last(await alice.read_until("id='i1'.*?</message>"), "message"), "message")
    assert server.muc.rooms["lounge"].affiliations == {"alice@localhost": "owner"}
    await raw_barrier(alice)
    alice.close()
