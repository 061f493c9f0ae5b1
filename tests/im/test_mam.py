"""Message archive (XEP-0313) with stanza ids (XEP-0359) and paging."""

from __future__ import annotations

import datetime

import pytest

from tests.helpers import barrier, close, iq_error, login
from tests.im.helpers import MAM, MAM_NS, RSM, bodies, conversation, mam_query
from tests.raw import raw_login, stanza_error
from tests.xmlassert import as_element, assert_xml, child_text, descendants, matches


async def test_archive_returns_the_conversation_in_order_with_paging(server) -> None:
    alice, bob = await conversation(server)
    got = []
    async def collect():
        async for message in alice["xep_0313"].iterate(with_jid="bob@localhost",
                                                       rsm={"max": 5}):
            got.append(message)
    await collect()
    bodies = [m["mam_result"]["forwarded"]["stanza"]["body"] for m in got]
    assert bodies == [f"m{i}" for i in range(12)]
    assert all(m["mam_result"]["forwarded"]["delay"]["stamp"] for m in got)
    await close(alice, bob)


async def test_rsm_last_page_after_and_unknown_id(server) -> None:
    alice, bob = await conversation(server, 6)
    alice.plugin.disable("xep_0313")
    raw = await raw_login(server, "alice", resource="raw")
    results, fin = await mam_query(raw, "q1", "<max>4</max><before/>", queryid="last")
    assert bodies(results) == ["m2", "m3", "m4", "m5"]
    assert all(matches(m, f"<message><result xmlns='{MAM_NS}' queryid='last'/></message>")
               for m in results)
    assert_xml(fin, f"<iq type='result' id='q1'><fin xmlns='{MAM_NS}'><set xmlns='{RSM}'>"
                    "<first/><count>6</count></set></fin></iq>")
    assert fin.fin.getAttribute("complete") != "true"
    first_id = child_text(fin.fin.set, f"<first xmlns='{RSM}'/>")
    results, fin = await mam_query(raw, "q2", f"<max>10</max><before>{first_id}</before>")
    assert bodies(results) == ["m0", "m1"]
    assert_xml(fin, f"<iq type='result' id='q2'><fin xmlns='{MAM_NS}' complete='true'/></iq>")
    _, error = await mam_query(raw, "q3", "<after>nope</after>")
    assert_xml(error, stanza_error("iq", "item-not-found", id="q3"))
    raw.close()
    await close(alice, bob)


async def test_start_and_end_filter(server) -> None:
    alice, bob = await conversation(server, 4)
    now = datetime.datetime.now(datetime.UTC)
    result = await alice["xep_0313"].retrieve(start=now + datetime.timedelta(hours=1))
    assert list(result["mam"]["results"]) == []
    result = await alice["xep_0313"].retrieve(end=now + datetime.timedelta(hours=1))
    assert len(list(result["mam"]["results"])) == 4
    await close(alice, bob)


async def test_delivered_messages_carry_the_archive_stanza_id(server) -> None:
    bob = await login(server, "bob", resource="phone")
    alice = await raw_login(server, "alice")
    alice.send("<message to='bob@localhost' type='chat' id='x1'><body>hello</body>"
               "<stanza-id xmlns='urn:xmpp:sid:0' by='bob@localhost' id='forged'/></message>")
    got = await bob.next_message()
    ids = [e for e in got.xml.iter("{urn:xmpp:sid:0}stanza-id")]
    assert len(ids) == 1 and ids[0].get("by") == "bob@localhost"
    assert ids[0].get("id") != "forged"
    assert ids[0].get("id") == server.storage.archive.messages("bob")[0].id
    alice.close()
    await close(bob)


async def test_another_accounts_archive_is_forbidden(server) -> None:
    alice = await login(server, "alice", plugins=MAM)
    iq = alice.make_iq_set(ito="bob@localhost")
    iq.enable("mam")
    assert await iq_error(iq) == "forbidden"
    await close(alice)


