"""SQLite stores of the pubsub family (``--data-dir``): PEP's and the pubsub service's
nodes and items, and the affiliations and subscriptions of both (schema: ``_pep`` and
``_pubsub`` in ``storage/schema.py``)."""

from __future__ import annotations

import json
import sqlite3

from minixmpp.storage.interfaces import NodeSubscription, PepItem, PepNode


class SQLitePepStore:
    """PEP nodes and items (``pep_nodes``, ``pep_items``), or the pubsub service's
    (``pubsub_nodes``, ``pubsub_items``) keyed by its JID."""

    def __init__(self, db: sqlite3.Connection, prefix: str = "pep") -> None:
        assert prefix in ("pep", "pubsub")
        self.db = db
        self.n, self.i = f"{prefix}_nodes", f"{prefix}_items"

    def nodes(self, user: str) -> list[PepNode]:
        return [PepNode(r[0], json.loads(r[1])) for r in self.db.execute(
            f"SELECT node, config FROM {self.n} WHERE user = ? ORDER BY seq", (user,))]

    def node(self, user: str, name: str) -> PepNode | None:
        row = self.db.execute(f"SELECT config FROM {self.n} WHERE user = ? AND node = ?",
                              (user, name)).fetchone()
        return PepNode(name, json.loads(row[0])) if row else None

    def put_node(self, user: str, node: PepNode) -> None:
        self.db.execute(f"INSERT INTO {self.n} (user, node, config) VALUES (?, ?, ?) "
                        "ON CONFLICT (user, node) DO UPDATE SET config = excluded.config",
                        (user, node.name, json.dumps(node.config)))

    def delete_node(self, user: str, name: str) -> bool:
        with self.db:
            self.db.execute("BEGIN IMMEDIATE")
            self.db.execute(f"DELETE FROM {self.i} WHERE user = ? AND node = ?", (user, name))
            return self.db.execute(f"DELETE FROM {self.n} WHERE user = ? AND node = ?",
                                   (user, name)).rowcount > 0

    def items(self, user: str, name: str) -> list[PepItem]:
        return [PepItem(*r) for r in self.db.execute(
            f"SELECT id, payload, publisher, ts FROM {self.i} WHERE user = ? AND node = ? "
            "ORDER BY seq", (user, name))]

    def item(self, user: str, name: str, item_id: str) -> PepItem | None:
        row = self.db.execute(f"SELECT id, payload, publisher, ts FROM {self.i} WHERE "
                              "user = ? AND node = ? AND id = ?",
                              (user, name, item_id)).fetchone()
        return PepItem(*row) if row else None

    def publish(self, user: str, name: str, item: PepItem, keep: int) -> None:
        i = self.i
        with self.db:
            self.db.execute("BEGIN IMMEDIATE")
            self.db.execute(f"DELETE FROM {i} WHERE user = ? AND node = ? AND id = ?",
                            (user, name, item.id))
            self.db.execute(f"INSERT INTO {i} (user, node, id, payload, publisher, ts) "
                            "VALUES (?, ?, ?, ?, ?, ?)", (user, name, item.id, item.payload,
                                                          item.publisher, item.timestamp))
            self.db.execute(f"DELETE FROM {i} WHERE user = ? AND node = ? AND seq NOT IN "
                            f"(SELECT seq FROM {i} WHERE user = ? AND node = ? "
                            "ORDER BY seq DESC LIMIT ?)", (user, name, user, name, keep))

    def retract(self, user: str, name: str, item_id: str) -> bool:
        return self.db.execute(f"DELETE FROM {self.i} WHERE user = ? AND node = ? AND id = ?",
                               (user, name, item_id)).rowcount > 0

    def purge(self, user: str, name: str) -> None:
        self.db.execute(f"DELETE FROM {self.i} WHERE user = ? AND node = ?", (user, name))

    def drop(self, user: str) -> None:
        with self.db:
            self.db.execute("BEGIN IMMEDIATE")
            self.db.execute(f"DELETE FROM {self.i} WHERE user = ?", (user,))
            self.db.execute(f"DELETE FROM {self.n} WHERE user = ?", (user,))


