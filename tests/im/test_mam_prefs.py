"""Archiving preferences (XEP-0441): stored per account on every backend, read and
written by ``<prefs/>`` IQs, and honoured when the archive writes its copies."""

from __future__ import annotations

import sqlite3

import pytest
from twisted.words.protocols.jabber.jid import JID

from minixmpp import ns
from minixmpp.sessions import Session
from minixmpp.storage import open_storage, schema
from minixmpp.storage.interfaces import ArchivePrefs, RosterItem
from minixmpp.storage.schema import FILENAME
from tests.helpers import barrier, close, enable_push, iq_error, login, wait_push
from tests.im.mam_harness import ALICE, Archive, Stream
from tests.xmlassert import assert_xml


@pytest.fixture(params=["memory", "sqlite"])
def storage(request, tmp_path):
    """Both backends, as the shared storage suite (tests/storage/test_storage.py) runs them."""
    s = open_storage(None if request.param == "memory" else str(tmp_path))
    yield s
    s.close()


def test_prefs_are_stored_per_account_and_dropped(storage) -> None:
    p = storage.archive_prefs
    assert p.get("alice") is None
    prefs = ArchivePrefs("roster", ("bob@localhost", "carol@localhost/phone"),
                         ("mallory@evil.example",))
    p.put("alice", prefs)
    p.put("bob", ArchivePrefs("never"))
    assert p.get("alice") == prefs and p.get("bob") == ArchivePrefs("never")
    p.put("alice", ArchivePrefs("always"))  # replaced as a whole
    assert p.get("alice") == ArchivePrefs("always", (), ())
    p.drop("alice")
    assert p.get("alice") is None and p.get("bob") == ArchivePrefs("never")


def test_sqlite_prefs_survive_reopening(tmp_path) -> None:
    s = open_storage(str(tmp_path))
    s.archive_prefs.put("alice", ArchivePrefs("never", ("bob@localhost",), ()))
    s.close()
    again = open_storage(str(tmp_path))
    assert again.archive_prefs.get("alice") == ArchivePrefs("never", ("bob@localhost",), ())
    again.close()


def test_sqlite_file_of_the_previous_schema_gains_the_prefs_table(tmp_path) -> None:
    """A file at the version before this one (the MUC tables last) is upgraded in place:
    its data stay, the preferences table is new and empty."""
    db = sqlite3.connect(tmp_path / FILENAME, isolation_level=None)
    previous = schema.MIGRATIONS.index(schema._archive_prefs)
    for step in schema.MIGRATIONS[:previous]:
        step(db)
    db.execute(f"PRAGMA user_version = {previous}")
    db.execute("INSERT INTO archive (user, id, ts, with_jid, xml) VALUES "
               "('alice', 'a1', 1.0, 'bob@localhost', '<message/>')")
    db.close()
    s = open_storage(str(tmp_path))
    assert [m.id for m in s.archive.messages("alice")] == ["a1"]
    assert s.archive_prefs.get("alice") is None
    s.archive_prefs.put("alice", ArchivePrefs("roster"))
    assert s.archive_prefs.get("alice") == ArchivePrefs("roster")
    s.close()


# -- the <prefs/> IQs (XEP-0441 §2.1), on the harness ------------------------------------------

def prefs_xml(default: str | None, always: tuple[str, ...] = (),
              never: tuple[str, ...] = ()) -> str:
    attribute = f" default='{default}'" if default is not None else ""
    lists = "".join(f"<{name}>" + "".join(f"<jid>{j}</jid>" for j in jids) + f"</{name}>"
                    for name, jids in (("always", always), ("never", never)))
    return f"<prefs xmlns='{ns.MAM}'{attribute}>{lists}</prefs>"


def answered(payload: str) -> str:
    return (f"<iq type='result' id='x' from='alice@localhost' to='{ALICE}'>{payload}</iq>")


