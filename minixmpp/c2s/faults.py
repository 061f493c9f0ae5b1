"""Network faults a test puts on one client stream, as a phone's radio link has them:

- :func:`drop`: the connection is cut without a stream close (a phone losing its
  network); a resumable session hibernates (XEP-0198) and push for hibernated sessions
  applies;
- :meth:`Faults.stall`: for a while the server neither reads from nor writes to the
  connection: what it sends waits, acks do not come (a dead radio link);
- :meth:`Faults.delay`: every outgoing stanza leaves late, in order.

They belong to the transport, not to the stream's logic: a stream holds a
:class:`Faults` only once a test asks for one (``C2SStream.faults``), and its send path
then hands each element here first. Timers run on the server's clock (a manual one too).
"""

from __future__ import annotations

from collections import deque
from typing import Any


def drop(xs: Any) -> None:
    """Cut the connection under ``xs`` without a stream close (TCP: abort, no FIN;
    WebSocket: its TCP connection; BOSH: every held request's connection)."""
    transport = xs.transport
    if transport is None:
        return
    cut = getattr(transport, "cut", None)
    if cut is not None:  # a framed transport (c2s/framed.py) knows what lies beneath
        cut()
    else:
        transport.abortConnection()


class Faults:
    """Stall and delay on one stream's connection."""

    def __init__(self, xs: Any, clock: Any) -> None:
        self.xs = xs
        self.clock = clock
        #: outgoing elements waiting: (when they may leave, the element)
        self.waiting: deque[tuple[float, Any]] = deque()
        self.delay_seconds = 0.0
        self.stalled_until = 0.0
        self._timer: Any = None
        self._releasing = False

    def hold(self, obj: Any) -> bool:
        """The stream's send path asks first: True when ``obj`` must wait."""
        if self._releasing:
            return False
        now = self.clock.seconds()
        if not self.waiting and now >= self.stalled_until and not self.delay_seconds:
            return False
        self.waiting.append((now + self.delay_seconds, obj))
        self._schedule()
        return True

    def stall(self, seconds: float) -> None:
        """Neither read nor write for ``seconds`` (then everything held goes out)."""
        self.stalled_until = self.clock.seconds() + seconds
        _reading(self.xs, pause=True)
        self._schedule()

    def delay(self, seconds: float) -> None:
        """Every outgoing stanza from now on leaves ``seconds`` late (0: no delay)."""
        self.delay_seconds = max(0.0, seconds)

    def _schedule(self) -> None:
        if self._timer is not None and self._timer.active():
            self._timer.cancel()
        now = self.clock.seconds()
        due = max(self.stalled_until, self.waiting[0][0] if self.waiting else 0.0)
        if due > now or self.waiting:
            self._timer = self.clock.callLater(max(0.0, due - now), self._release)

    def _release(self) -> None:
        """Send what is due, in order; read again once the stall is over."""
        self._timer = None
        now = self.clock.seconds()
        if now < self.stalled_until:
            return self._schedule()
        _reading(self.xs, pause=False)
        self._releasing = True
        try:
            while self.waiting and self.waiting[0][0] <= now:
                _, obj = self.waiting.popleft()
                if self.xs.transport is not None:
                    self.xs.send(obj)
        finally:
            self._releasing = False
        if self.waiting:
            self._schedule()

    def cancel(self) -> None:
        """The connection is gone: nothing more to send."""
        if self._timer is not None and self._timer.active():
            self._timer.cancel()
        self._timer = None
        self.waiting.clear()


def _reading(xs: Any, pause: bool) -> None:
    """Pause or resume reading the connection under ``xs``."""
    transport = xs.transport
    if transport is None:
        return
    method = getattr(transport, "pauseProducing" if pause else "resumeProducing", None)
    if method is not None:
        method()
