"""The SQLite file of ``--data-dir``: its schema, versioned with ``PRAGMA user_version``,
and the migrations that bring an older file up to date (one transaction per step)."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from pathlib import Path

from minixmpp.storage.interfaces import StorageError

FILENAME = "minixmpp.sqlite3"


def _v1(db: sqlite3.Connection) -> None:
    db.executescript("""
        CREATE TABLE accounts (user TEXT PRIMARY KEY, credentials TEXT NOT NULL);
        CREATE TABLE roster (user TEXT NOT NULL, contact TEXT NOT NULL, item TEXT NOT NULL,
                             PRIMARY KEY (user, contact));
        CREATE TABLE offline (seq INTEGER PRIMARY KEY AUTOINCREMENT, user TEXT NOT NULL,
                              stanza TEXT NOT NULL);
        CREATE INDEX offline_user ON offline (user, seq);
        CREATE TABLE archive (seq INTEGER PRIMARY KEY AUTOINCREMENT, user TEXT NOT NULL,
                              id TEXT NOT NULL, ts REAL NOT NULL, with_jid TEXT NOT NULL,
                              xml TEXT NOT NULL);
        CREATE INDEX archive_user ON archive (user, seq);
        CREATE TABLE push (seq INTEGER PRIMARY KEY AUTOINCREMENT, user TEXT NOT NULL,
                           jid TEXT NOT NULL, node TEXT, registration TEXT NOT NULL);
        CREATE INDEX push_user ON push (user, seq);
    """)


def _push_extensions(db: sqlite3.Connection) -> None:
    """Push registrations gain ``extensions`` (Tigase's push extensions) inside their
    JSON; rows without it read as "none enabled". No table changes: the version bump
    makes an older minixmpp refuse the file (SchemaTooNew) instead of failing on it."""


def _muc(db: sqlite3.Connection) -> None:
    """Group chat (XEP-0045): persistent rooms, and each room's archive."""
    db.executescript("""
        CREATE TABLE muc_rooms (name TEXT PRIMARY KEY, room TEXT NOT NULL);
        CREATE TABLE muc_archive (seq INTEGER PRIMARY KEY AUTOINCREMENT, user TEXT NOT NULL,
                                  id TEXT NOT NULL, ts REAL NOT NULL, with_jid TEXT NOT NULL,
                                  xml TEXT NOT NULL);
        CREATE INDEX muc_archive_user ON muc_archive (user, seq);
    """)


def _pep(db: sqlite3.Connection) -> None:
    """PEP nodes and items (XEP-0163), private XML (XEP-0049) and vCards (XEP-0054)."""
    db.executescript("""
        CREATE TABLE pep_nodes (seq INTEGER PRIMARY KEY AUTOINCREMENT, user TEXT NOT NULL,
                                node TEXT NOT NULL, config TEXT NOT NULL, UNIQUE (user, node));
        CREATE TABLE pep_items (seq INTEGER PRIMARY KEY AUTOINCREMENT, user TEXT NOT NULL,
                                node TEXT NOT NULL, id TEXT NOT NULL, payload TEXT NOT NULL,
                                publisher TEXT NOT NULL, ts REAL NOT NULL,
                                UNIQUE (user, node, id));
        CREATE INDEX pep_items_node ON pep_items (user, node, seq);
        CREATE TABLE private (user TEXT NOT NULL, key TEXT NOT NULL, xml TEXT NOT NULL,
                              PRIMARY KEY (user, key));
    """)


def _v_web(db: sqlite3.Connection) -> None:
    """HTTP upload slots (XEP-0363), block lists (XEP-0191), last logout (XEP-0012)."""
    db.executescript("""
        CREATE TABLE uploads (slot TEXT PRIMARY KEY, user TEXT NOT NULL, filename TEXT NOT NULL,
                              size INTEGER NOT NULL, content_type TEXT NOT NULL,
                              created REAL NOT NULL, expires REAL NOT NULL, uploaded REAL);
        CREATE INDEX uploads_user ON uploads (user, created);
        CREATE TABLE blocklist (seq INTEGER PRIMARY KEY AUTOINCREMENT, user TEXT NOT NULL,
                                jid TEXT NOT NULL, UNIQUE (user, jid));
        CREATE TABLE last_activity (user TEXT PRIMARY KEY, ts REAL NOT NULL,
                                    status TEXT NOT NULL);
    """)


def _fast_tokens(db: sqlite3.Connection) -> None:
    """FAST tokens (XEP-0484) by account and SASL2 user-agent id."""
    db.executescript("""
        CREATE TABLE fast_tokens (user TEXT NOT NULL, agent TEXT NOT NULL,
                                  token TEXT NOT NULL, PRIMARY KEY (user, agent));
    """)


def _archive_prefs(db: sqlite3.Connection) -> None:
    """Archiving preferences (XEP-0441) by account (one statement: it stays inside the
    step's transaction, which ``executescript`` would commit first)."""
    db.execute("CREATE TABLE archive_prefs (user TEXT PRIMARY KEY, prefs TEXT NOT NULL)")


def _pubsub(db: sqlite3.Connection) -> None:
    """Affiliations and subscriptions of PEP and pubsub nodes (XEP-0060 §4.1, §4.2), and
    the pubsub service's nodes and items (shaped as PEP's, keyed by the service JID)."""
    db.executescript("""
        CREATE TABLE pubsub_nodes (seq INTEGER PRIMARY KEY AUTOINCREMENT, user TEXT NOT NULL,
                                   node TEXT NOT NULL, config TEXT NOT NULL,
                                   UNIQUE (user, node));
        CREATE TABLE pubsub_items (seq INTEGER PRIMARY KEY AUTOINCREMENT, user TEXT NOT NULL,
                                   node TEXT NOT NULL, id TEXT NOT NULL, payload TEXT NOT NULL,
                                   publisher TEXT NOT NULL, ts REAL NOT NULL,
                                   UNIQUE (user, node, id));
        CREATE INDEX pubsub_items_node ON pubsub_items (user, node, seq);
        CREATE TABLE node_affiliations (kind TEXT NOT NULL, service TEXT NOT NULL,
                                        node TEXT NOT NULL, jid TEXT NOT NULL,
                                        affiliation TEXT NOT NULL,
                                        PRIMARY KEY (kind, service, node, jid));
        CREATE INDEX node_affiliations_jid ON node_affiliations (kind, jid);
        CREATE TABLE node_subscriptions (seq INTEGER PRIMARY KEY AUTOINCREMENT,
                                         kind TEXT NOT NULL, service TEXT NOT NULL,
                                         node TEXT NOT NULL, jid TEXT NOT NULL,
                                         bare TEXT NOT NULL, state TEXT NOT NULL,
                                         options TEXT NOT NULL,
                                         UNIQUE (kind, service, node, jid));
        CREATE INDEX node_subscriptions_bare ON node_subscriptions (kind, bare);
    """)


#: ``MIGRATIONS[n]`` brings a file from version n to n + 1.
MIGRATIONS: list[Callable[[sqlite3.Connection], None]] = [_v1, _push_extensions, _pep, _v_web,
                                                          _fast_tokens, _muc,
                                                          _archive_prefs, _pubsub]
VERSION = len(MIGRATIONS)


class SchemaTooNew(StorageError):
    """The file was written by a newer minixmpp."""


def connect(directory: str | Path) -> sqlite3.Connection:
    """Open (creating or upgrading) the database in ``directory``."""
    path = Path(directory)
    path.mkdir(parents=True, exist_ok=True)
    db = sqlite3.connect(path / FILENAME, isolation_level=None, check_same_thread=False)
    db.execute("PRAGMA journal_mode=WAL")
    db.execute("PRAGMA synchronous=FULL")
    version = db.execute("PRAGMA user_version").fetchone()[0]
    if version > VERSION:
        raise SchemaTooNew(f"{path / FILENAME} has schema version {version}; this minixmpp "
                           f"knows up to {VERSION}")
    for step in range(version, VERSION):
        with db:  # one transaction per step, version bump included
            db.execute("BEGIN")
            MIGRATIONS[step](db)
            db.execute(f"PRAGMA user_version = {step + 1}")
    return db
