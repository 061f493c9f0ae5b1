"""Room rules without sockets: the MUC service and its disco fed stanzas through the
harness (wokkel's ``XmlStreamStub``), asserted on the stanzas it sends. Fast beside the
end-to-end tests of the other files; each section is cited."""

from __future__ import annotations

from twisted.internet import task
from twisted.words.xish import domish
from wokkel import disco

from minixmpp import ns
from minixmpp.fallback import IQFallback
from minixmpp.internal import DiscoSelf
from minixmpp.muc.registry import Limits
from minixmpp.muc.room import MucError, Room
from minixmpp.muc.service import MucService
from minixmpp.storage.memory import MemoryArchiveStore, MemoryRoomStore
from tests.harness import Harness, element
from tests.xmlassert import assert_xml, matches

ROOM = "lounge@conference.localhost"
ALICE, BOB, CAROL = "alice@localhost/a", "bob@localhost/b", "carol@localhost/c"
JOIN = f"<x xmlns='{ns.MUC}'/>"


def error(condition: str) -> str:
    return f"<error><{condition} xmlns='{ns.STANZAS}'/></error>"


class Muc:
    """One service with its disco handlers, wired as the component wires them: IQs to an
    occupant JID go to the service first (``takes_first``)."""

    def __init__(self, **limits: float) -> None:
        self.clock = task.Clock()
        self.clock.advance(1000)
        self.service = MucService("conference.localhost", "localhost", MemoryRoomStore(),
                                  MemoryArchiveStore(), Limits(**limits), self.clock)
        self.harness = Harness(self.service, self.service.disco, DiscoSelf(),
                               disco.DiscoHandler(), IQFallback())

    def feed(self, xml: str) -> list[domish.Element]:
        stanza = element(xml)
        start = len(self.harness.output)
        if not self.service.takes_first(stanza):
            self.harness.stub.send(stanza)
        return self.harness.output[start:]

    def join(self, full: str, nick: str, x: str = JOIN) -> list[domish.Element]:
        return self.feed(f"<presence from='{full}' to='{ROOM}/{nick}'>{x}</presence>")

    def iq(self, sender: str, kind: str, payload: str, to: str = ROOM, id: str = "q1"
           ) -> list[domish.Element]:
        return self.feed(f"<iq type='{kind}' id='{id}' from='{sender}' to='{to}'>{payload}</iq>")

    def configure(self, **values: str) -> list[domish.Element]:
        """§10.2: the owner (alice) submits the configuration form."""
        fields = "".join(f"<field var='muc#roomconfig_{var}'><value>{value}</value></field>"
                         for var, value in values.items())
        return self.iq(ALICE, "set", f"<query xmlns='{ns.MUC_OWNER}'><x xmlns='{ns.X_DATA}' "
                       f"type='submit'>{fields}</x></query>", id="config")

    def admin(self, sender: str, item: str) -> list[domish.Element]:
        return self.iq(sender, "set", f"<query xmlns='{ns.MUC_ADMIN}'>{item}</query>",
                       id="admin")

    def say(self, sender: str, body: str) -> list[domish.Element]:
        return self.feed(f"<message type='groupchat' from='{sender}' to='{ROOM}'>"
                         f"<body>{body}</body></message>")


def opened(*others: tuple[str, str], **config: str) -> Muc:
    """Alice's room, configured (an instant room without ``config``), others joined."""
    muc = Muc()
    muc.join(ALICE, "Al")
    muc.configure(**config)
    for full, nick in others:
        muc.join(full, nick)
    return muc


def sent_to(stanzas: list[domish.Element], to: str) -> list[domish.Element]:
    return [s for s in stanzas if s.getAttribute("to") == to]


# -- §7.2 entering, §10.1.1 a new room is locked ---------------------------------------------

