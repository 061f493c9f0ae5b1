"""Helpers for the archive tests: a conversation between two slixmpp clients, and an
archive query (XEP-0313) on a raw stream."""

from __future__ import annotations

from twisted.words.xish import domish

from tests.helpers import login
from tests.raw import Raw
from tests.xmlassert import matches

MAM = ("xep_0313", "xep_0059", "xep_0359")
MAM_NS = "urn:xmpp:mam:2"
RSM = "http://jabber.org/protocol/rsm"


async def conversation(server, n=12):
    alice = await login(server, "alice", resource="desk", plugins=MAM)
    bob = await login(server, "bob", resource="phone", plugins=MAM)
    for i in range(n):
        sender, to = (alice, "bob@localhost") if i % 2 == 0 else (bob, "alice@localhost")
        sender.send_message(mto=to, mbody=f"m{i}", mtype="chat")
        receiver = bob if i % 2 == 0 else alice
        await receiver.next_message()
    return alice, bob


async def mam_query(raw: Raw, qid: str, rsm: str, queryid: str | None = None
                    ) -> tuple[list[domish.Element], domish.Element]:
    """Query the archive with ``rsm`` (XEP-0313 §4, XEP-0059): the result messages that
    came before the answer, and the answer (the ``<fin/>`` IQ, or an error)."""
    attr = f" queryid='{queryid}'" if queryid else ""
    raw.send(f"<iq type='set' id='{qid}'><query xmlns='{MAM_NS}'{attr}>"
             f"<set xmlns='{RSM}'>{rsm}</set></query></iq>")
    answer = await raw.next(f"<iq id='{qid}'/>")
    results = [m for m in raw.pending if matches(m, f"<message><result xmlns='{MAM_NS}'/>"
                                                    "</message>")]
    for m in results:
        raw.pending.remove(m)
    return results, answer


def bodies(results: list[domish.Element]) -> list[str]:
    """The bodies of the archived messages that ``results`` forward."""
    return [str(m.result.forwarded.message.body) for m in results]
