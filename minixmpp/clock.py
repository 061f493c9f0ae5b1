"""The server's clock: the reactor's own (``--clock real``), or a manual one a test moves
(``--clock manual``, ``clock="manual"`` in the fixture).

Every timer and timestamp of the server comes from the reactor it was given
(``seconds()``, ``callLater()``): stream-management resumption, push timeouts, FAST token
expiry, BOSH inactivity, upload slots, MAM and offline stamps, idle and authentication
timeouts, rate limits. :class:`ManualClock` is that reactor with its clock replaced by
Twisted's ``task.Clock``: sockets, listeners and threads still run on the real reactor,
and time moves only when :meth:`ManualClock.advance` says so, running what comes due in
order. It starts at the wall time of its creation, so stamps look like today's.
"""

from __future__ import annotations

import time
from typing import Any

from twisted.internet import task
from twisted.internet.base import DelayedCall


class ManualClock:
    """A reactor whose time a test moves: everything but the clock is ``real``'s."""

    def __init__(self, real: Any, start: float | None = None) -> None:
        #: the reactor sockets and real-time waits run on
        self.real = real
        self._clock = task.Clock()
        self._clock.advance(time.time() if start is None else start)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.real, name)

    def seconds(self) -> float:
        return self._clock.seconds()

    def callLater(self, delay: float, f: Any, *args: Any, **kw: Any) -> DelayedCall:
        """A timer on the test's clock; ``callLater(0, ...)`` is not a timer but "on
        the next turn" (flushing a BOSH response, an SM ack request, answering after a
        result went out), so it runs on the real reactor at once."""
        if delay <= 0:
            return self.real.callLater(0, f, *args, **kw)
        return self._clock.callLater(delay, f, *args, **kw)

    def getDelayedCalls(self) -> list[DelayedCall]:
        return self._clock.getDelayedCalls()

    def advance(self, seconds: float) -> float:
        """Move the clock ``seconds`` forward, running every timer that comes due, in
        order (one that a fired timer schedules within the span runs too); the new time."""
        if seconds < 0:
            raise ValueError("the clock only moves forward")
        target = self._clock.seconds() + seconds
        for _ in range(100_000):  # bounded: a timer may reschedule itself at no delay
            due = [c.getTime() for c in self._clock.getDelayedCalls()
                   if c.getTime() <= target]
            step = min(due, default=target) - self._clock.seconds()
            self._clock.advance(max(step, 0))  # each timer sees its own time
            if not due:
                break
        return self._clock.seconds()


def real_reactor(reactor: Any) -> Any:
    """The reactor that waits in real time (a manual clock's ``real``, else itself): for
    timeouts of the people waiting (an HTTP long poll, a test), not of the server."""
    return getattr(reactor, "real", reactor)
