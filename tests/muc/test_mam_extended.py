"""Extended MAM on a room's archive (XEP-0313 §4.1.3, §4.3.4, §5 and §7 on the room's bare
JID): every page checked against the plain-Python model of tests/im/mam_model.py on the
harness, the metadata query and the disco feature, and a real exchange with slixmpp."""

from __future__ import annotations

import random
import xml.etree.ElementTree as ET

import pytest
from slixmpp.xmlstream.handler import Callback
from slixmpp.xmlstream.matcher import MatchXPath
from twisted.internet import task
from twisted.words.xish import domish
from wokkel import disco

from minixmpp import ns
from minixmpp.fallback import IQFallback
from minixmpp.internal import DiscoSelf
from minixmpp.muc.registry import Limits
from minixmpp.muc.service import MucService
from minixmpp.storage.memory import MemoryArchiveStore, MemoryRoomStore
from tests.harness import Harness, element
from tests.helpers import close, iq_error
from tests.im.mam_model import (
    Answer,
    Item,
    bounded,
    expected,
    query_xml,
    read_answer,
    result_set,
    walk,
    walk_every_size,
)
from tests.muc.helpers import ROOM, create, join, muc_login, talk
from tests.xmlassert import assert_xml

N = 25
OCCUPANTS = {"alice@localhost/a": "Al", "bob@localhost/b": "Bob", "carol@localhost/c": "Carol"}
#: not in the room: an open room's archive is anyone's but outcasts' (XEP-0313 §6.1.2)
READER = "dave@localhost/d"


