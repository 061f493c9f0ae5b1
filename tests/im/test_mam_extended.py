"""Extended MAM on the account's archive (XEP-0313 §4.1.3 ``after-id``/``before-id``/``ids``,
§4.3.4 ``<flip-page/>``, §5 the metadata query, §7 ``urn:xmpp:mam:2#extended``).

Most checks run the archive handler on the harness (no sockets) and compare every page
with a plain-Python model of the archive; a few run end to end with slixmpp's
``xep_0313``.
"""

from __future__ import annotations

import random
import re
import xml.etree.ElementTree as ET

import pytest
from slixmpp.xmlstream.handler import Callback
from slixmpp.xmlstream.matcher import MatchXPath
from twisted.words.protocols.jabber.jid import JID

from minixmpp import ns
from tests.helpers import close, iq_error, login
from tests.im.mam_harness import ALICE, Archive, N
from tests.im.mam_model import Answer, Item, bounded, expected, result_set, walk, walk_every_size
from tests.rawtext import raw_login
from tests.xmlassert import assert_xml

# -- harness: every page against the model ----------------------------------------------------

@pytest.fixture(scope="module")
def filled() -> tuple[Archive, list[Item]]:
    archive = Archive()
    return archive, archive.fill()


@pytest.mark.parametrize("bounds", ["whole", "after-id", "before-id", "between"])
@pytest.mark.parametrize("with_jid", [None, "bob@localhost"], ids=["all", "with-bob"])
def test_every_page_of_every_walk_matches_the_model(filled, with_jid, bounds) -> None:
    """Page sizes 1 to N, forwards and backwards, flipped or not: every page's ids and
    order, ``complete``, ``first``/``index``/``last`` and ``count`` as the model says,
    and each walk sees the whole result set once."""
    archive, items = filled
    assert len(items) == N
    fields, selected = bounded(items, with_jid, bounds, 3, N - 5)
    walk_every_size(archive.query, items, fields, selected, flip_first=True)


def test_ids_fetch_exactly_those_messages_in_archive_order(filled) -> None:
    """§4.1.3 ``ids`` (single-item retrieval and any subset), with and without ``with``,
    paged and flipped, against the model."""
    archive, items = filled
    rng = random.Random(313)
    for trial in range(40):
        chosen = rng.sample([m.id for m in items], rng.randint(1, 8))
        with_jid = "bob@localhost" if trial % 3 == 0 else None
        fields: dict = {"ids": chosen, **({"with": with_jid} if with_jid else {})}
        selected = result_set(items, with_jid, ids=chosen)
        size = rng.randint(1, 5)
        for backward in (False, True):
            seen = walk(archive.query, items, fields, selected, size, backward, trial % 2 == 0)
            assert seen == [m.id for m in selected]
    single = archive.query({"ids": items[7].id})
    assert single.sent == [items[7].id] and single.count == 1 and single.complete


def test_rsm_and_form_bounds_combine(filled) -> None:
    """RSM ``after``/``before`` are places in the archive even outside the result set;
    together they bound the page on both sides, paged from ``before``; ``after-id`` after
    ``before-id`` selects nothing."""
    archive, items = filled
    bob = result_set(items, "bob@localhost")
    outsider = next(m for m in items if not m.with_jid.startswith("bob@"))
    for rsm in ({"max": "3", "after": outsider.id},
                {"max": "3", "before": outsider.id},
                {"max": "2", "after": items[2].id, "before": items[20].id},
                {"max": "50", "after": items[2].id, "before": items[20].id}):
        got = archive.query({"with": "bob@localhost"}, rsm)
        assert got == expected(items, bob, int(rsm["max"]), after=rsm.get("after"),
                               before=rsm.get("before"))
    empty = archive.query({"after-id": items[10].id, "before-id": items[5].id})
    assert empty == Answer(sent=[], complete=True, count=0)