def test_first_join_creates_a_locked_room_owned_by_its_creator() -> None:
    muc = Muc()
    out = muc.join(ALICE, "Al")
    assert_xml(out[0], f"<presence from='{ROOM}/Al' to='{ALICE}'><x xmlns='{ns.MUC_USER}'>"
                       "<item affiliation='owner' role='moderator' jid='alice@localhost/a'/>"
                       "<status code='110'/><status code='170'/><status code='201'/></x>"
                       f"<occupant-id xmlns='{ns.OCCUPANT_ID}'/></presence>")
    assert_xml(out[-1], f"<message type='groupchat' from='{ROOM}' to='{ALICE}'>"
                        "<subject/></message>")
    refused = muc.join(BOB, "Bob")
    assert len(refused) == 1
    assert_xml(refused[0], f"<presence type='error' from='{ROOM}/Bob' to='{BOB}'>"
                           f"{error('item-not-found')}<x xmlns='{ns.MUC}'/></presence>")


def test_instant_configuration_opens_the_room_and_others_see_the_newcomer() -> None:
    muc = Muc()
    muc.join(ALICE, "Al")
    status, result = muc.configure()
    assert_xml(status, f"<message type='groupchat' from='{ROOM}' to='{ALICE}'>"
                       f"<x xmlns='{ns.MUC_USER}'><status code='104'/></x></message>")
    assert_xml(result, f"<iq type='result' id='config' from='{ROOM}' to='{ALICE}'/>",
               exact=True)
    out = muc.join(BOB, "Bob")
    [to_alice] = sent_to(out, ALICE)  # a moderator sees real JIDs (§7.2.3)
    assert_xml(to_alice, f"<presence from='{ROOM}/Bob'><x xmlns='{ns.MUC_USER}'>"
                         f"<item affiliation='none' role='participant' jid='{BOB}'/></x>"
                         "</presence>")
    [alice_to_bob] = [s for s in sent_to(out, BOB) if s.getAttribute("from") == f"{ROOM}/Al"]
    assert_xml(alice_to_bob, f"<presence><x xmlns='{ns.MUC_USER}'><item affiliation='owner' "
                             "role='moderator'/></x></presence>")
    assert alice_to_bob.x.item.getAttribute("jid") is None  # semi-anonymous (§7.2.4)


def test_a_client_without_x_gets_an_instant_room() -> None:
    muc = Muc()
    muc.join(ALICE, "Al", x="")
    assert not muc.service.rooms["lounge"].locked  # §10.1.1 (gc-1.0 clients)
    out = muc.join(BOB, "Bob")
    assert matches(sent_to(out, BOB)[-1], "<message type='groupchat'><subject/></message>")


def test_a_taken_nick_is_a_conflict_on_joining_and_on_changing() -> None:
    muc = opened((BOB, "Bob"))
    [refused] = muc.join(CAROL, "Al")
    assert_xml(refused, f"<presence type='error' to='{CAROL}'>{error('conflict')}</presence>")
    [refused] = muc.feed(f"<presence from='{BOB}' to='{ROOM}/Al'/>")  # §7.6.2
    assert_xml(refused, f"<presence type='error' to='{BOB}'>{error('conflict')}</presence>")


def test_members_only_room_refuses_others_with_registration_required() -> None:
    muc = opened(membersonly="1")
    [refused] = muc.join(BOB, "Bob")
    assert_xml(refused, f"<presence type='error'>{error('registration-required')}</presence>")
    muc.admin(ALICE, "<item affiliation='member' jid='bob@localhost'/>")
    out = muc.join(BOB, "Bob")
    assert matches(out[-1], "<message type='groupchat'><subject/></message>")


# -- §8–§10 roles and affiliations -------------------------------------------------------

def test_a_moderator_kicks_with_307_actor_and_reason() -> None:
    muc = opened((BOB, "Bob"))
    out = muc.admin(ALICE, "<item role='none' nick='Bob'><reason>out</reason></item>")
    [kicked] = [s for s in sent_to(out, BOB) if s.name == "presence"]
    assert_xml(kicked, f"<presence type='unavailable' from='{ROOM}/Bob'>"
                       f"<x xmlns='{ns.MUC_USER}'><item role='none'><actor nick='Al'/>"
                       "<reason>out</reason></item><status code='110'/><status code='307'/>"
                       "</x></presence>")
    assert_xml(out[-1], f"<iq type='result' id='admin' to='{ALICE}'/>")
    assert "Bob" not in muc.service.rooms["lounge"].occupants


