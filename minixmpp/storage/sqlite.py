"""Durable storage in SQLite (``--data-dir DIR``): ``DIR/minixmpp.sqlite3``.

Plain ``sqlite3`` on the reactor thread, one small statement per write, committed
(WAL, ``synchronous=FULL``) before the call returns: a client is told of success only
after its data is on disk. That is simpler than ``adbapi``'s thread pool and, for a
development server's write rates, fast enough (see docs/storage.md). The schema is
versioned (``storage/schema.py``: ``connect`` opens, creates or upgrades the file).
"""

from __future__ import annotations

import base64
import json
import sqlite3
from dataclasses import asdict
from typing import Any

from minixmpp.storage.interfaces import (
    AccountExists,
    ArchivedMessage,
    ArchivePrefs,
    FastToken,
    NoSuchAccount,
    PushRegistration,
    RosterItem,
    ScramCredentials,
    StoredRoom,
    Upload,
)
from minixmpp.storage.memory import make_credentials, verify_password


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


class SQLiteAccountStore:
    """Accounts with SCRAM keys only (never the password)."""

    def __init__(self, db: sqlite3.Connection) -> None:
        self.db = db

    @staticmethod
    def _stored(c: ScramCredentials) -> dict[str, Any]:
        return {"salt": _b64(c.salt), "stored_key": _b64(c.stored_key),
                "server_key": _b64(c.server_key), "i": c.iteration_count}

    def _save(self, user: str, password: str, insert: bool) -> None:
        creds = {name: self._stored(c) for name, c in make_credentials(password).items()}
        if insert:
            try:
                self.db.execute("INSERT INTO accounts VALUES (?, ?)", (user, json.dumps(creds)))
            except sqlite3.IntegrityError:
                raise AccountExists(user) from None
        elif self.db.execute("UPDATE accounts SET credentials = ? WHERE user = ?",
                             (json.dumps(creds), user)).rowcount == 0:
            raise NoSuchAccount(user)

    def create(self, user: str, password: str) -> None:
        self._save(user, password, insert=True)

    def set_password(self, user: str, password: str) -> None:
        self._save(user, password, insert=False)

    def delete(self, user: str) -> None:
        if self.db.execute("DELETE FROM accounts WHERE user = ?", (user,)).rowcount == 0:
            raise NoSuchAccount(user)

    def exists(self, user: str) -> bool:
        return self.db.execute("SELECT 1 FROM accounts WHERE user = ?", (user,)).fetchone() \
            is not None

    def users(self) -> list[str]:
        return [r[0] for r in self.db.execute("SELECT user FROM accounts ORDER BY user")]

    def scram(self, user: str, mechanism: str) -> ScramCredentials | None:
        row = self.db.execute("SELECT credentials FROM accounts WHERE user = ?",
                              (user,)).fetchone()
        if row is None:
            return None
        c = json.loads(row[0]).get(mechanism)
        if c is None:
            return None
        return ScramCredentials(base64.b64decode(c["salt"]), base64.b64decode(c["stored_key"]),
                                base64.b64decode(c["server_key"]), int(c["i"]))

    def set_scram(self, user: str, mechanism: str, credentials: ScramCredentials) -> None:
        row = self.db.execute("SELECT credentials FROM accounts WHERE user = ?",
                              (user,)).fetchone()
        if row is None:
            raise NoSuchAccount(user)
        creds = {**json.loads(row[0]), mechanism: self._stored(credentials)}
        self.db.execute("UPDATE accounts SET credentials = ? WHERE user = ?",
                        (json.dumps(creds), user))

    def check_password(self, user: str, password: str) -> bool:
        creds = self.scram(user, "SCRAM-SHA-256")
        return creds is not None and verify_password(creds, password)