@pytest.mark.parametrize("field", ["after-id", "before-id", "ids", "rsm-after", "rsm-before"])
def test_an_id_the_archive_does_not_hold_is_item_not_found(filled, field) -> None:
    """§4.1.3 and §4.3.2: any unknown id, even beside known ones."""
    archive, items = filled
    if field.startswith("rsm-"):
        got = archive.query(rsm={field[4:]: "nope"})
    elif field == "ids":
        got = archive.query({"ids": [items[0].id, "nope"]})
    else:
        got = archive.query({field: "nope"})
    assert got.error == "item-not-found"


def test_start_and_end_narrow_the_result_set_and_the_count(filled) -> None:
    archive, items = filled
    from minixmpp.timestamps import utc_stamp

    start, end = items[5].timestamp, items[15].timestamp
    got = archive.query({"start": utc_stamp(start, microseconds=True),
                         "end": utc_stamp(end, microseconds=True),
                         "after-id": items[8].id}, {"max": "4"}, flip=True)
    selected = [m for m in items[9:16]]
    assert got == expected(items, selected, 4, flip=True)


def test_flip_page_reverses_the_sending_order_only(filled) -> None:
    archive, items = filled
    plain = archive.query(rsm={"max": "5", "before": ""})
    flipped = archive.query(rsm={"max": "5", "before": ""}, flip=True)
    assert flipped.sent == plain.sent[::-1] == [m.id for m in items[-5:]][::-1]
    assert (flipped.first, flipped.last, flipped.complete, flipped.count) == \
        (plain.first, plain.last, plain.complete, plain.count) == \
        (items[-5].id, items[-1].id, False, N)


def test_fields_form_lists_the_extended_fields() -> None:
    """§4.1.5: with, start, end, before-id, after-id, and ids open to any value."""
    answer = Archive().iq(f"<query xmlns='{ns.MAM}'/>", kind="get")
    assert_xml(answer, f"""<iq type='result'><query xmlns='{ns.MAM}'>
        <x xmlns='{ns.X_DATA}' type='form'>
          <field var='FORM_TYPE' type='hidden'><value>{ns.MAM}</value></field>
          <field var='with' type='jid-single'/>
          <field var='start' type='text-single'/>
          <field var='end' type='text-single'/>
          <field var='before-id' type='text-single'/>
          <field var='after-id' type='text-single'/>
          <field var='ids' type='list-multi'>
            <validate xmlns='{ns.X_DATA_VALIDATE}' datatype='xs:string'><open/></validate>
          </field></x></query></iq>""")


def test_metadata_iq_is_empty_then_names_the_first_and_last_message() -> None:
    """§5: ``<metadata/>`` alone for an empty archive, then ``<start/>`` and ``<end/>``
    with the id and the stamp their results carry."""
    archive = Archive()
    payload = f"<metadata xmlns='{ns.MAM}'/>"
    answered = "<iq type='result' id='x' from='alice@localhost' to='alice@localhost/desk'>"
    assert_xml(archive.iq(payload, kind="get"),
               f"{answered}<metadata xmlns='{ns.MAM}'/></iq>", exact=True)
    items = archive.fill(4)
    answer = archive.iq(payload, kind="get")
    results = {}
    archive.query()
    for m in archive.stream.out:
        result = next(m.elements(ns.MAM, "result"))
        delay = next(next(result.elements(ns.FORWARD, "forwarded")).elements(ns.DELAY,
                                                                              "delay"))
        results[result["id"]] = delay["stamp"]
    assert_xml(answer, f"""{answered}<metadata xmlns='{ns.MAM}'>
        <start id='{items[0].id}' timestamp='{results[items[0].id]}'/>
        <end id='{items[-1].id}' timestamp='{results[items[-1].id]}'/></metadata></iq>""",
               exact=True)