def test_a_ban_removes_with_301_and_keeps_out() -> None:
    muc = opened((BOB, "Bob"))
    out = muc.admin(ALICE, "<item affiliation='outcast' jid='bob@localhost'/>")
    seen = sent_to(out, ALICE)[0]
    assert_xml(seen, f"<presence type='unavailable' from='{ROOM}/Bob'>"
                     f"<x xmlns='{ns.MUC_USER}'><item affiliation='outcast'/>"
                     "<status code='301'/></x></presence>")
    assert not matches(seen, f"<presence><x xmlns='{ns.MUC_USER}'><status code='110'/></x>"
                             "</presence>")
    [refused] = muc.join(BOB, "Bob")
    assert_xml(refused, f"<presence type='error'>{error('forbidden')}</presence>")


def test_participants_may_not_kick_and_admins_may_not_kick_owners() -> None:
    muc = opened((BOB, "Bob"), (CAROL, "Carol"))
    [refused] = muc.admin(BOB, "<item role='none' nick='Carol'/>")
    assert_xml(refused, f"<iq type='error' id='admin' to='{BOB}'>{error('forbidden')}</iq>")
    [refused] = muc.admin(BOB, "<item affiliation='member' jid='dave@localhost'/>")
    assert_xml(refused, f"<iq type='error'>{error('forbidden')}</iq>")
    muc.admin(ALICE, "<item affiliation='admin' jid='carol@localhost'/>")
    [refused] = muc.admin(CAROL, "<item role='none' nick='Al'/>")
    assert_xml(refused, f"<iq type='error'>{error('not-allowed')}</iq>")
    assert set(muc.service.rooms["lounge"].occupants) == {"Al", "Bob", "Carol"}


def test_a_room_keeps_its_last_owner() -> None:
    room = Room("lounge", ROOM)
    room.set_affiliation("alice@localhost", "owner")
    try:
        room.check_affiliation_change("alice@localhost", "alice@localhost", "admin")
        raise AssertionError("the last owner stepped down")
    except MucError as e:
        assert e.condition == "conflict"  # §10.6 / §10.7
    room.set_affiliation("bob@localhost", "owner")
    room.check_affiliation_change("alice@localhost", "alice@localhost", "admin")


# -- §7.2.13–§7.2.14 history -------------------------------------------------------------

def test_history_on_joining_is_filtered_by_seconds_and_maxstanzas() -> None:
    muc = opened()
    muc.say(ALICE, "old")
    muc.clock.advance(100)
    muc.say(ALICE, "new")
    muc.say(ALICE, "newest")

    def history(full: str, nick: str, request: str) -> list[str]:
        out = muc.join(full, nick, f"<x xmlns='{ns.MUC}'>{request}</x>")
        replayed = [s for s in out if matches(
            s, f"<message><delay xmlns='{ns.DELAY}' from='{ROOM}' stamp='*'/></message>")]
        return [str(s.body) for s in replayed]

    assert history(BOB, "Bob", "") == ["old", "new", "newest"]
    assert history(CAROL, "Carol", "<history seconds='50'/>") == ["new", "newest"]
    assert history("dave@localhost/d", "Dave", "<history maxstanzas='1'/>") == ["newest"]
    assert history("erin@localhost/e", "Erin", "<history maxchars='0'/>") == []


# -- §7.13 voice requests ----------------------------------------------------------------

def test_a_voice_request_goes_to_the_moderators_only() -> None:
    muc = opened((BOB, "Bob"), (CAROL, "Carol"), moderatedroom="1")
    assert muc.service.rooms["lounge"].occupants["Bob"].role == "visitor"
    out = muc.feed(f"<message from='{BOB}' to='{ROOM}'><x xmlns='{ns.X_DATA}' type='submit'>"
                   f"<field var='FORM_TYPE'><value>{ns.MUC_REQUEST}</value></field>"
                   "<field var='muc#role'><value>participant</value></field></x></message>")
    [request] = out
    assert_xml(request, f"<message from='{ROOM}' to='{ALICE}'><x xmlns='{ns.X_DATA}' "
                        "type='form'><field var='muc#roomnick'><value>Bob</value></field>"
                        "<field var='muc#request_allow'><value>false</value></field></x>"
                        "</message>")


