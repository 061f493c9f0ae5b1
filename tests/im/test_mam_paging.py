"""XEP-0313 paging with RSM (XEP-0059) in both directions, walked by slixmpp's own
``xep_0313.iterate`` and checked page by page on the wire, on memory and SQLite storage."""

from __future__ import annotations

import re

import pytest

from tests.helpers import close, raw_login
from tests.im.helpers import conversation

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


def page(text: str, qid: str) -> dict:
    """The bodies, <first>, <last>, <count> and complete of the answer to ``qid``."""
    fin = re.search(rf"<iq[^>]*id='{qid}'.*?</iq>", text, re.S).group(0)
    first = re.search(r"<first(?: index='(\d+)')?>([^<]+)</first>", fin)
    last = re.search(r"<last>([^<]+)</last>", fin)
    return {"bodies": re.findall(r"<body>(m\d+)</body>", text.split(f"id='{qid}'")[0]),
            "first": first.group(2) if first else None,
            "index": first.group(1) if first else None,
            "last": last.group(1) if last else None,
            "count": int(re.search(r"<count>(\d+)</count>", fin).group(1)),
            "complete": "complete='true'" in fin}


async def query(raw, qid: str, rsm: str) -> dict:
    raw.buffer = b""
    raw.send(f"<iq type='set' id='{qid}'><query xmlns='urn:xmpp:mam:2'>"
             f"<set xmlns='http://jabber.org/protocol/rsm'>{rsm}</set></query></iq>")
    return page(await raw.read_until(f"id='{qid}'.*?</iq>"), qid)


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
