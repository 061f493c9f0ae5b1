"""IQ requests the server sends and the answers it waits for (RFC 6120 §8.2.3).

One tracker shape for every place the server asks someone something: push publishes to
App Servers (XEP-0357 §7), PEP's capability queries (XEP-0115 §6.3) and IQs a group chat
room forwards between occupants (XEP-0045). As wokkel's ``StreamManager.request``: an id
maps to a Deferred that fires with the ``result`` IQ, fails with the ``StanzaError`` of an
``error`` IQ, or fails with ``TimeoutError`` when nothing came in time.

Only an answer from the JID the request went to counts (RFC 6120 §8.2.3: a reply comes
from the entity asked); anything else is left for others to handle.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from typing import Any

from twisted.internet import defer
from twisted.words.protocols.jabber import error
from twisted.words.xish import domish


class IQTracker:
    """Requests by id, each with its Deferred and its timer."""

    def __init__(self, clock: Any, send: Callable[[domish.Element], None], prefix: str,
                 timeout: float | None = None, limit: int = 10000) -> None:
        self.clock = clock
        self._send = send
        self.prefix = prefix
        self.timeout = timeout
        #: most requests waited for at once; the oldest is given up (TimeoutError) beyond
        self.limit = limit
        self._ids = itertools.count(1)
        #: id → (the JID asked, the Deferred, the timer or None)
        self._waiting: dict[str, tuple[str, defer.Deferred[domish.Element], Any]] = {}

    def __len__(self) -> int:
        return len(self._waiting)

    def new_id(self) -> str:
        return f"{self.prefix}-{next(self._ids)}"

    def request(self, iq: domish.Element, timeout: float | None = None
                ) -> defer.Deferred[domish.Element]:
        """Send ``iq`` (its ``id`` is set when missing) and wait for its answer. The timer
        starts once the request is sent: an in-process entity may answer during the send,
        and then no timer is needed."""
        iq_id = iq.getAttribute("id") or self.new_id()
        iq["id"] = iq_id
        d: defer.Deferred[domish.Element] = defer.Deferred()
        self._waiting[iq_id] = (iq.getAttribute("to") or "", d, None)
        while len(self._waiting) > self.limit:
            self._give_up(next(iter(self._waiting)))
        self._send(iq)
        entry = self._waiting.get(iq_id)
        seconds = self.timeout if timeout is None else timeout
        if entry is not None and entry[1] is d and seconds is not None:
            self._waiting[iq_id] = (entry[0], d, self.clock.callLater(seconds, self._give_up,
                                                                      iq_id))
        return d

    def answer(self, iq: domish.Element) -> bool:
        """Take ``iq`` if it answers one of our requests (True), else leave it (False)."""
        iq_id = iq.getAttribute("id")
        entry = self._waiting.get(iq_id) if iq_id else None
        if entry is None or iq.getAttribute("from") != entry[0]:
            return False  # not ours, or not from whom we asked: keep waiting
        del self._waiting[iq_id]
        asked, d, timer = entry
        if timer is not None and timer.active():
            timer.cancel()
        if iq.getAttribute("type") == "result":
            d.callback(iq)
        else:
            d.errback(error.exceptionFromStanza(iq))
        return True

    def _give_up(self, iq_id: str) -> None:
        entry = self._waiting.pop(iq_id, None)
        if entry is None:
            return
        if entry[2] is not None and entry[2].active():
            entry[2].cancel()
        entry[1].errback(defer.TimeoutError(f"no answer to {iq_id} from {entry[0]}"))

    def cancel_all(self) -> None:
        """Forget every request still waited for (shutdown): their Deferreds are cancelled."""
        waiting, self._waiting = self._waiting, {}
        for _, d, timer in waiting.values():
            if timer is not None and timer.active():
                timer.cancel()
            d.addErrback(lambda f: f.trap(defer.CancelledError))
            d.cancel()
