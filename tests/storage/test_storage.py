"""One storage test suite, run against every backend (memory and SQLite)."""

from __future__ import annotations

import sqlite3

import pytest

from minixmpp.storage import open_storage
from minixmpp.storage.interfaces import (
    AccountExists,
    ArchivedMessage,
    FastToken,
    NoSuchAccount,
    PepItem,
    PepNode,
    PushRegistration,
    RosterItem,
    StoredRoom,
    Upload,
)
from minixmpp.storage.schema import FILENAME, VERSION, SchemaTooNew, connect


@pytest.fixture(params=["memory", "sqlite"])
def storage(request, tmp_path):
    s = open_storage(None if request.param == "memory" else str(tmp_path))
    yield s
    s.close()


def test_accounts(storage) -> None:
    a = storage.accounts
    a.create("alice", "secret")
    with pytest.raises(AccountExists):
        a.create("alice", "other")
    assert a.exists("alice") and not a.exists("bob")
    assert a.check_password("alice", "secret") and not a.check_password("alice", "nope")
    creds = a.scram("alice", "SCRAM-SHA-1")
    assert creds is not None and creds.iteration_count >= 4096 and len(creds.salt) >= 16
    assert a.scram("alice", "SCRAM-SHA-256").stored_key != creds.stored_key
    a.set_password("alice", "new")
    assert a.check_password("alice", "new") and not a.check_password("alice", "secret")
    with pytest.raises(NoSuchAccount):
        a.set_password("bob", "x")
    a.create("bob", "b")
    assert a.users() == ["alice", "bob"]
    a.delete("alice")
    with pytest.raises(NoSuchAccount):
        a.delete("alice")
    assert a.users() == ["bob"] and a.scram("alice", "SCRAM-SHA-1") is None


def test_rosters(storage) -> None:
    r = storage.rosters
    item = RosterItem("bob@localhost", name="Bob", groups=("Friends", "Work"),
                      subscription="to", ask=True)
    r.put("alice", item)
    r.put("alice", RosterItem("carol@localhost", in_roster=False, pending_in=True,
                              pending_stanza="<presence type='subscribe'/>"))
    assert r.get("alice", "bob@localhost") == item
    assert [i.jid for i in r.items("alice")] == ["bob@localhost", "carol@localhost"]
    assert r.pending_in("alice") == 1 and r.pending_in("bob") == 0
    got = r.get("alice", "bob@localhost")
    got.name = "changed"  # a copy: the store is not changed behind its back
    assert r.get("alice", "bob@localhost").name == "Bob"
    r.put("alice", got)
    assert r.get("alice", "bob@localhost").name == "changed"
    assert [i.jid for i in r.items("alice")] == ["bob@localhost", "carol@localhost"]
    r.put("alice", RosterItem("carol@localhost", subscription="from"))  # approved
    assert r.pending_in("alice") == 0
    r.remove("alice", "bob@localhost")
    assert r.get("alice", "bob@localhost") is None and r.items("bob") == []
    r.drop("alice")
    assert r.items("alice") == [] and r.pending_in("alice") == 0


def test_offline(storage) -> None:
    o = storage.offline
    for i in range(3):
        o.store("alice", f"<message><body>{i}</body></message>")
    assert o.count("alice") == 3 and o.count("bob") == 0
    assert o.peek("alice")[0] == "<message><body>0</body></message>"
    assert o.pop_all("alice") == [f"<message><body>{i}</body></message>" for i in range(3)]
    assert o.count("alice") == 0 and o.pop_all("alice") == []


def test_archive_is_bounded_and_ordered(storage) -> None:
    a = storage.archive
    for i in range(5):
        a.append("alice", ArchivedMessage(f"id{i}", 1000.0 + i, "bob@localhost/x",
                                          f"<message>{i}</message>"), limit=3)
    assert [m.id for m in a.messages("alice")] == ["id2", "id3", "id4"]
    assert a.messages("alice")[0] == ArchivedMessage("id2", 1002.0, "bob@localhost/x",
                                                     "<message>2</message>")
    a.drop("alice")
    assert a.messages("alice") == []


def test_archive_replace_and_room_archives_are_apart(storage) -> None:
    for archive in (storage.archive, storage.room_archive):
        archive.append("x", ArchivedMessage("id0", 1.0, "a", "<message>0</message>"), 10)
    assert storage.room_archive.replace("x", "id0", "<message><retracted/></message>")
    assert not storage.room_archive.replace("x", "nope", "<message/>")
    assert storage.room_archive.messages("x")[0].xml == "<message><retracted/></message>"
    assert storage.archive.messages("x")[0].xml == "<message>0</message>"
    storage.room_archive.drop("x")
    assert storage.room_archive.messages("x") == [] and storage.archive.messages("x")


