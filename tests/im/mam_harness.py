"""The account archive on the harness (no sockets), for the XEP-0313 and XEP-0441 tests:
Alice's :class:`ArchiveHandler` with one bound session, fed sent and received messages
and IQs; what a query returns read into plain values."""

from __future__ import annotations

from twisted.internet import task
from twisted.words.protocols.jabber.jid import JID
from twisted.words.xish import domish

from minixmpp.im.mam import ArchiveHandler
from minixmpp.sessions import Session, SessionManager
from minixmpp.storage import open_storage
from tests.harness import Harness
from tests.im.mam_model import Answer, Item, query_xml, read_answer

ALICE = "alice@localhost/desk"
PEERS = ("bob@localhost/phone", "carol@localhost/tablet", "dave@example.org")
N = 25


class Stream:
    """What a session writes to: the results of a query, in order."""

    def __init__(self) -> None:
        self.out: list[domish.Element] = []

    def send(self, stanza: domish.Element) -> None:
        self.out.append(stanza)


class Archive:
    """Alice's archive handler on the harness, filled with sent and received messages."""

    def __init__(self) -> None:
        self.clock = task.Clock()
        self.clock.advance(1_700_000_000)
        self.storage = open_storage(None)
        self.sessions = SessionManager()
        self.stream = Stream()
        self.sessions.bind(Session(JID(ALICE), self.stream))
        self.handler = ArchiveHandler(self.storage.archive, self.storage.archive_prefs,
                                      self.storage.rosters, self.sessions, "localhost",
                                      1000, self.clock.seconds)
        self.harness = Harness(self.handler)
        self._ids = 0

    def message(self, frm: str, to: str, body: str) -> domish.Element:
        self._ids += 1
        m = domish.Element((None, "message"))
        m["from"], m["to"], m["type"], m["id"] = frm, to, "chat", f"m{self._ids}"
        m.addElement("body", content=body)
        return m

    def send(self, to: str, body: str) -> None:
        """Alice sends (to someone not on this harness: written at once)."""
        self.handler.sent(self.sessions.get(JID(ALICE)), self.message(ALICE, to, body))
        self.handler.flush()  # a local recipient's copy waits for delivery: none here
        self.clock.advance(1)

    def receive(self, frm: str, body: str) -> domish.Element:
        """A message reaches Alice (the delivery stage, then the last listener); the
        message as delivered."""
        message = self.message(frm, "alice@localhost", body)
        self.handler.incoming(message, "alice")
        self.handler.flush()
        self.clock.advance(1)
        return message

    def fill(self, n: int = N) -> list[Item]:
        """``n`` messages, both directions, with three peers; the model's view of them."""
        for i in range(n):
            peer = PEERS[(i * 7) % 3 if i % 4 else 0]
            if i % 2:
                self.receive(peer, f"b{i}")
            else:
                self.send(peer.split("/")[0] if i % 3 else peer, f"b{i}")
        return [Item(m.id, m.with_jid, m.timestamp)
                for m in self.storage.archive.messages("alice")]

    def iq(self, payload: str, kind: str = "set", to: str = "alice@localhost",
           frm: str = ALICE) -> domish.Element:
        out = self.harness.feed(f"<iq type='{kind}' id='x' from='{frm}' to='{to}'>"
                                f"{payload}</iq>")
        [answer] = [s for s in out if s.name == "iq"]
        return answer

    def query(self, fields: dict | None = None, rsm: dict | None = None,
              flip: bool = False) -> Answer:
        self.stream.out.clear()
        answer = self.iq(query_xml(fields or {}, rsm or {}, flip))
        return read_answer(answer, self.stream.out)
