"""XEP-0198 stream management with a real client: acks, hibernation, resumption, push."""

from __future__ import annotations

import pytest
from twisted.words.protocols.jabber.jid import JID

from minixmpp.c2s.sm import MOD
from tests.helpers import (
    barrier,
    close,
    enable_push,
    eventually,
    kill_tcp,
    login,
    start_session,
    wait_push,
)
from tests.raw import BIND, STANZA_ERRORS, raw_authenticated, raw_login
from tests.xmlassert import assert_xml, find, show

SM = ("xep_0198",)
SM_NS = "urn:xmpp:sm:3"


def session_of(server, full: str):
    return server.sessions.get(JID(full))


async def sm_login(server, user="alice", resource="phone", **kw):
    c = await login(server, user, resource=resource, plugins=SM, **kw)
    await eventually(lambda: session_of(server, f"{user}@localhost/{resource}").sm
                     is not None)
    return c


async def test_acks_are_counted_both_ways(server) -> None:
    alice = await sm_login(server)
    bob = await login(server, "bob")
    session = session_of(server, "alice@localhost/phone")
    assert session.sm.resume and session.sm.id
    for i in range(5):
        alice.send_message(mto="bob@localhost", mbody=str(i), mtype="chat")
        bob.send_message(mto="alice@localhost/phone", mbody=str(i), mtype="chat")
    for _ in range(5):
        await alice.next_message()
    alice["xep_0198"].request_ack()
    # The server handled every stanza alice sent since enabling, and alice acked ours.
    await eventually(lambda: session.sm.inbound == alice["xep_0198"].seq)
    await eventually(lambda: alice["xep_0198"].last_ack == alice["xep_0198"].seq)
    await eventually(lambda: len(session.sm.queue) == 0)
    assert session.sm.acked == alice["xep_0198"].handled
    await close(alice, bob)


async def test_dead_connection_hibernates_pushes_once_and_resumes(server) -> None:
    alice = await sm_login(server)
    await enable_push(alice, "phone-node")
    kill_tcp(alice)
    session = session_of(server, "alice@localhost/phone")
    await eventually(lambda: session.hibernated)
    bob = await login(server, "bob", resource="desk")
    bob.send_message(mto="alice@localhost", mbody="first", mtype="chat")
    bob.send_message(mto="alice@localhost", mbody="second", mtype="chat")
    bob.send_message(mto="alice@localhost", mbody="", mtype="chat")  # not push-worthy
    n = await wait_push(server, account="alice")
    assert n.fields["last-message-body"] == "first" and n.node == "phone-node"
    await barrier(bob)
    assert len(server.appserver.find(account="alice")) == 1, "further messages are batched"
    assert server.storage.offline.count("alice") == 0  # queued for the session, not offline
    alice.messages.clear()
    await start_session(alice)
    await eventually(lambda: len(alice.messages) >= 2)
    await barrier(alice)
    assert [m["body"] for m in alice.messages if m["body"]] == ["first", "second"]
    assert not session.hibernated and session_of(server, "alice@localhost/phone") is session
    # Hibernating again pushes again (one push per hibernation).
    kill_tcp(alice)
    await eventually(lambda: session.hibernated)
    bob.send_message(mto="alice@localhost", mbody="third", mtype="chat")
    second = await wait_push(server, account="alice", since=n.seq)
    assert second.fields["last-message-body"] == "third"
    await close(bob)


async def test_resume_with_unknown_previd_is_item_not_found(server) -> None:
    raw, features = await raw_authenticated(server, "alice")
    assert_xml(features, f"<stream:features><sm xmlns='{SM_NS}'/></stream:features>")
    raw.send(f"<resume xmlns='{SM_NS}' previd='no-such-id' h='0'/>")
    assert_xml(await raw.next(f"<failed xmlns='{SM_NS}'/>"),
               f"<failed xmlns='{SM_NS}'><item-not-found xmlns='{STANZA_ERRORS}'/></failed>")
    # The stream goes on: bind still works.
    raw.send(f"<iq type='set' id='b'><bind xmlns='{BIND}'/></iq>")
    bound = await raw.next("<iq id='b'/>")
    assert_xml(bound, f"<iq type='result'><bind xmlns='{BIND}'><jid/></bind></iq>")
    assert str(bound.bind.jid).startswith("alice@localhost/")
    raw.close()


async def test_resume_of_someone_elses_session_is_refused(server) -> None:
    alice = await sm_login(server)
    previd = session_of(server, "alice@localhost/phone").sm.id
    kill_tcp(alice)
    raw, _ = await raw_authenticated(server, "bob")
    raw.send(f"<resume xmlns='{SM_NS}' previd='{previd}' h='0'/>")
    assert_xml(await raw.next(f"<failed xmlns='{SM_NS}'/>"),
               f"<failed xmlns='{SM_NS}'><item-not-found xmlns='{STANZA_ERRORS}'/></failed>")
    raw.close()


@pytest.mark.server_options(resume_timeout=1, resume_timeout_push=1)
async def test_hibernation_timeout_moves_messages_offline_and_broadcasts_unavailable(
        server) -> None:
    carol = await login(server, "carol")
    alice = await sm_login(server)
    alice.send_presence(pto="carol@localhost", ptype="subscribe")
    await eventually(lambda: alice.client_roster["carol@localhost"]["subscription"]
                         in ("from", "both"))
    kill_tcp(alice)
    await eventually(lambda: session_of(server, "alice@localhost/phone").hibernated)
    carol.send_message(mto="alice@localhost", mbody="are you there?", mtype="chat")
    await eventually(lambda: server.storage.offline.count("alice") == 1, timeout=5)
    assert session_of(server, "alice@localhost/phone") is None
    await eventually(lambda: any(p["type"] == "unavailable" and
                                     p["from"].full == "alice@localhost/phone"
                                     for p in carol.presences))
    back = await login(server, "alice", resource="laptop")
    got = await back.next_message()
    assert got["body"] == "are you there?"
    assert got.xml.find("{urn:xmpp:delay}delay") is not None
    await close(carol, back)