def test_a_large_memory_archive_is_out_of_the_garbage_collectors_sight() -> None:
    """Full collections walked every archived message (100–230 ms stalls at 300,000
    objects under load); the memory archive keeps what the collector untracks."""
    import gc

    storage = open_storage(None)
    for i in range(1000):
        storage.archive.append("alice", ArchivedMessage(f"id{i}", float(i), "bob@localhost/x",
                                                        f"<message>{i}</message>"), 5000)
    gc.collect()
    held = set(map(id, storage.archive._archives["alice"]))
    assert len(held) == 1000
    assert not any(id(o) in held for o in gc.get_objects())
    assert storage.archive.messages("alice")[999].xml == "<message>999</message>"


def test_rooms(storage) -> None:
    r = storage.rooms
    room = StoredRoom("lounge", config={"name": "Lounge", "members_only": True},
                      affiliations={"alice@localhost": "owner"},
                      nicks={"alice@localhost": "Al"}, subject="hi", subject_nick="Al",
                      created=5.0, salt="s")
    r.put(room)
    r.put(StoredRoom("attic"))
    assert r.get("lounge") == room and r.get("nope") is None
    got = r.get("lounge")
    got.affiliations["bob@localhost"] = "member"  # a copy
    assert "bob@localhost" not in r.get("lounge").affiliations
    r.put(got)
    assert r.get("lounge").affiliations["bob@localhost"] == "member"
    assert [x.name for x in r.rooms()] == ["attic", "lounge"]
    r.delete("lounge")
    assert [x.name for x in r.rooms()] == ["attic"]


def test_push_registrations(storage) -> None:
    p = storage.push
    first = PushRegistration("push.localhost", "n1", away=True, publish_options="<x/>",
                             resource="phone", created=1.5,
                             extensions={"priority": True, "muted": ["bob@localhost"],
                                         "groupchat": [{"jid": "r@muc", "allow": "mentioned",
                                                        "nick": "al"}],
                                         "encrypt": {"alg": "aes-128-gcm", "key": "AAAA",
                                                     "max_size": None}})
    p.put("alice", first)
    p.put("alice", PushRegistration("push.localhost", None))
    p.put("alice", PushRegistration("other.example", "n1"))
    assert [(r.jid, r.node) for r in p.registrations("alice")] == [
        ("push.localhost", "n1"), ("push.localhost", None), ("other.example", "n1")]
    assert p.registrations("alice")[0] == first
    replaced = PushRegistration("push.localhost", "n1", away=False, errors=2)
    p.put("alice", replaced)  # same (jid, node): replaced in place
    assert p.registrations("alice")[0] == replaced and len(p.registrations("alice")) == 3
    assert p.users() == ["alice"]
    assert p.remove("alice", "push.localhost", "n1")
    assert not p.remove("alice", "push.localhost", "n1")
    assert not p.remove("alice", "other.example", None)  # None is a node, not a wildcard
    assert p.remove("alice", "other.example", "n1")
    assert [(r.jid, r.node) for r in p.registrations("alice")] == [("push.localhost", None)]
    assert p.remove("alice", "push.localhost", None)
    assert p.users() == [] and p.registrations("alice") == []


def test_push_remove_is_exact_and_remove_service_takes_every_node(storage) -> None:
    """IPushStore.remove(user, jid, None) removes only the node-less registration;
    remove_service is the "every node" of XEP-0357 §6."""
    p = storage.push
    for jid, node in (("push.localhost", None), ("push.localhost", "n1"),
                      ("push.localhost", "n2"), ("other.example", None)):
        p.put("alice", PushRegistration(jid, node))
    p.put("bob", PushRegistration("push.localhost", None))
    assert p.remove("alice", "push.localhost", None)
    assert [(r.jid, r.node) for r in p.registrations("alice")] == [
        ("push.localhost", "n1"), ("push.localhost", "n2"), ("other.example", None)]
    assert not p.remove("alice", "push.localhost", None)
    assert p.remove_service("alice", "push.localhost") == 2
    assert [(r.jid, r.node) for r in p.registrations("alice")] == [("other.example", None)]
    assert p.remove_service("alice", "push.localhost") == 0
    assert p.remove_service("alice", "other.example") == 1
    assert p.users() == ["bob"] and p.registrations("alice") == []
    assert [r.node for r in p.registrations("bob")] == [None]