def test_prefs_default_to_always_with_empty_lists() -> None:
    """§2.1: ``default`` and both lists, even empty; Prosody's default policy."""
    archive = Archive()
    assert_xml(archive.iq(f"<prefs xmlns='{ns.MAM}'/>", kind="get"),
               answered(prefs_xml("always")), exact=True)


def test_set_prefs_answers_what_was_applied_and_stores_it() -> None:
    """JIDs prepared and without repeats; a JID in both lists stays in ``<never/>``."""
    archive = Archive()
    asked = prefs_xml("roster", ("Bob@LOCALHOST", "bob@localhost", "carol@localhost/Phone",
                                 "mallory@evil.example"),
                      ("mallory@EVIL.example", "dave@example.org"))
    applied = prefs_xml("roster", ("bob@localhost", "carol@localhost/Phone"),
                        ("mallory@evil.example", "dave@example.org"))
    assert_xml(archive.iq(asked), answered(applied), exact=True)
    assert_xml(archive.iq(f"<prefs xmlns='{ns.MAM}'/>", kind="get"), answered(applied),
               exact=True)
    assert archive.storage.archive_prefs.get("alice") == ArchivePrefs(
        "roster", ("bob@localhost", "carol@localhost/Phone"),
        ("mallory@evil.example", "dave@example.org"))


def test_set_without_default_keeps_it_and_missing_lists_are_empty() -> None:
    archive = Archive()
    archive.iq(prefs_xml("never", ("bob@localhost",)))
    assert_xml(archive.iq(f"<prefs xmlns='{ns.MAM}'/>"), answered(prefs_xml("never")),
               exact=True)


@pytest.mark.parametrize(("payload", "condition"), [
    (prefs_xml("sometimes"), "bad-request"),
    (prefs_xml("always", ("@localhost",)), "jid-malformed"),
    (prefs_xml("always", (), ("bob@localhost/",)), "jid-malformed"),
    (prefs_xml("always", ("",)), "jid-malformed"),
])
def test_bad_prefs_are_refused_and_nothing_changes(payload: str, condition: str) -> None:
    archive = Archive()
    archive.iq(prefs_xml("roster", ("bob@localhost",)))
    answer = archive.iq(payload)
    [e] = [c for c in answer.elements() if c.name == "error"]
    assert answer["type"] == "error" and next(e.elements(ns.STANZAS)).name == condition
    assert archive.storage.archive_prefs.get("alice") == ArchivePrefs(
        "roster", ("bob@localhost",))


@pytest.mark.parametrize("kind", ["get", "set"])
def test_another_accounts_prefs_are_forbidden(kind: str) -> None:
    archive = Archive()
    answer = archive.iq(prefs_xml("never"), kind=kind, to="bob@localhost")
    [e] = [c for c in answer.elements() if c.name == "error"]
    assert next(e.elements(ns.STANZAS)).name == "forbidden"
    assert archive.storage.archive_prefs.get("bob") is None


# -- honoured when archiving (XEP-0441 §2.3), on the harness -----------------------------------

TARGETS = ("bob@localhost/phone", "bob@localhost/laptop", "carol@localhost/tablet",
           "dave@example.org", "erin@example.org/x", "alice@localhost/other")
ROSTER = {"bob@localhost": True, "carol@localhost": False}  # carol: a request only


def model(prefs: ArchivePrefs, target: str) -> bool:
    """§2.3 as a table: an exact entry, else a bare entry, else the default."""
    bare = target.split("/")[0]
    for listed in (target, bare):
        if listed in prefs.never:
            return False
        if listed in prefs.always:
            return True
    if prefs.default == "roster":
        return ROSTER.get(bare, False)
    return prefs.default == "always"


PREFS = [
    ArchivePrefs("always"),
    ArchivePrefs("never"),
    ArchivePrefs("roster"),
    ArchivePrefs("never", always=("bob@localhost", "erin@example.org/x")),
    ArchivePrefs("always", never=("bob@localhost",), always=("bob@localhost/laptop",)),
    ArchivePrefs("roster", always=("dave@example.org",), never=("bob@localhost/phone",)),
]