@pytest.mark.server_options(resume_timeout=1, resume_timeout_push=1)
async def test_resumed_then_dead_again_delivers_nothing_twice(server) -> None:
    alice = await sm_login(server)
    bob = await login(server, "bob")
    kill_tcp(alice)
    session = session_of(server, "alice@localhost/phone")
    await eventually(lambda: session.hibernated)
    bob.send_message(mto="alice@localhost", mbody="once", mtype="chat")
    await barrier(bob)
    await start_session(alice)
    await eventually(lambda: [m["body"] for m in alice.messages] == ["once"])
    alice["xep_0198"].send_ack()
    await eventually(lambda: len(session.sm.queue) == 0)
    kill_tcp(alice)
    await eventually(lambda: session_of(server, "alice@localhost/phone") is None,
                         timeout=5)
    assert server.storage.offline.count("alice") == 0
    fresh = await login(server, "alice", resource="other")
    await barrier(fresh)
    assert fresh.messages == []
    await close(fresh, bob)


async def test_counter_wraps_and_a_burst_across_a_resume_loses_and_duplicates_nothing(
        server) -> None:
    alice = await sm_login(server)
    sm_client = alice["xep_0198"]
    state = session_of(server, "alice@localhost/phone").sm
    # No answer in flight: everything the server sent is acknowledged (an <a/> counted
    # from the old values would be "more than were sent" after the change below).
    await eventually(lambda: not state.queue)
    # Start both counters just below 2**32 on both sides (h is mod 2**32, §5).
    start = MOD - 300
    state.inbound = state.acked = start
    sm_client.handled = sm_client.seq = sm_client.last_ack = start
    bob = await raw_login(server, "bob")
    bob.send("".join(f"<message to='alice@localhost' type='chat'><body>{i}</body></message>"
                     for i in range(500)))
    await eventually(lambda: len(alice.messages) == 500, timeout=10)
    kill_tcp(alice)
    await eventually(lambda: session_of(server, "alice@localhost/phone").hibernated)
    bob.send("".join(f"<message to='alice@localhost' type='chat'><body>{i}</body></message>"
                     for i in range(500, 1000)))
    await barrier(bob)
    await start_session(alice)
    await eventually(lambda: len(alice.messages) >= 1000, timeout=10)
    await barrier(alice)
    bodies = [m["body"] for m in alice.messages]
    assert bodies == [str(i) for i in range(1000)]
    assert state.acked < start, "the counter wrapped past 2**32"
    bob.close()
    await close(alice)


@pytest.mark.server_options(max_offline=20)
async def test_a_hibernated_queue_is_bounded(server) -> None:
    alice = await sm_login(server)
    kill_tcp(alice)
    await eventually(lambda: session_of(server, "alice@localhost/phone").hibernated)
    bob = await raw_login(server, "bob")
    bob.send("".join(f"<message to='alice@localhost' type='chat'><body>{i}</body></message>"
                     for i in range(60)))
    # Past --max-offline queued stanzas the session ends; its messages go offline (20)
    # and the rest bounce to the sender: bounded, and nothing silently lost.
    await eventually(lambda: session_of(server, "alice@localhost/phone") is None)
    bounce = (f"<message type='error' from='alice@localhost'><error>"
              f"<service-unavailable xmlns='{STANZA_ERRORS}'/></error></message>")
    for _ in range(40):
        await bob.next(bounce)
    await barrier(bob)
    assert server.storage.offline.count("alice") == 20
    assert find(bob.pending, "<message type='error'/>") is None  # 40, no more
    bob.close()


async def test_answers_the_stream_gives_itself_are_counted(server) -> None:
    """XEP-0198 §4: every stanza the server sends counts, including the ones the c2s
    stream answers itself (a session IQ after binding, a malformed IQ, a bad 'to'): a
    client that acknowledges all it received must not get handled-count-too-high."""
    raw = await raw_login(server, "alice")
    raw.send(f"<enable xmlns='{SM_NS}'/>")
    await raw.next(f"<enabled xmlns='{SM_NS}'/>")
    raw.send("<iq type='set' id='s1'><session xmlns='urn:ietf:params:xml:ns:xmpp-session'/>"
             "</iq><iq type='get'><query xmlns='jabber:iq:version'/></iq>"
             "<message to='@@bad@@' type='chat'><body>x</body></message>")
    await raw.next("<iq id='s1'/>")
    await raw.next("<iq type='error'/>")  # no id
    await raw.next(f"<message type='error'><error><jid-malformed xmlns='{STANZA_ERRORS}'/>"
                   "</error></message>")
    stanzas = [show(e) for e in raw.pending if e.name in ("iq", "message", "presence")]
    assert stanzas == []  # three answers, two of them errors (and an <r/> maybe)
    raw.send(f"<a xmlns='{SM_NS}' h='3'/><r xmlns='{SM_NS}'/>")
    assert_xml(await raw.next(f"<a xmlns='{SM_NS}'/>"), f"<a xmlns='{SM_NS}' h='*'/>")
    assert find(raw.pending, "<stream:error/>") is None and not raw.ended
    session = session_of(server, "alice@localhost/raw")
    assert session is not None and session.sm.acked == 3 and not session.sm.queue
    raw.close()