def test_pep_nodes_and_items(storage) -> None:
    p = storage.pep
    p.put_node("alice", PepNode("urn:xmpp:avatar:metadata", {"pubsub#access_model": "open"}))
    p.put_node("alice", PepNode("eu.siacs.conversations.axolotl.devicelist"))
    assert [n.name for n in p.nodes("alice")] == ["urn:xmpp:avatar:metadata",
                                                  "eu.siacs.conversations.axolotl.devicelist"]
    node = p.node("alice", "urn:xmpp:avatar:metadata")
    node.config["pubsub#access_model"] = "presence"  # a copy
    assert p.node("alice", "urn:xmpp:avatar:metadata").config == {"pubsub#access_model": "open"}
    p.put_node("alice", node)  # update keeps the creation order
    assert p.nodes("alice")[0].config == {"pubsub#access_model": "presence"}
    assert p.node("bob", "urn:xmpp:avatar:metadata") is None and p.nodes("bob") == []
    n = "urn:xmpp:avatar:metadata"
    for i in range(4):
        p.publish("alice", n, PepItem(f"i{i}", f"<x>{i}</x>", "alice@localhost/a", 10.0 + i),
                  keep=3)
    assert [i.id for i in p.items("alice", n)] == ["i1", "i2", "i3"]
    p.publish("alice", n, PepItem("i1", "<x>new</x>", "alice@localhost/b", 20.0), keep=3)
    assert [i.id for i in p.items("alice", n)] == ["i2", "i3", "i1"]  # replaced is newest
    assert p.item("alice", n, "i1") == PepItem("i1", "<x>new</x>", "alice@localhost/b", 20.0)
    assert p.item("alice", n, "i0") is None
    assert p.retract("alice", n, "i2") and not p.retract("alice", n, "i2")
    assert [i.id for i in p.items("alice", n)] == ["i3", "i1"]
    p.purge("alice", n)
    assert p.items("alice", n) == [] and p.node("alice", n) is not None
    p.publish("alice", n, PepItem("x", "<x/>"), keep=1)
    assert p.delete_node("alice", n) and not p.delete_node("alice", n)
    assert p.items("alice", n) == []
    p.publish("bob", "b", PepItem("x", "<x/>"), keep=1)
    p.put_node("bob", PepNode("b"))
    p.drop("alice")
    assert p.nodes("alice") == [] and [n.name for n in p.nodes("bob")] == ["b"]


def test_private_documents(storage) -> None:
    d = storage.private
    d.put("alice", "private:storage:bookmarks", "<storage xmlns='storage:bookmarks'/>")
    d.put("alice", "vcard", "<vCard xmlns='vcard-temp'/>")
    assert d.get("alice", "vcard") == "<vCard xmlns='vcard-temp'/>"
    d.put("alice", "vcard", "<vCard xmlns='vcard-temp'><FN>A</FN></vCard>")
    assert d.get("alice", "vcard") == "<vCard xmlns='vcard-temp'><FN>A</FN></vCard>"
    assert d.get("bob", "vcard") is None
    d.put("alice", "vcard", None)
    assert d.get("alice", "vcard") is None
    assert d.get("alice", "private:storage:bookmarks") is not None
    d.drop("alice")
    assert d.get("alice", "private:storage:bookmarks") is None


def test_fast_tokens(storage) -> None:
    t = storage.tokens
    assert t.get("alice", "ua1") is None
    t.put("alice", "ua1", FastToken("HT-SHA-256-NONE", "secret", 100.0))
    t.put("alice", "ua2", FastToken("HT-SHA-256-ENDP", "other", 200.0, "old", 3))
    t.put("bob", "ua1", FastToken("HT-SHA-256-NONE", "bobs", 1.0))
    assert t.get("alice", "ua1") == FastToken("HT-SHA-256-NONE", "secret", 100.0)
    assert t.get("alice", "ua2") == FastToken("HT-SHA-256-ENDP", "other", 200.0, "old", 3)
    got = t.get("alice", "ua1")
    got.count = 9  # a copy: the store is unchanged until put
    assert t.get("alice", "ua1").count == 0
    t.delete("alice", "ua1")
    assert t.get("alice", "ua1") is None and t.get("alice", "ua2") is not None
    t.drop("alice")
    assert t.get("alice", "ua2") is None and t.get("bob", "ua1") is not None