async def test_no_archive_turns_the_archive_off(server_factory) -> None:
    server = server_factory(no_archive=True)
    bob = await login(server, "bob", resource="phone", plugins=MAM)
    alice = await login(server, "alice", plugins=MAM)
    alice.send_message(mto="bob@localhost", mbody="not kept", mtype="chat")
    got = await bob.next_message()
    assert got.xml.find("{urn:xmpp:sid:0}stanza-id") is None
    assert server.storage.archive.messages("bob") == []
    iq = bob.make_iq_set()
    iq.enable("mam")
    assert await iq_error(iq) == "service-unavailable"
    await close(alice, bob)


@pytest.mark.parametrize("bob_online", [True, False], ids=["bob-online", "bob-offline"])
async def test_both_archives_keep_the_message_as_sent(server, bob_online: bool) -> None:
    """One message between local accounts: the sender's and the recipient's archive hold
    the message as sent (no stanza-id of ours inside), in arrival order, whether the
    recipient read it live or it waited offline; and a message to an account that does
    not exist still lands in the sender's archive."""
    bob = await login(server, "bob", resource="phone", plugins=MAM) if bob_online else None
    alice = await login(server, "alice", resource="desk", plugins=MAM)
    for body in ("first", "second"):
        alice.send_message(mto="bob@localhost", mbody=body, mtype="chat")
    alice.send_message(mto="nobody@localhost", mbody="lost", mtype="chat")
    alice.send_message(mto="alice@localhost", mbody="note to self", mtype="chat")
    await barrier(alice)
    if bob is None:
        bob = await login(server, "bob", resource="phone", plugins=MAM)

    async def bodies(client) -> list[tuple[str, str]]:
        got = []
        async for message in client["xep_0313"].iterate(rsm={"max": 3}):
            stanza = message["mam_result"]["forwarded"]["stanza"]
            assert stanza.xml.find("{urn:xmpp:sid:0}stanza-id") is None
            got.append((str(stanza["to"].bare), stanza["body"]))
        return got

    assert await bodies(alice) == [
        ("bob@localhost", "first"), ("bob@localhost", "second"),
        ("nobody@localhost", "lost"), ("alice@localhost", "note to self"),
        ("alice@localhost", "note to self")]
    assert await bodies(bob) == [("bob@localhost", "first"), ("bob@localhost", "second")]
    stored = server.storage.archive.messages("bob")
    assert [[e.name for e in descendants(as_element(m.xml)) if e.name == "stanza-id"]
            for m in stored] == [[], []]
    await close(alice, bob)


def test_archive_copies_are_written_even_when_delivery_fails(server) -> None:
    """A delivery that raises half way (here: the recipient's stream) still leaves both
    archive copies written when the router returns, not waiting for the next message."""
    from twisted.words.protocols.jabber.jid import JID
    from twisted.words.xish import domish

    from minixmpp.sessions import Session

    class Broken:
        def send(self, stanza) -> None:
            raise RuntimeError("stream gone")

    alice = Session(JID("alice@localhost/desk"), Broken())
    bob = Session(JID("bob@localhost/phone"), Broken())
    for session in (alice, bob):
        session.presence = domish.Element((None, "presence"))
        server.sessions.bind(session)
    message = domish.Element((None, "message"))
    message["from"], message["to"], message["type"] = alice.jid.full(), "bob@localhost", "chat"
    message.addElement("body", content="kept anyway")
    with pytest.raises(RuntimeError):
        server.local.from_client(alice, message)
    assert [m.with_jid for m in server.storage.archive.messages("alice")] == ["bob@localhost"]
    assert [m.with_jid for m in server.storage.archive.messages("bob")] == [
        "alice@localhost/desk"]
    stored = as_element(server.storage.archive.messages("bob")[0].xml)
    assert "stanza-id" not in [e.name for e in descendants(stored)]
