"""A bounded, numbered record that tests read back and wait on: traffic capture
(``traffic.py``), push decisions (``push/decisions.py``) and the in-process App Server's
notifications (``push/appserver.py``) are each one.

Entries carry their ``seq`` (1, 2, ...; never reused, not even after ``clear``), so a
reader asks for "what came after ``since``" and a waiter for "the first after ``since``
that matches".
"""

from __future__ import annotations

import itertools
from collections import deque
from collections.abc import Callable, Iterator
from typing import Any, Generic, Protocol, TypeVar

from twisted.internet import defer


class Numbered(Protocol):
    seq: int


T = TypeVar("T", bound=Numbered)


class Ring(Generic[T]):
    """The newest ``size`` entries (``size`` 0 keeps nothing), and who waits for one.

    With ``later``, a waiter fires on the next reactor turn rather than inside
    ``add``: whoever waits (a test) may stop the server at once, and what the adding
    code still does in this turn (answering a publish) must not meet a stopped server.
    """

    def __init__(self, size: int, *, later: bool = False) -> None:
        self.size = size
        self.entries: deque[T] = deque(maxlen=max(size, 0))
        self.later = later
        self._seq = itertools.count(1)
        self._waiters: list[tuple[Callable[[T], bool], defer.Deferred[T], Any]] = []
        self._calls: list[Any] = []

    def next_seq(self) -> int:
        """The ``seq`` for the entry about to be added."""
        return next(self._seq)

    def add(self, entry: T) -> T:
        if self.size:
            self.entries.append(entry)
        if self._waiters:
            self.notify(entry)
        return entry

    def notify(self, entry: T) -> None:
        """Fire the waits ``entry`` (just added) matches."""
        for waiter in list(self._waiters):
            match, d, reactor = waiter
            if entry.seq > 0 and match(entry):
                self._waiters.remove(waiter)
                self._fire(reactor, d, entry)

    def _fire(self, reactor: Any, d: defer.Deferred[T], entry: T) -> None:
        if not self.later:
            d.callback(entry)
            return

        def fire() -> None:
            self._calls.remove(call)
            if not d.called:
                d.callback(entry)

        call = reactor.callLater(0, fire)
        self._calls.append(call)

    def __iter__(self) -> Iterator[T]:
        return iter(self.entries)

    def __len__(self) -> int:
        return len(self.entries)

    @property
    def waiting(self) -> int:
        """How many waits are pending (a long poll is in place)."""
        return len(self._waiters)

    @property
    def last(self) -> int:
        """The ``seq`` of the newest entry kept (0: none)."""
        return self.entries[-1].seq if self.entries else 0

    def newest(self, n: int) -> list[T]:
        """The newest ``n`` entries, newest first."""
        return list(itertools.islice(reversed(self.entries), n))

    def find(self, match: Callable[[T], bool] | None = None, since: int = 0) -> list[T]:
        """Every kept entry after ``since`` that matches, oldest first."""
        return [e for e in self.entries if e.seq > since and (match is None or match(e))]

    def wait_for(self, reactor: Any, match: Callable[[T], bool], since: int = 0,
                 timeout: float = 10.0) -> defer.Deferred[T]:
        """The first entry after ``since`` that matches, at once if it is kept already;
        fails with ``defer.TimeoutError`` after ``timeout`` seconds of ``reactor``."""
        found = next((e for e in self.entries if e.seq > since and match(e)), None)
        if found is not None:
            return defer.succeed(found)
        d: defer.Deferred[T] = defer.Deferred()
        waiter = (lambda e: e.seq > since and match(e), d, reactor)
        self._waiters.append(waiter)

        def forget(failure: Any) -> Any:
            if waiter in self._waiters:
                self._waiters.remove(waiter)
            return failure

        d.addTimeout(timeout, reactor)
        d.addErrback(forget)
        return d

    def cancel_waiters(self) -> None:
        """Cancel every wait (server shutdown)."""
        for call in self._calls:
            call.cancel()
        self._calls.clear()
        for _, d, _ in list(self._waiters):
            d.cancel()
        self._waiters.clear()

    def remove(self, match: Callable[[T], bool]) -> None:
        """Forget every kept entry that matches (an account's, when it is deleted)."""
        kept = [e for e in self.entries if not match(e)]
        self.entries.clear()
        self.entries.extend(kept)

    def clear(self) -> None:
        self.entries.clear()