def test_sqlite_survives_reopening(tmp_path) -> None:
    s = open_storage(str(tmp_path))
    s.accounts.create("alice", "pw")
    s.offline.store("alice", "<message/>")
    s.push.put("alice", PushRegistration("push.localhost", "n"))
    s.rooms.put(StoredRoom("lounge", affiliations={"alice@localhost": "owner"}))
    s.pep.put_node("alice", PepNode("n", {"pubsub#max_items": "5"}))
    s.pep.publish("alice", "n", PepItem("1", "<x/>"), keep=5)
    s.close()
    again = open_storage(str(tmp_path))
    assert again.accounts.check_password("alice", "pw")
    assert again.offline.count("alice") == 1
    assert again.push.registrations("alice")[0].node == "n"
    assert again.rooms.get("lounge").affiliations == {"alice@localhost": "owner"}
    assert again.pep.nodes("alice") == [PepNode("n", {"pubsub#max_items": "5"})]
    assert again.pep.items("alice", "n") == [PepItem("1", "<x/>")]
    again.close()


def test_sqlite_schema_is_versioned_and_upgraded(tmp_path) -> None:
    old = sqlite3.connect(tmp_path / FILENAME)  # an empty version-0 file
    old.execute("CREATE TABLE unrelated (x)")
    old.commit()
    old.close()
    db = connect(tmp_path)
    assert db.execute("PRAGMA user_version").fetchone()[0] == VERSION
    assert db.execute("SELECT COUNT(*) FROM accounts").fetchone()[0] == 0
    db.execute(f"PRAGMA user_version = {VERSION + 1}")
    db.close()
    with pytest.raises(SchemaTooNew):
        connect(tmp_path)


def test_sqlite_never_stores_passwords(tmp_path) -> None:
    s = open_storage(str(tmp_path))
    s.accounts.create("alice", "very-secret-password")
    s.close()
    raw = (tmp_path / FILENAME).read_bytes() + b"".join(
        p.read_bytes() for p in tmp_path.glob(FILENAME + "-*"))
    assert b"very-secret-password" not in raw


def test_sqlite_push_registration_without_extensions_reads_as_none(tmp_path) -> None:
    """A registration stored before the push extensions existed (no 'extensions' key)."""
    s = open_storage(str(tmp_path))
    s.db.execute("INSERT INTO push (user, jid, node, registration) VALUES (?, ?, ?, ?)",
                 ("alice", "push.localhost", "n",
                  '{"jid": "push.localhost", "node": "n", "away": true}'))
    [r] = s.push.registrations("alice")
    assert (r.node, r.away, r.extensions) == ("n", True, {})
    s.close()


def test_uploads(storage) -> None:
    u = storage.uploads
    first = Upload("s1", "alice", "a.png", 10, "image/png", 1.0, 301.0)
    u.put(first)
    u.put(Upload("s2", "bob", "b.txt", 3, "text/plain", 2.0, 302.0))
    u.put(Upload("s3", "alice", "c.bin", 5, "application/octet-stream", 3.0, 303.0))
    assert u.get("s1") == first and u.get("nope") is None
    assert [x.slot for x in u.for_user("alice")] == ["s1", "s3"]
    done = u.get("s1")
    done.uploaded = 5.0
    assert u.get("s1").uploaded is None  # a copy
    u.put(done)
    assert u.get("s1").uploaded == 5.0
    u.remove("s1")
    assert [x.slot for x in u.all()] == ["s2", "s3"]


def test_block_lists(storage) -> None:
    b = storage.blocking
    assert b.blocked("alice") == []
    assert b.block("alice", ["x@localhost", "y@localhost", "x@localhost"]) == [
        "x@localhost", "y@localhost"]
    assert b.block("alice", ["y@localhost", "example.com"]) == ["example.com"]
    assert b.blocked("alice") == ["x@localhost", "y@localhost", "example.com"]
    assert b.blocked("bob") == []
    assert b.unblock("alice", ["y@localhost", "z@localhost"]) == ["y@localhost"]
    assert b.unblock("alice", None) == ["x@localhost", "example.com"]
    assert b.blocked("alice") == []


def test_last_activity(storage) -> None:
    last = storage.last_activity
    assert last.get("alice") is None
    last.put("alice", 10.5, "gone")
    last.put("alice", 11.5, "")
    assert last.get("alice") == (11.5, "")
    last.drop("alice")
    assert last.get("alice") is None
