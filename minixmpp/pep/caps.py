"""Entity capabilities (XEP-0115) for filtered notifications (XEP-0163 §4.3).

Each available resource that sends ``<c/>`` is asked ``disco#info`` at ``node#ver`` once
per hash: a verified hash (§5.1 verification string) is cached for everyone who sends it;
an unverified or legacy one only for that resource. What matters to PEP is the set of
``NODE+notify`` features.
"""

from __future__ import annotations

import base64
import hashlib
from collections import OrderedDict
from collections.abc import Callable
from typing import Any

from twisted.python.failure import Failure
from twisted.words.xish import domish

from minixmpp import ns
from minixmpp.iqtracker import IQTracker

HASHES = {"sha-1": "sha1", "sha-224": "sha224", "sha-256": "sha256", "sha-384": "sha384",
          "sha-512": "sha512", "sha3-256": "sha3_256", "sha3-512": "sha3_512"}
#: distinct capability sets remembered (oldest forgotten first)
CACHE_SIZE = 10000
#: seconds after which an unanswered disco#info query may be sent again
RETRY = 30.0


def caps_of(presence: domish.Element) -> tuple[str, str, str] | None:
    """(hash, node, ver) of a presence's ``<c/>``; hash is "" for legacy caps."""
    for child in presence.elements(ns.CAPS, "c"):
        node, ver = child.getAttribute("node"), child.getAttribute("ver")
        if node and ver:
            return child.getAttribute("hash") or "", node, ver
    return None


def verification_string(query: domish.Element) -> str:
    """XEP-0115 §5.1 S, from a disco#info result."""
    identities = sorted(
        "/".join((i.getAttribute("category", ""), i.getAttribute("type", ""),
                  i.getAttribute("xml:lang", ""), i.getAttribute("name", "")))
        for i in query.elements(ns.DISCO_INFO, "identity"))
    features = sorted(f.getAttribute("var", "")
                      for f in query.elements(ns.DISCO_INFO, "feature"))
    forms: list[tuple[str, str]] = []
    for x in query.elements(ns.X_DATA, "x"):
        fields: dict[str, list[str]] = {}
        for f in x.elements(ns.X_DATA, "field"):
            fields[f.getAttribute("var", "")] = sorted(
                str(v) for v in f.elements(ns.X_DATA, "value"))
        form_type = fields.pop("FORM_TYPE", [""])
        forms.append(("".join(v + "<" for v in form_type), "".join(
            var + "<" + "".join(v + "<" for v in fields[var]) for var in sorted(fields))))
    # Sort the values themselves, then add "<" (sorting "a<" and "a#b<" differs).
    return ("".join(i + "<" for i in identities) + "".join(f + "<" for f in features)
            + "".join(t + rest for t, rest in sorted(forms)))


class CapsCache:
    """Capabilities by hash and by full JID; asks disco#info for unknown ones."""

    def __init__(self, send: Callable[[domish.Element], None], clock: Any) -> None:
        self.clock = clock
        self._by_hash: OrderedDict[tuple[str, str], frozenset[str]] = OrderedDict()
        self._by_jid: dict[str, frozenset[str]] = {}
        #: full JID → the (hash, ver) it last announced
        self._announced: dict[str, tuple[str, str]] = {}
        #: the disco#info queries in flight (never answered: the oldest are given up)
        self.queries = IQTracker(clock, send, "caps", limit=CACHE_SIZE)
        self._asked: dict[tuple[str, str], float] = {}
        self._waiting: dict[tuple[str, str], list[tuple[str, Callable[[], None]]]] = {}
        self.queries_sent = 0

    def features(self, full: str) -> frozenset[str]:
        """What the resource supports, as far as known (empty when not known yet)."""
        key = self._announced.get(full)
        if key is not None and key in self._by_hash:
            return self._by_hash[key]
        return self._by_jid.get(full, frozenset())

    def forget(self, full: str) -> None:
        self._announced.pop(full, None)
        self._by_jid.pop(full, None)

    def observe(self, full: str, presence: domish.Element, asker: str,
                known: Callable[[], None]) -> None:
        """A resource's available presence; ``known()`` is called once its capabilities
        are known (at once if they are cached, later after disco#info, never without
        ``<c/>``)."""
        caps = caps_of(presence)
        if caps is None:
            self.forget(full)
            return
        hash_name, node, ver = caps
        key = (hash_name, ver) if hash_name in HASHES else ("", f"{full} {node}#{ver}")
        previous = self._announced.get(full)
        self._announced[full] = key
        if key in self._by_hash:
            self._by_hash.move_to_end(key)
            return known()
        if previous == key and full in self._by_jid:
            return known()
        self._waiting.setdefault(key, []).append((full, known))
        asked = self._asked.get(key)
        if asked is not None and self.clock.seconds() - asked < RETRY:
            return
        self._asked[key] = self.clock.seconds()
        iq = domish.Element((None, "iq"))
        iq["type"], iq["from"], iq["to"] = "get", asker, full
        iq.addElement((ns.DISCO_INFO, "query"))["node"] = f"{node}#{ver}"
        self.queries_sent += 1
        self.queries.request(iq).addCallbacks(self._result, self._unanswered,
                                              (full, key), None, (key,))

    def answered(self, iq: domish.Element) -> bool:
        """A result or error to one of our queries (True if it was ours)."""
        return self.queries.answer(iq)

    def _unanswered(self, failure: Failure, key: tuple[str, str]) -> None:
        """An error, or given up: whoever waited for this hash learns nothing."""
        self._asked.pop(key, None)
        self._waiting.pop(key, None)

    def _result(self, iq: domish.Element, full: str, key: tuple[str, str]) -> None:
        self._asked.pop(key, None)
        waiting = self._waiting.pop(key, [])
        query = next(iq.elements(ns.DISCO_INFO, "query"), None)
        if query is None:
            return
        features = frozenset(f.getAttribute("var", "")
                             for f in query.elements(ns.DISCO_INFO, "feature"))
        hash_name, ver = key
        digest = ""
        if hash_name in HASHES:
            digest = base64.b64encode(hashlib.new(
                HASHES[hash_name], verification_string(query).encode()).digest()).decode()
        if digest and digest == ver:
            self._by_hash[key] = features
            while len(self._by_hash) > CACHE_SIZE:
                self._by_hash.popitem(last=False)
        else:
            # Unverifiable: believe it for the resource that answered, for nobody else.
            self._by_jid[full] = features
            waiting = [(j, cb) for j, cb in waiting if j == full]
        for j, callback in waiting:
            if self._announced.get(j) == key:
                callback()

    def stats(self) -> dict[str, Any]:
        return {"hashes": len(self._by_hash), "queries_sent": self.queries_sent}