class SQLiteSubscriptionStore:
    """Affiliations and subscriptions of one kind of service (``pep`` or ``pubsub``) in
    ``node_affiliations`` and ``node_subscriptions``."""

    def __init__(self, db: sqlite3.Connection, kind: str) -> None:
        assert kind in ("pep", "pubsub")
        self.db = db
        self.kind = kind

    def affiliations(self, service: str, node: str) -> dict[str, str]:
        return dict(self.db.execute(
            "SELECT jid, affiliation FROM node_affiliations WHERE kind = ? AND service = ? "
            "AND node = ? ORDER BY rowid", (self.kind, service, node)).fetchall())

    def set_affiliation(self, service: str, node: str, jid: str,
                        affiliation: str | None) -> None:
        key = (self.kind, service, node, jid)
        if affiliation in (None, "none"):
            self.db.execute("DELETE FROM node_affiliations WHERE kind = ? AND service = ? "
                            "AND node = ? AND jid = ?", key)
        else:
            self.db.execute("INSERT INTO node_affiliations VALUES (?, ?, ?, ?, ?) ON CONFLICT "
                            "(kind, service, node, jid) DO UPDATE SET "
                            "affiliation = excluded.affiliation", (*key, affiliation))

    def affiliated(self, service: str, jid: str) -> dict[str, str]:
        return dict(self.db.execute(
            "SELECT node, affiliation FROM node_affiliations WHERE kind = ? AND service = ? "
            "AND jid = ? ORDER BY rowid", (self.kind, service, jid)).fetchall())

    @staticmethod
    def _subscription(jid: str, state: str, options: str) -> NodeSubscription:
        return NodeSubscription(jid, state, json.loads(options))

    def subscriptions(self, service: str, node: str) -> list[NodeSubscription]:
        return [self._subscription(*r) for r in self.db.execute(
            "SELECT jid, state, options FROM node_subscriptions WHERE kind = ? AND "
            "service = ? AND node = ? ORDER BY seq", (self.kind, service, node))]

    def subscription(self, service: str, node: str, jid: str) -> NodeSubscription | None:
        row = self.db.execute("SELECT jid, state, options FROM node_subscriptions WHERE "
                              "kind = ? AND service = ? AND node = ? AND jid = ?",
                              (self.kind, service, node, jid)).fetchone()
        return self._subscription(*row) if row else None

    def subscribe(self, service: str, node: str, subscription: NodeSubscription) -> None:
        self.db.execute(
            "INSERT INTO node_subscriptions (kind, service, node, jid, bare, state, options) "
            "VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (kind, service, node, jid) DO UPDATE "
            "SET state = excluded.state, options = excluded.options",
            (self.kind, service, node, subscription.jid, subscription.bare,
             subscription.state, json.dumps(subscription.options)))

    def unsubscribe(self, service: str, node: str, jid: str) -> bool:
        return self.db.execute("DELETE FROM node_subscriptions WHERE kind = ? AND service = ? "
                               "AND node = ? AND jid = ?",
                               (self.kind, service, node, jid)).rowcount > 0

    def subscribed(self, service: str, jid: str) -> list[tuple[str, NodeSubscription]]:
        return [(r[0], self._subscription(*r[1:])) for r in self.db.execute(
            "SELECT node, jid, state, options FROM node_subscriptions WHERE kind = ? AND "
            "service = ? AND bare = ? ORDER BY seq", (self.kind, service, jid))]

    def _delete(self, where: str, args: tuple[str, ...], by_subscriber: str | None = None
                ) -> None:
        """Delete affiliations and subscriptions matching ``where`` (subscriptions by
        ``by_subscriber`` instead, when given: their bare JID column)."""
        with self.db:
            self.db.execute("BEGIN IMMEDIATE")
            self.db.execute(f"DELETE FROM node_affiliations WHERE kind = ? AND {where}",
                            (self.kind, *args))
            self.db.execute(f"DELETE FROM node_subscriptions WHERE kind = ? AND "
                            f"{by_subscriber or where}", (self.kind, *args))

    def drop_node(self, service: str, node: str) -> None:
        self._delete("service = ? AND node = ?", (service, node))

    def drop_service(self, service: str) -> None:
        self._delete("service = ?", (service,))

    def forget(self, jid: str) -> None:
        self._delete("jid = ?", (jid,), by_subscriber="bare = ?")
