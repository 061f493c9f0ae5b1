"""A request whose body is bounded: past the limit the bytes are dropped, not kept.

twisted.web reads a whole body before a resource sees it; without a bound a client
could fill the disk. The resource sees ``request.too_large`` and answers 413.
"""

from __future__ import annotations

from twisted.web import server


class BoundedRequest(server.Request):
    #: set on the class by :func:`bounded_request` (bytes)
    limit = 1 << 20

    def gotLength(self, length: int | None) -> None:
        self.too_large = length is not None and length > self.limit
        self._received = 0
        super().gotLength(None if self.too_large else length)

    def handleContentChunk(self, data: bytes) -> None:
        self._received += len(data)
        if self._received > self.limit:
            self.too_large = True
        if not self.too_large:
            super().handleContentChunk(data)


def bounded_request(limit: int) -> type[BoundedRequest]:
    return type("BoundedRequest", (BoundedRequest,), {"limit": limit})
