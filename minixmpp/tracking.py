"""Open streams of a listener, so that a stopping server closes them all and knows when
they are gone (clean shutdown; no sockets left behind in a test run)."""

from __future__ import annotations

from typing import Any

from twisted.internet import defer
from twisted.words.protocols.jabber import error, xmlstream


class StreamTracking:
    """Mixin for an ``XmlStreamServerFactory``: call :meth:`track` in ``buildProtocol``."""

    def track(self, xs: xmlstream.XmlStream) -> xmlstream.XmlStream:
        if not hasattr(self, "open_streams"):
            #: each open stream, and the Deferred someone waits on for its end (None
            #: until :meth:`close_all` asks: nothing per idle stream but the entry)
            self.open_streams: dict[xmlstream.XmlStream, defer.Deferred[None] | None] = {}
        self.open_streams[xs] = None
        xs.addObserver(xmlstream.STREAM_END_EVENT, self._stream_lost, xs=xs)
        return xs

    def _stream_lost(self, _: Any, xs: xmlstream.XmlStream) -> None:
        gone = self.open_streams.pop(xs, None)
        if gone is not None:
            gone.callback(None)

    def close_all(self, reason: error.StreamError) -> list[defer.Deferred[None]]:
        """Send ``reason`` on every open stream; Deferreds fire as the sockets close."""
        waits = []
        streams = getattr(self, "open_streams", {})
        for xs in list(streams):
            gone = streams[xs] = streams[xs] or defer.Deferred()
            waits.append(gone)
            if xs.transport is None:
                continue
            xs.sendStreamError(reason)
            if not gone.called:
                xs.transport.loseConnection()
        return waits
