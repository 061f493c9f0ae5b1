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
            self.open_streams: dict[xmlstream.XmlStream, defer.Deferred[None]] = {}
        gone: defer.Deferred[None] = defer.Deferred()
        self.open_streams[xs] = gone

        def lost(_: Any) -> None:
            self.open_streams.pop(xs, None)
            gone.callback(None)

        xs.addObserver(xmlstream.STREAM_END_EVENT, lost)
        return xs

    def close_all(self, reason: error.StreamError) -> list[defer.Deferred[None]]:
        """Send ``reason`` on every open stream; Deferreds fire as the sockets close."""
        waits = []
        for xs, gone in list(getattr(self, "open_streams", {}).items()):
            waits.append(gone)
            if xs.transport is None:
                continue
            xs.sendStreamError(reason)
            if not gone.called:
                xs.transport.loseConnection()
        return waits
