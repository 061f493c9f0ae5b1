"""Archiving preferences (XEP-0441): stored per account on every backend, read and
written by ``<prefs/>`` IQs, and honoured when the archive writes its copies."""

from __future__ import annotations

import sqlite3

import pytest

from minixmpp.storage import open_storage, schema
from minixmpp.storage.interfaces import ArchivePrefs
from minixmpp.storage.schema import FILENAME


@pytest.fixture(params=["memory", "sqlite"])
def storage(request, tmp_path):
    """Both backends, as the shared storage suite (tests/test_storage.py) runs them."""
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