@pytest.mark.parametrize("prefs", PREFS, ids=lambda p: f"{p.default}-{len(p.always)}-"
                                                      f"{len(p.never)}")
def test_both_directions_follow_the_owners_prefs(prefs: ArchivePrefs) -> None:
    """Every target, sent to (``to``) and received from (``from``): archived exactly
    when the model says, and a received copy carries our stanza-id exactly then."""
    archive = Archive()
    for contact, listed in ROSTER.items():
        archive.storage.rosters.put("alice", RosterItem(
            contact, subscription="both" if listed else "none", in_roster=listed,
            pending_in=not listed))
    archive.iq(prefs_xml(prefs.default, prefs.always, prefs.never))
    expected = []
    for target in TARGETS:
        archive.send(target, f"to {target}")
        if model(prefs, target):
            expected.append(("to", target))
        received = archive.receive(target, f"from {target}")
        stamped = [c for c in received.elements(ns.SID, "stanza-id")]
        if model(prefs, target):
            expected.append(("from", target))
            assert [c["by"] for c in stamped] == ["alice@localhost"]
        else:
            assert stamped == []
    stored = archive.storage.archive.messages("alice")
    got = [("to" if f"to {m.with_jid}" in m.xml else "from", m.with_jid) for m in stored]
    assert got == expected
    assert 0 < len(expected) < 2 * len(TARGETS) or prefs.default in ("always", "never")


def test_a_message_between_two_local_accounts_follows_each_owners_prefs() -> None:
    """Alice (``never``) sends to Bob (default ``always``) on one server: only Bob's
    copy is written, stamped for Bob."""
    archive = Archive()
    archive.sessions.bind(Session(JID("bob@localhost/phone"), Stream()))
    archive.iq(prefs_xml("never"))
    message = archive.message(ALICE, "bob@localhost", "hello")
    archive.handler.sent(archive.sessions.get(JID(ALICE)), message)
    archive.handler.incoming(message, "bob")
    archive.handler.delivered(None)
    assert archive.storage.archive.messages("alice") == []
    [bob] = archive.storage.archive.messages("bob")
    assert bob.with_jid == ALICE and "hello" in bob.xml and "stanza-id" not in bob.xml
    assert next(message.elements(ns.SID, "stanza-id"))["by"] == "bob@localhost"


# -- end to end, with slixmpp's xep_0441 -------------------------------------------------------

PLUGINS = ("xep_0313", "xep_0059", "xep_0359", "xep_0441")


async def chat(sender, receiver, body: str) -> object:
    sender.send_message(mto=receiver.boundjid.bare, mbody=body, mtype="chat")
    return await receiver.next_message()


async def test_prefs_are_honoured_on_a_real_exchange(server) -> None:
    """Alice keeps only what she exchanges with Bob (``never``, Bob ``always``): her
    archive has both directions with Bob and nothing with Carol, the message from Carol
    reaches her without a stanza-id, and Bob's and Carol's archives (default
    ``always``) keep everything."""
    alice = await login(server, "alice", resource="desk", plugins=PLUGINS)
    bob = await login(server, "bob", resource="phone", plugins=PLUGINS)
    carol = await login(server, "carol", resource="pad", plugins=PLUGINS)
    try:
        assert await alice["xep_0441"].get_preferences() == ("always", set(), set())
        answer = await alice["xep_0441"].set_preferences(
            "never", always=["Bob@localhost"], never=[])
        assert answer["mam_prefs"]["default"] == "never"
        assert {str(j) for j in answer["mam_prefs"]["always"]} == {"bob@localhost"}
        default, always, never = await alice["xep_0441"].get_preferences()
        assert (default, {str(j) for j in always}, never) == ("never", {"bob@localhost"},
                                                              set())
        await chat(alice, bob, "to bob")
        from_bob = await chat(bob, alice, "from bob")
        await chat(alice, carol, "to carol")
        from_carol = await chat(carol, alice, "from carol")
        assert from_bob["stanza_id"]["by"] == "alice@localhost"
        assert from_carol.xml.find(f"{{{ns.SID}}}stanza-id") is None

        async def bodies(client) -> list[str]:
            return [m["mam_result"]["forwarded"]["stanza"]["body"]
                    async for m in client["xep_0313"].iterate(rsm={"max": 10})]

        assert await bodies(alice) == ["to bob", "from bob"]
        assert await bodies(bob) == ["to bob", "from bob"]
        assert await bodies(carol) == ["to carol", "from carol"]
    finally:
        await close(alice, bob, carol)