class Room:
    """The MUC service on the harness with one room (Al its owner, Bob and Carol in it),
    no rate limit; the clock moves a second per message."""

    def __init__(self, **config: str) -> None:
        self.clock = task.Clock()
        self.clock.advance(1_700_000_000)
        self.service = MucService("conference.localhost", "localhost", MemoryRoomStore(),
                                  MemoryArchiveStore(), Limits(rate=0), self.clock)
        self.harness = Harness(self.service, self.service.disco, DiscoSelf(),
                               disco.DiscoHandler(), IQFallback())
        for full, nick in OCCUPANTS.items():
            self.feed(f"<presence from='{full}' to='{ROOM}/{nick}'><x xmlns='{ns.MUC}'/>"
                      "</presence>")
            if nick == "Al":
                fields = "".join(f"<field var='muc#roomconfig_{k}'><value>{v}</value></field>"
                                 for k, v in config.items())
                self.iq("alice@localhost/a", "set", f"<query xmlns='{ns.MUC_OWNER}'><x xmlns="
                        f"'{ns.X_DATA}' type='submit'>{fields}</x></query>")

    def feed(self, xml: str) -> list[domish.Element]:
        start = len(self.harness.output)
        self.harness.stub.send(element(xml))
        return self.harness.output[start:]

    def iq(self, sender: str, kind: str, payload: str, to: str = ROOM
           ) -> tuple[domish.Element, list[domish.Element]]:
        """The answer to an IQ, and the rest sent to the sender meanwhile."""
        out = self.feed(f"<iq type='{kind}' id='x' from='{sender}' to='{to}'>{payload}</iq>")
        [answer] = [s for s in out if s.name == "iq"]
        return answer, [s for s in out if s.name != "iq" and s.getAttribute("to") == sender]

    def say(self, sender: str, body: str) -> None:
        self.feed(f"<message type='groupchat' from='{sender}' to='{ROOM}'><body>{body}</body>"
                  "</message>")
        self.clock.advance(1)

    def fill(self, n: int = N) -> list[Item]:
        senders = list(OCCUPANTS)
        for i in range(n):
            self.say(senders[(i * i + i // 3) % 3], f"m{i}")
        return [Item(m.id, m.with_jid, m.timestamp)
                for m in self.service.registry.archive.messages("lounge")]

    def query(self, fields: dict | None = None, rsm: dict | None = None, flip: bool = False,
              sender: str = READER) -> Answer:
        answer, sent = self.iq(sender, "set", query_xml(fields or {}, rsm or {}, flip))
        return read_answer(answer, sent)


@pytest.fixture(scope="module")
def filled() -> tuple[Room, list[Item]]:
    room = Room()
    return room, room.fill()


# -- the harness: every page against the model ------------------------------------------------

@pytest.mark.parametrize("bounds", ["whole", "after-id", "before-id", "between"])
@pytest.mark.parametrize("with_jid", [None, f"{ROOM}/Bob"], ids=["all", "with-bob"])
def test_every_page_of_every_walk_matches_the_model(filled, with_jid, bounds) -> None:
    """Page sizes 1 to N, forwards and backwards, flipped or not, with and without the
    occupant filter, inside ``after-id``/``before-id``: ids and order, ``complete``,
    ``first``/``index``/``last`` and ``count``, and each walk sees the result set once."""
    room, items = filled
    assert len(items) == N and len({m.with_jid for m in items}) == 3
    fields, selected = bounded(items, with_jid, bounds, 2, N - 4)
    walk_every_size(room.query, items, fields, selected, flip_first=False)


def test_ids_fetch_exactly_those_messages(filled) -> None:
    room, items = filled
    rng = random.Random(45)
    for trial in range(30):
        chosen = rng.sample([m.id for m in items], rng.randint(1, 6))
        with_jid = f"{ROOM}/Carol" if trial % 2 else None
        fields: dict = {"ids": chosen, **({"with": with_jid} if with_jid else {})}
        selected = result_set(items, with_jid, ids=chosen)
        for backward in (False, True):
            seen = walk(room.query, items, fields, selected, rng.randint(1, 4), backward,
                        trial % 3 == 0)
            assert seen == [m.id for m in selected]
    assert room.query({"ids": items[4].id}) == expected(items, [items[4]], 50)


@pytest.mark.parametrize("field", ["after-id", "before-id", "ids", "rsm-after", "rsm-before"])
def test_an_id_the_room_archive_does_not_hold_is_item_not_found(filled, field) -> None:
    room, items = filled
    if field.startswith("rsm-"):
        got = room.query(rsm={field[4:]: "nope"})
    else:
        got = room.query({field: [items[1].id, "nope"] if field == "ids" else "nope"})
    assert got.error == "item-not-found"


def test_fields_form_of_a_room_lists_the_extended_fields(filled) -> None:
    room, _ = filled
    answer, _ = room.iq(READER, "get", f"<query xmlns='{ns.MAM}'/>")
    assert_xml(answer, f"""<iq type='result'><query xmlns='{ns.MAM}'>
        <x xmlns='{ns.X_DATA}' type='form'><field var='before-id' type='text-single'/>
          <field var='after-id' type='text-single'/><field var='ids' type='list-multi'>
            <validate xmlns='{ns.X_DATA_VALIDATE}'><open/></validate></field>
        </x></query></iq>""")


def test_room_metadata_is_empty_then_names_the_first_and_last_message() -> None:
    room = Room()
    payload = f"<metadata xmlns='{ns.MAM}'/>"
    answer, _ = room.iq(READER, "get", payload)
    assert_xml(answer, f"<iq type='result' id='x' from='{ROOM}' to='{READER}'>"
                       f"<metadata xmlns='{ns.MAM}'/></iq>", exact=True)
    items = room.fill(3)
    answer, _ = room.iq(READER, "get", payload)
    _, results = room.iq(READER, "set", query_xml({}, {}, False))
    stamps = {}
    for m in results:
        result = next(m.elements(ns.MAM, "result"))
        forwarded = next(result.elements(ns.FORWARD, "forwarded"))
        stamps[result["id"]] = next(forwarded.elements(ns.DELAY, "delay"))["stamp"]
    assert_xml(answer, f"""<iq type='result' id='x' from='{ROOM}' to='{READER}'>
        <metadata xmlns='{ns.MAM}'><start id='{items[0].id}' timestamp='{stamps[items[0].id]}'/>
        <end id='{items[-1].id}' timestamp='{stamps[items[-1].id]}'/></metadata></iq>""",
               exact=True)


@pytest.mark.parametrize(("to", "condition"), [
    (ROOM, "forbidden"),  # members only, and Dave is not a member
    ("nowhere@conference.localhost", "item-not-found"),
])
def test_room_metadata_is_for_those_who_may_read_the_archive(to: str, condition: str) -> None:
    room = Room(membersonly="1")
    room.fill(2)
    answer, _ = room.iq(READER, "get", f"<metadata xmlns='{ns.MAM}'/>", to=to)
    assert_xml(answer, f"<iq type='error'><error><{condition} xmlns='{ns.STANZAS}'/>"
                       "</error></iq>")
    member, _ = room.iq("alice@localhost/a", "get", f"<metadata xmlns='{ns.MAM}'/>")
    assert member["type"] == "result"  # positive control: the owner reads it


def test_room_disco_advertises_the_extended_feature() -> None:
    room = Room()
    answer, _ = room.iq(READER, "get", f"<query xmlns='{ns.DISCO_INFO}'/>")
    assert_xml(answer, f"""<iq type='result'><query xmlns='{ns.DISCO_INFO}'>
        <feature var='{ns.MAM}'/><feature var='{ns.MAM_EXTENDED}'/></query></iq>""")


# -- end to end, with slixmpp ------------------------------------------------------------------

async def test_slixmpp_pages_a_room_archive_by_id_and_reads_its_metadata(server) -> None:
    alice = await muc_login(server, "alice")
    bob = await muc_login(server, "bob")
    try:
        await create(alice)
        await join(bob, ROOM, "Bob")
        ids = await talk(alice, *[f"m{i}" for i in range(6)])
        info = await bob["xep_0030"].get_info(jid=ROOM)
        assert ns.MAM_EXTENDED in info["disco_info"]["features"]

        async def bodies(**fields) -> list[str]:
            iq = bob.make_iq_set(ito=ROOM)
            flip = fields.pop("flip", False)
            for key, value in fields.items():
                iq["mam"][key] = value
            if flip:
                iq["mam"].xml.append(ET.Element(f"{{{ns.MAM}}}flip-page"))
            got: list = []
            bob.register_handler(Callback("results", MatchXPath(
                f"{{jabber:client}}message/{{{ns.MAM}}}result"), got.append))
            try:
                await iq.send(timeout=5)
            finally:
                bob.remove_handler("results")
            return [m["mam_result"]["forwarded"]["stanza"]["body"] for m in got]

        assert await bodies(after_id=ids[0], before_id=ids[3]) == ["m1", "m2"]
        assert await bodies(ids=[ids[4]]) == ["m4"]
        assert await bodies(before_id=ids[2], flip=True) == ["m1", "m0"]
        metadata = (await bob["xep_0313"].get_archive_metadata(jid=ROOM))["mam_metadata"]
        assert (metadata["start"]["id"], metadata["end"]["id"]) == (ids[0], ids[-1])
        iq = bob.make_iq_set(ito=ROOM)
        iq["mam"]["ids"] = ["no-such-id"]
        assert await iq_error(iq) == "item-not-found"
    finally:
        await close(alice, bob)