def test_metadata_of_another_account_is_forbidden() -> None:
    archive = Archive()
    answer = archive.iq(f"<metadata xmlns='{ns.MAM}'/>", kind="get", to="bob@localhost")
    assert_xml(answer, f"<iq type='error'><error><forbidden xmlns='{ns.STANZAS}'/>"
                       "</error></iq>")


def test_extended_feature_on_the_account_for_itself_only() -> None:
    from wokkel import disco

    archive = Archive()
    own = archive.handler.getDiscoInfo(JID(ALICE), JID("alice@localhost"))
    other = archive.handler.getDiscoInfo(JID("bob@localhost/x"), JID("alice@localhost"))
    features = {f for f in own if isinstance(f, disco.DiscoFeature)}
    assert {ns.MAM, ns.MAM_EXTENDED, ns.SID} <= features
    assert other == []


# -- end to end, with slixmpp ------------------------------------------------------------------

MAM = ("xep_0313", "xep_0059", "xep_0359", "xep_0030")


async def test_slixmpp_sees_the_extended_feature_and_queries_by_id(server) -> None:
    """A real exchange: disco shows ``#extended``; ``after-id``/``before-id`` and ``ids``
    set through slixmpp's stanza interfaces select what they say; a flipped last page
    comes newest first; the metadata IQ names the ends."""
    alice = await login(server, "alice", resource="desk", plugins=MAM)
    bob = await login(server, "bob", resource="phone", plugins=MAM)
    try:
        for i in range(6):
            alice.send_message(mto="bob@localhost", mbody=f"m{i}", mtype="chat")
            await bob.next_message()
        info = await alice["xep_0030"].get_info(jid="alice@localhost")
        assert ns.MAM_EXTENDED in info["disco_info"]["features"]
        stored = [m.id for m in server.storage.archive.messages("alice")]

        async def bodies(**fields) -> list[str]:
            iq = alice.make_iq_set(ito="alice@localhost")
            flip = fields.pop("flip", False)
            for key, value in fields.items():
                iq["mam"][key] = value
            if flip:
                iq["mam"].xml.append(ET.Element(f"{{{ns.MAM}}}flip-page"))
            got: list = []
            alice.register_handler(Callback("results", MatchXPath(
                f"{{jabber:client}}message/{{{ns.MAM}}}result"), got.append))
            try:
                await iq.send(timeout=5)  # the results come before the answer
            finally:
                alice.remove_handler("results")
            return [m["mam_result"]["forwarded"]["stanza"]["body"] for m in got]

        assert await bodies(after_id=stored[1], before_id=stored[4]) == ["m2", "m3"]
        assert await bodies(ids=[stored[5], stored[0]]) == ["m0", "m5"]
        assert await bodies(after_id=stored[3], flip=True) == ["m5", "m4"]
        metadata = (await alice["xep_0313"].get_archive_metadata(
            jid="alice@localhost"))["mam_metadata"]
        assert (metadata["start"]["id"], metadata["end"]["id"]) == (stored[0], stored[-1])
        iq = alice.make_iq_set(ito="alice@localhost")
        iq["mam"]["after_id"] = "no-such-id"
        assert await iq_error(iq) == "item-not-found"
    finally:
        await close(alice, bob)


async def test_metadata_iq_over_a_raw_stream(server) -> None:
    raw = await raw_login(server, "alice")
    try:
        raw.send(f"<iq type='get' id='md1'><metadata xmlns='{ns.MAM}'/></iq>")
        text = await raw.read_until("id='md1'.*?(/>|</iq>)")
        assert re.search(rf"<metadata xmlns='{ns.MAM}'\s*/>", text), text
    finally:
        raw.close()


def test_a_single_valued_field_with_two_values_is_a_bad_request(filled) -> None:
    archive, items = filled
    assert archive.query({"after-id": [items[0].id, items[1].id]}).error == "bad-request"
    assert archive.query({"with": ["bob@localhost", "carol@localhost"]}).error == \
        "bad-request"
    assert archive.query({"ids": []}).count == N  # a field without a value: no filter