class SQLiteRosterStore:
    def __init__(self, db: sqlite3.Connection) -> None:
        self.db = db

    @staticmethod
    def _item(text: str) -> RosterItem:
        data = json.loads(text)
        data["groups"] = tuple(data["groups"])
        return RosterItem(**data)

    def items(self, user: str) -> list[RosterItem]:
        return [self._item(r[0]) for r in self.db.execute(
            "SELECT item FROM roster WHERE user = ? ORDER BY rowid", (user,))]

    def pending_in(self, user: str) -> int:
        return self.db.execute("SELECT COUNT(*) FROM roster WHERE user = ? AND "
                               "json_extract(item, '$.pending_in')", (user,)).fetchone()[0]

    def get(self, user: str, contact: str) -> RosterItem | None:
        row = self.db.execute("SELECT item FROM roster WHERE user = ? AND contact = ?",
                              (user, contact)).fetchone()
        return self._item(row[0]) if row else None

    def put(self, user: str, item: RosterItem) -> None:
        self.db.execute("INSERT INTO roster VALUES (?, ?, ?) ON CONFLICT (user, contact) "
                        "DO UPDATE SET item = excluded.item",
                        (user, item.jid, json.dumps(asdict(item))))

    def remove(self, user: str, contact: str) -> None:
        self.db.execute("DELETE FROM roster WHERE user = ? AND contact = ?", (user, contact))

    def drop(self, user: str) -> None:
        self.db.execute("DELETE FROM roster WHERE user = ?", (user,))


class SQLiteOfflineStore:
    def __init__(self, db: sqlite3.Connection) -> None:
        self.db = db

    def store(self, user: str, stanza: str) -> None:
        self.db.execute("INSERT INTO offline (user, stanza) VALUES (?, ?)", (user, stanza))

    def count(self, user: str) -> int:
        return self.db.execute("SELECT COUNT(*) FROM offline WHERE user = ?",
                               (user,)).fetchone()[0]

    def peek(self, user: str) -> list[str]:
        return [r[0] for r in self.db.execute(
            "SELECT stanza FROM offline WHERE user = ? ORDER BY seq", (user,))]

    def pop_all(self, user: str) -> list[str]:
        with self.db:
            self.db.execute("BEGIN IMMEDIATE")
            stanzas = self.peek(user)
            self.db.execute("DELETE FROM offline WHERE user = ?", (user,))
        return stanzas


class SQLiteArchiveStore:
    """Archives in ``table`` (``archive`` for accounts, ``muc_archive`` for rooms)."""

    def __init__(self, db: sqlite3.Connection, table: str = "archive") -> None:
        assert table in ("archive", "muc_archive")
        self.db = db
        self.table = table

    def append(self, user: str, message: ArchivedMessage, limit: int) -> None:
        t = self.table
        with self.db:
            self.db.execute("BEGIN IMMEDIATE")
            self.db.execute(f"INSERT INTO {t} (user, id, ts, with_jid, xml) "
                            "VALUES (?, ?, ?, ?, ?)", (user, message.id, message.timestamp,
                                                       message.with_jid, message.xml))
            self.db.execute(f"DELETE FROM {t} WHERE user = ? AND seq NOT IN (SELECT seq "
                            f"FROM {t} WHERE user = ? ORDER BY seq DESC LIMIT ?)",
                            (user, user, limit))

    def messages(self, user: str) -> list[ArchivedMessage]:
        return [ArchivedMessage(*r) for r in self.db.execute(
            f"SELECT id, ts, with_jid, xml FROM {self.table} WHERE user = ? ORDER BY seq",
            (user,))]

    def drop(self, user: str) -> None:
        self.db.execute(f"DELETE FROM {self.table} WHERE user = ?", (user,))

    def replace(self, user: str, id: str, xml: str) -> bool:
        return self.db.execute(f"UPDATE {self.table} SET xml = ? WHERE user = ? AND id = ?",
                               (xml, user, id)).rowcount > 0