# -- IQs between occupants (forwarded, as Prosody), XEP-0410 self-ping ---------------------

VERSION = "<query xmlns='jabber:iq:version'/>"


def test_an_iq_to_another_occupant_is_forwarded_and_the_answer_routed_back() -> None:
    muc = opened((BOB, "Bob"))
    [forwarded] = muc.iq(BOB, "get", VERSION, to=f"{ROOM}/Al", id="v1")
    assert_xml(forwarded, f"<iq type='get' from='{ROOM}/Bob' to='{ALICE}'>{VERSION}</iq>")
    assert forwarded["id"] != "v1"
    [answer] = muc.feed(f"<iq type='result' id='{forwarded['id']}' from='{ALICE}' "
                        f"to='{ROOM}/Bob'><query xmlns='jabber:iq:version'><name>x</name>"
                        "</query></iq>")
    assert_xml(answer, f"<iq type='result' id='v1' from='{ROOM}/Al' to='{BOB}'>"
                       "<query xmlns='jabber:iq:version'><name>x</name></query></iq>",
               exact=True)


def test_an_answer_from_another_jid_is_ignored_and_silence_times_out() -> None:
    muc = opened((BOB, "Bob"), (CAROL, "Carol"))
    [forwarded] = muc.iq(BOB, "get", VERSION, to=f"{ROOM}/Al", id="v1")
    for impostor in (CAROL, "alice@localhost/other"):
        assert muc.feed(f"<iq type='result' id='{forwarded['id']}' from='{impostor}' "
                        f"to='{ROOM}/Bob'/>") == []
    assert muc.clock.getDelayedCalls()  # still waiting for alice
    start = len(muc.harness.output)
    muc.clock.advance(60)
    [gave_up] = muc.harness.output[start:]
    assert_xml(gave_up, f"<iq type='error' id='v1' from='{ROOM}/Al' to='{BOB}'>"
                        f"{error('recipient-unavailable')}</iq>")


def test_self_ping_is_answered_by_the_room_and_strangers_are_not_acceptable() -> None:
    muc = opened((BOB, "Bob"))
    ping = f"<ping xmlns='{ns.PING}'/>"
    [pong] = muc.iq(BOB, "get", ping, to=f"{ROOM}/Bob", id="p1")
    assert_xml(pong, f"<iq type='result' id='p1' from='{ROOM}/Bob' to='{BOB}'/>", exact=True)
    [refused] = muc.iq(CAROL, "get", ping, to=f"{ROOM}/Bob", id="p2")
    assert_xml(refused, f"<iq type='error' id='p2'>{error('not-acceptable')}</iq>")


# -- §6 disco ------------------------------------------------------------------------------

def test_disco_of_an_unknown_or_locked_room_is_item_not_found() -> None:
    muc = Muc()
    info = f"<query xmlns='{ns.DISCO_INFO}'/>"
    [refused] = muc.iq(BOB, "get", info, to="nowhere@conference.localhost")
    assert_xml(refused, f"<iq type='error' from='nowhere@conference.localhost'>"
                        f"{error('item-not-found')}</iq>")
    muc.join(ALICE, "Al")  # locked until configured
    [refused] = muc.iq(BOB, "get", info)
    assert_xml(refused, f"<iq type='error'>{error('item-not-found')}</iq>")
    [answer] = muc.iq(ALICE, "get", info)
    assert_xml(answer, f"<iq type='result'><query xmlns='{ns.DISCO_INFO}'>"
                       "<identity category='conference' type='text' name='lounge'/>"
                       f"<feature var='{ns.MUC}'/><x xmlns='{ns.X_DATA}' type='result'/>"
                       "</query></iq>")


def test_disco_to_an_occupant_is_forwarded_not_answered_by_the_service() -> None:
    muc = opened((BOB, "Bob"))
    out = muc.iq(BOB, "get", f"<query xmlns='{ns.DISCO_INFO}'/>", to=f"{ROOM}/Al", id="d1")
    assert len(out) == 1
    assert_xml(out[0], f"<iq type='get' from='{ROOM}/Bob' to='{ALICE}'>"
                       f"<query xmlns='{ns.DISCO_INFO}'/></iq>")