async def test_roster_default_archives_contacts_only(server) -> None:
    """``roster``: Bob, once in Alice's roster, is archived; Carol is not."""
    alice = await login(server, "alice", resource="desk", plugins=PLUGINS)
    bob = await login(server, "bob", resource="phone", plugins=PLUGINS)
    carol = await login(server, "carol", resource="pad", plugins=PLUGINS)
    try:
        await alice["xep_0441"].set_preferences("roster", always=[], never=[])
        await chat(bob, alice, "before the roster")
        await alice.update_roster("bob@localhost", name="Bob")
        await chat(bob, alice, "in the roster")
        await chat(carol, alice, "never a contact")
        got = [m["mam_result"]["forwarded"]["stanza"]["body"]
               async for m in alice["xep_0313"].iterate(rsm={"max": 10})]
        assert got == ["in the roster"]
    finally:
        await close(alice, bob, carol)


async def test_prefs_are_forgotten_with_the_account(server) -> None:
    alice = await login(server, "alice", resource="desk", plugins=PLUGINS)
    await alice["xep_0441"].set_preferences("never", always=[], never=[])
    await close(alice)
    assert server.storage.archive_prefs.get("alice") == ArchivePrefs("never")
    server.forget_account("alice")
    assert server.storage.archive_prefs.get("alice") is None


@pytest.mark.server_options(push_on_archive=True)
async def test_push_on_archive_follows_the_prefs(server) -> None:
    """``--push-on-archive`` notifies archived messages only: with ``never`` (Carol
    always), a message from Bob is not archived and not pushed, one from Carol is."""
    phone = await login(server, "alice", resource="phone", plugins=PLUGINS)
    await enable_push(phone, "phone-node")
    await phone["xep_0441"].set_preferences("never", always=["carol@localhost"], never=[])
    await close(phone)
    desktop = await login(server, "alice", resource="desktop")
    bob = await login(server, "bob")
    carol = await login(server, "carol")
    try:
        bob.send_message(mto="alice@localhost", mbody="not kept", mtype="chat")
        assert (await desktop.next_message())["body"] == "not kept"
        await barrier(bob)
        assert server.appserver.find(account="alice") == []
        carol.send_message(mto="alice@localhost", mbody="kept", mtype="chat")
        assert (await desktop.next_message())["body"] == "kept"
        await wait_push(server, account="alice")
        assert [n.fields["last-message-body"]
                for n in server.appserver.find(account="alice")] == ["kept"]
    finally:
        await close(desktop, bob, carol)


async def test_without_the_archive_prefs_and_metadata_are_unavailable(server_factory) -> None:
    server = server_factory(no_archive=True)
    alice = await login(server, "alice", plugins=PLUGINS)
    try:
        iq = alice.make_iq_get(ito="alice@localhost")
        iq.enable("mam_prefs")
        assert await iq_error(iq) == "service-unavailable"
        iq = alice.make_iq_get(ito="alice@localhost")
        iq.enable("mam_metadata")
        assert await iq_error(iq) == "service-unavailable"
    finally:
        await close(alice)