class SQLiteArchivePrefsStore:
    """Archiving preferences (XEP-0441), one JSON row per account."""

    def __init__(self, db: sqlite3.Connection) -> None:
        self.db = db

    def get(self, user: str) -> ArchivePrefs | None:
        row = self.db.execute("SELECT prefs FROM archive_prefs WHERE user = ?",
                              (user,)).fetchone()
        if row is None:
            return None
        data = json.loads(row[0])
        return ArchivePrefs(data["default"], tuple(data["always"]), tuple(data["never"]))

    def put(self, user: str, prefs: ArchivePrefs) -> None:
        self.db.execute("INSERT OR REPLACE INTO archive_prefs VALUES (?, ?)",
                        (user, json.dumps(asdict(prefs))))

    def drop(self, user: str) -> None:
        self.db.execute("DELETE FROM archive_prefs WHERE user = ?", (user,))


class SQLiteRoomStore:
    def __init__(self, db: sqlite3.Connection) -> None:
        self.db = db

    def rooms(self) -> list[StoredRoom]:
        return [StoredRoom(**json.loads(r[0])) for r in self.db.execute(
            "SELECT room FROM muc_rooms ORDER BY name")]

    def get(self, name: str) -> StoredRoom | None:
        row = self.db.execute("SELECT room FROM muc_rooms WHERE name = ?", (name,)).fetchone()
        return StoredRoom(**json.loads(row[0])) if row else None

    def put(self, room: StoredRoom) -> None:
        self.db.execute("INSERT INTO muc_rooms VALUES (?, ?) ON CONFLICT (name) "
                        "DO UPDATE SET room = excluded.room",
                        (room.name, json.dumps(asdict(room))))

    def delete(self, name: str) -> None:
        self.db.execute("DELETE FROM muc_rooms WHERE name = ?", (name,))


class SQLitePushStore:
    def __init__(self, db: sqlite3.Connection) -> None:
        self.db = db

    def registrations(self, user: str) -> list[PushRegistration]:
        return [PushRegistration(**json.loads(r[0])) for r in self.db.execute(
            "SELECT registration FROM push WHERE user = ? ORDER BY seq", (user,))]

    def put(self, user: str, registration: PushRegistration) -> None:
        data = json.dumps(asdict(registration))
        with self.db:
            self.db.execute("BEGIN IMMEDIATE")
            updated = self.db.execute(
                "UPDATE push SET registration = ? WHERE user = ? AND jid = ? AND node IS ?",
                (data, user, registration.jid, registration.node)).rowcount
            if not updated:
                self.db.execute("INSERT INTO push (user, jid, node, registration) "
                                "VALUES (?, ?, ?, ?)",
                                (user, registration.jid, registration.node, data))

    def remove(self, user: str, jid: str, node: str | None) -> bool:
        # ``IS``: a NULL node matches only the node-less registration.
        return self.db.execute("DELETE FROM push WHERE user = ? AND jid = ? AND node IS ?",
                               (user, jid, node)).rowcount > 0

    def remove_service(self, user: str, jid: str) -> int:
        return self.db.execute("DELETE FROM push WHERE user = ? AND jid = ?",
                               (user, jid)).rowcount

    def users(self) -> list[str]:
        return [r[0] for r in self.db.execute("SELECT DISTINCT user FROM push ORDER BY user")]


class SQLitePrivateStore:
    def __init__(self, db: sqlite3.Connection) -> None:
        self.db = db

    def get(self, user: str, key: str) -> str | None:
        row = self.db.execute("SELECT xml FROM private WHERE user = ? AND key = ?",
                              (user, key)).fetchone()
        return row[0] if row else None

    def put(self, user: str, key: str, xml: str | None) -> None:
        if xml is None:
            self.db.execute("DELETE FROM private WHERE user = ? AND key = ?", (user, key))
        else:
            self.db.execute("INSERT INTO private VALUES (?, ?, ?) ON CONFLICT (user, key) "
                            "DO UPDATE SET xml = excluded.xml", (user, key, xml))

    def drop(self, user: str) -> None:
        self.db.execute("DELETE FROM private WHERE user = ?", (user,))


