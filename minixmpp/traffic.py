"""Traffic capture: every top-level element in and out of every client and component
stream, with its time, direction, stream and a sequence number, in a bounded ring
(``--traffic N`` entries; 0: off). Passwords and SASL payloads are masked as
``--log-stanzas`` masks them.

Read it back with ``GET /api/traffic`` (and the long poll ``/api/traffic/wait``), from
Python with ``TestServer.traffic()``/``expect()``, or on the status page. It belongs to
the streams' own send and receive paths (``c2s/stream.py``, ``c2s/framed.py``,
``components.py``): nothing in the stanza logic knows it is there.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, NamedTuple

from twisted.internet import defer
from twisted.words.xish import domish, xpath

from minixmpp import ns, stanzalog
from minixmpp.ring import Ring
from minixmpp.timestamps import iso

_new = tuple.__new__  # a NamedTuple made without its Python-level __new__


class Captured(NamedTuple):
    """One element seen on a stream (a tuple: one is made per element)."""

    seq: int
    time: float
    direction: str  # "in" (from the peer) | "out" (to it)
    stream: str  # "c2s 127.0.0.1:40000", "websocket …", "bosh …", "component push.example"
    jid: str | None  # the session's full JID (a component's domain), None before binding
    data: str | bytes | bytearray  # as written, or the bytes as read (decoded when read)

    @property
    def xml(self) -> str:
        data = self.data
        return data if isinstance(data, str) else data.decode("utf-8", "replace")

    def as_dict(self) -> dict[str, Any]:
        return {"seq": self.seq, "time": iso(self.time, "microseconds"),
                "direction": self.direction, "stream": self.stream, "jid": self.jid,
                "xml": self.xml}

    @property
    def element(self) -> domish.Element | None:
        """The XML parsed (stanzas in ``jabber:client``), None for what is not one whole
        element (a stream header, a whitespace keepalive)."""
        return parse(self.xml)

    def concerns(self, jid: str | None) -> bool:
        """Is this the traffic of ``jid`` (a full JID, or every resource of a bare one)?"""
        if jid is None:
            return True
        if self.jid is None:
            return False
        return self.jid == jid or ("/" not in jid and self.jid.split("/", 1)[0] == jid)


def parse(xml: str) -> domish.Element | None:
    """One captured element, parsed in the scope a client stream gives it."""
    found: list[domish.Element] = []
    stream = domish.elementStream()
    stream.DocumentStartEvent = lambda root: None
    stream.ElementEvent = found.append
    stream.DocumentEndEvent = lambda: None
    try:
        stream.parse(f"<r xmlns='{ns.CLIENT}' xmlns:stream='{ns.STREAMS}'>".encode()
                     + xml.encode() + b"</r>")
    except Exception:  # noqa: BLE001  (a header or a fragment: not an element)
        return None
    return found[0] if len(found) == 1 else None


def matcher(test: str | Callable[[domish.Element], bool]) -> Callable[[Captured], bool]:
    """A predicate on captured entries from an XPath (``twisted.words.xish.xpath``, as
    ``"/message/received[@xmlns='urn:xmpp:carbons:2']"``) or a predicate on the element."""
    if isinstance(test, str):
        query = xpath.XPathQuery(test)

        def by_xpath(entry: Captured) -> bool:
            element = entry.element
            return element is not None and query.matches(element)
        return by_xpath

    def by_predicate(entry: Captured) -> bool:
        element = entry.element
        return element is not None and bool(test(element))
    return by_predicate


class Traffic:
    """The ring of captured elements (``ring.Ring``), and whoever waits for one."""

    def __init__(self, size: int, clock: Callable[[], float]) -> None:
        self.size = size
        self.clock = clock
        self.ring: Ring[Captured] = Ring(size)
        # the hot path (two records per message): bound once, no call through the ring
        self._seq = self.ring._seq.__next__
        self._append = self.ring.entries.append

    @property
    def on(self) -> bool:
        return self.size > 0

    @property
    def last(self) -> int:
        """The sequence number of the newest entry (0: none yet)."""
        return self.ring.last

    def record(self, direction: str, stream: str, jid: str | None,
               element: domish.Element | str | bytes | bytearray) -> None:
        """Keep one element: text or bytes as they are (decoded when read), an element
        serialized with its credentials masked."""
        if isinstance(element, domish.Element):
            element = stanzalog.masked(element)
        entry = _new(Captured, (self._seq(), self.clock(), direction, stream, jid, element))
        if self.size:
            self._append(entry)
        if self.ring._waiters:
            self.ring.notify(entry)

    def find(self, jid: str | None = None, since: int = 0) -> list[Captured]:
        """What was captured after ``since`` (a ``seq``), of ``jid`` if given."""
        return self.ring.find(None if jid is None else lambda e: e.concerns(jid), since)

    def wait_for(self, reactor: Any, match: Callable[[Captured], bool], since: int = 0,
                 timeout: float = 10.0) -> defer.Deferred[Captured]:
        """The first captured element after ``since`` that ``match``\\ es (at once if it is
        in the ring already); fails with ``defer.TimeoutError`` after ``timeout``."""
        return self.ring.wait_for(reactor, match, since, timeout)

    def cancel_waiters(self) -> None:
        self.ring.cancel_waiters()

    def clear(self) -> None:
        self.ring.clear()
