"""Storage behind small interfaces (accounts, rosters, offline messages, archive, push
registrations, PEP, private XML, uploads, block lists, last activity, FAST tokens, group
chat rooms, archiving preferences, the pubsub service, pubsub subscriptions and
affiliations): in memory by default, SQLite with ``--data-dir``."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from minixmpp.storage.interfaces import (
    IAccountStore,
    IArchivePrefsStore,
    IArchiveStore,
    IBlockStore,
    ILastActivityStore,
    IOfflineStore,
    IPepStore,
    IPrivateStore,
    IPushStore,
    IRoomStore,
    IRosterStore,
    ISubscriptionStore,
    ITokenStore,
    IUploadStore,
    StorageError,
)


@dataclass
class Storage:
    """One backend's stores."""

    accounts: IAccountStore
    rosters: IRosterStore
    offline: IOfflineStore
    archive: IArchiveStore
    push: IPushStore
    pep: IPepStore
    private: IPrivateStore
    uploads: IUploadStore
    blocking: IBlockStore
    last_activity: ILastActivityStore
    tokens: ITokenStore
    rooms: IRoomStore | None = None  # group chat (minixmpp.muc)
    room_archive: IArchiveStore | None = None
    archive_prefs: IArchivePrefsStore | None = None  # XEP-0441
    #: affiliations and subscriptions of PEP nodes (service: the account's bare JID)
    pep_subscriptions: ISubscriptionStore | None = None
    #: the pubsub service (minixmpp.pubsub): nodes and items by its JID, and theirs
    pubsub: IPepStore | None = None
    pubsub_subscriptions: ISubscriptionStore | None = None
    db: Any = None

    def close(self) -> None:
        if self.db is not None:
            self.db.close()
            self.db = None


def open_storage(data_dir: str | None) -> Storage:
    """Memory when ``data_dir`` is None, else SQLite in that directory; any problem
    opening it is a :class:`StorageError`."""
    if data_dir is None:
        from minixmpp.storage import memory

        return Storage(memory.MemoryAccountStore(), memory.MemoryRosterStore(),
                       memory.MemoryOfflineStore(), memory.MemoryArchiveStore(),
                       memory.MemoryPushStore(), pep=memory.MemoryPepStore(),
                       private=memory.MemoryPrivateStore(),
                       uploads=memory.MemoryUploadStore(),
                       blocking=memory.MemoryBlockStore(),
                       last_activity=memory.MemoryLastActivityStore(),
                       tokens=memory.MemoryTokenStore(),
                       rooms=memory.MemoryRoomStore(),
                       room_archive=memory.MemoryArchiveStore(),
                       archive_prefs=memory.MemoryArchivePrefsStore(),
                       pep_subscriptions=memory.MemorySubscriptionStore(),
                       pubsub=memory.MemoryPepStore(),
                       pubsub_subscriptions=memory.MemorySubscriptionStore())
    import sqlite3

    from minixmpp.storage import sqlite
    from minixmpp.storage.schema import connect
    from minixmpp.storage.sqlite_pubsub import SQLitePepStore, SQLiteSubscriptionStore

    try:
        db = connect(data_dir)
    except (OSError, sqlite3.Error) as e:
        raise StorageError(str(e)) from e
    return Storage(sqlite.SQLiteAccountStore(db), sqlite.SQLiteRosterStore(db),
                   sqlite.SQLiteOfflineStore(db), sqlite.SQLiteArchiveStore(db),
                   sqlite.SQLitePushStore(db), pep=SQLitePepStore(db),
                   private=sqlite.SQLitePrivateStore(db),
                   uploads=sqlite.SQLiteUploadStore(db),
                   blocking=sqlite.SQLiteBlockStore(db),
                   last_activity=sqlite.SQLiteLastActivityStore(db),
                   tokens=sqlite.SQLiteTokenStore(db),
                   rooms=sqlite.SQLiteRoomStore(db),
                   room_archive=sqlite.SQLiteArchiveStore(db, "muc_archive"),
                   archive_prefs=sqlite.SQLiteArchivePrefsStore(db),
                   pep_subscriptions=SQLiteSubscriptionStore(db, "pep"),
                   pubsub=SQLitePepStore(db, "pubsub"),
                   pubsub_subscriptions=SQLiteSubscriptionStore(db, "pubsub"), db=db)