class SQLiteUploadStore:
    _COLUMNS = "slot, user, filename, size, content_type, created, expires, uploaded"

    def __init__(self, db: sqlite3.Connection) -> None:
        self.db = db

    def put(self, upload: Upload) -> None:
        self.db.execute(f"INSERT OR REPLACE INTO uploads ({self._COLUMNS}) "
                        "VALUES (?, ?, ?, ?, ?, ?, ?, ?)", tuple(asdict(upload).values()))

    def get(self, slot: str) -> Upload | None:
        row = self.db.execute(f"SELECT {self._COLUMNS} FROM uploads WHERE slot = ?",
                              (slot,)).fetchone()
        return Upload(*row) if row else None

    def remove(self, slot: str) -> None:
        self.db.execute("DELETE FROM uploads WHERE slot = ?", (slot,))

    def for_user(self, user: str) -> list[Upload]:
        return [Upload(*r) for r in self.db.execute(
            f"SELECT {self._COLUMNS} FROM uploads WHERE user = ? ORDER BY created, rowid",
            (user,))]

    def all(self) -> list[Upload]:
        return [Upload(*r) for r in self.db.execute(
            f"SELECT {self._COLUMNS} FROM uploads ORDER BY created, rowid")]


class SQLiteBlockStore:
    def __init__(self, db: sqlite3.Connection) -> None:
        self.db = db

    def blocked(self, user: str) -> list[str]:
        return [r[0] for r in self.db.execute(
            "SELECT jid FROM blocklist WHERE user = ? ORDER BY seq", (user,))]

    def block(self, user: str, jids: list[str]) -> list[str]:
        added = []
        with self.db:
            self.db.execute("BEGIN IMMEDIATE")
            for jid in dict.fromkeys(jids):
                if self.db.execute("INSERT OR IGNORE INTO blocklist (user, jid) VALUES (?, ?)",
                                   (user, jid)).rowcount:
                    added.append(jid)
        return added

    def unblock(self, user: str, jids: list[str] | None) -> list[str]:
        with self.db:
            self.db.execute("BEGIN IMMEDIATE")
            current = self.blocked(user)
            removed = current if jids is None else [j for j in current if j in jids]
            self.db.executemany("DELETE FROM blocklist WHERE user = ? AND jid = ?",
                                [(user, j) for j in removed])
        return removed


class SQLiteLastActivityStore:
    def __init__(self, db: sqlite3.Connection) -> None:
        self.db = db

    def get(self, user: str) -> tuple[float, str] | None:
        row = self.db.execute("SELECT ts, status FROM last_activity WHERE user = ?",
                              (user,)).fetchone()
        return (row[0], row[1]) if row else None

    def put(self, user: str, when: float, status: str) -> None:
        self.db.execute("INSERT OR REPLACE INTO last_activity VALUES (?, ?, ?)",
                        (user, when, status))

    def drop(self, user: str) -> None:
        self.db.execute("DELETE FROM last_activity WHERE user = ?", (user,))


class SQLiteTokenStore:
    """FAST tokens (XEP-0484), one JSON row per (account, user-agent id)."""

    def __init__(self, db: sqlite3.Connection) -> None:
        self.db = db

    def get(self, user: str, agent: str) -> FastToken | None:
        row = self.db.execute("SELECT token FROM fast_tokens WHERE user = ? AND agent = ?",
                              (user, agent)).fetchone()
        return FastToken(**json.loads(row[0])) if row else None

    def put(self, user: str, agent: str, token: FastToken) -> None:
        self.db.execute("INSERT OR REPLACE INTO fast_tokens VALUES (?, ?, ?)",
                        (user, agent, json.dumps(asdict(token))))

    def delete(self, user: str, agent: str) -> None:
        self.db.execute("DELETE FROM fast_tokens WHERE user = ? AND agent = ?", (user, agent))

    def drop(self, user: str) -> None:
        self.db.execute("DELETE FROM fast_tokens WHERE user = ?", (user,))
