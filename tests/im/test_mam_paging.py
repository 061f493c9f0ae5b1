"""XEP-0313 paging with RSM (XEP-0059) in both directions, walked by slixmpp's own
``xep_0313.iterate`` and checked page by page on the wire, on memory and SQLite storage."""

from __future__ import annotations

import pytest

from tests.helpers import close
from tests.im.helpers import MAM_NS, RSM, bodies, conversation, mam_query
from tests.raw import raw_login
from tests.xmlassert import assert_xml, child_text, find

STORAGE = ["memory", "sqlite"]


@pytest.fixture(params=STORAGE)
def archive_server(request, server_factory, tmp_path):
    if request.param == "sqlite":
        return server_factory(data_dir=str(tmp_path / "data"))
    return server_factory()


async def walk(client, *, reverse: bool, size: int) -> list[str]:
    got = []
    async for m in client["xep_0313"].iterate(with_jid="bob@localhost", reverse=reverse,
                                              rsm={"max": size}):
        got.append(m["mam_result"]["forwarded"]["stanza"]["body"])
    return got


@pytest.mark.parametrize("reverse", [False, True], ids=["forward", "backward"])
@pytest.mark.parametrize("size", [1, 2, 10])
@pytest.mark.parametrize("n", [2, 5])
async def test_slixmpp_iterate_walks_the_whole_archive(archive_server, n, size, reverse
                                                       ) -> None:
    alice, bob = await conversation(archive_server, n)
    try:
        bodies = [f"m{i}" for i in range(n)]
        got = await walk(alice, reverse=reverse, size=size)
        assert got == (bodies[::-1] if reverse else bodies)
    finally:
        await close(alice, bob)


async def query(raw, qid: str, rsm: str) -> dict:
    """One page: the bodies, <first> (and its index), <last>, <count> and complete."""
    results, fin = await mam_query(raw, qid, rsm)
    assert_xml(fin, f"<iq type='result' id='{qid}'><fin xmlns='{MAM_NS}'><set xmlns='{RSM}'/>"
                    "</fin></iq>")
    rsm_set = fin.fin.set
    first = find(rsm_set, f"<first xmlns='{RSM}'/>")
    last = find(rsm_set, f"<last xmlns='{RSM}'/>")
    return {"bodies": bodies(results),
            "first": str(first) if first is not None else None,
            "index": first.getAttribute("index") if first is not None else None,
            "last": str(last) if last is not None else None,
            "count": int(child_text(rsm_set, f"<count xmlns='{RSM}'/>")),
            "complete": fin.fin.getAttribute("complete") == "true"}


@pytest.mark.parametrize("size", [1, 2, 10])
async def test_every_page_has_first_last_count_and_complete(archive_server, size) -> None:
    alice, bob = await conversation(archive_server, 3)
    raw = await raw_login(archive_server, "alice", resource="raw")
    try:
        # backwards from the end: <before/>, then <before>first</before>
        seen, rsm, i = [], f"<max>{size}</max><before/>", 0
        while True:
            i += 1
            p = await query(raw, f"b{i}", rsm)
            assert p["count"] == 3 and p["index"] is None
            assert p["first"] is not None and p["last"] is not None
            seen = p["bodies"] + seen
            assert p["complete"] == (seen[0] == "m0")
            if p["complete"]:
                break
            rsm = f"<max>{size}</max><before>{p['first']}</before>"
        assert seen == ["m0", "m1", "m2"] and i == -(-3 // size)
        # forwards from the start: no <after>, then <after>last</after>
        seen, rsm, i = [], f"<max>{size}</max>", 0
        while True:
            i += 1
            p = await query(raw, f"f{i}", rsm)
            assert p["count"] == 3 and p["index"] == str(len(seen))
            seen += p["bodies"]
            assert p["complete"] == (seen[-1] == "m2")
            if p["complete"]:
                break
            rsm = f"<max>{size}</max><after>{p['last']}</after>"
        assert seen == ["m0", "m1", "m2"] and i == -(-3 // size)
        # past either end: an empty page, still complete, still counted
        p = await query(raw, "end", f"<max>{size}</max><after>{p['last']}</after>")
        assert p == {"bodies": [], "first": None, "index": None, "last": None, "count": 3,
                     "complete": True}
    finally:
        raw.close()
        await close(alice, bob)
