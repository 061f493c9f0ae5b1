"""``/api/offline``, ``/api/archive``, ``/api/uploads``: what the server stored for an
account (offline queue, XEP-0313 archive, XEP-0363 uploads)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from twisted.web import server

from minixmpp.timestamps import iso
from minixmpp.web.request import arg
from minixmpp.web.routes import Route, Routes


class Stores(Routes):
    def routes(self) -> Iterable[Route]:
        return (
            ("GET", r"offline/(?P<name>[^/]+)", self.offline),
            ("GET", r"archive/(?P<name>[^/]+)", self.archive),
            ("GET", r"uploads", self.list_uploads),
        )

    def offline(self, request: server.Request, name: str) -> list[str]:
        offline = self.feature("offline", "offline storage is off")
        return offline.store.peek(self.account(name))

    def archive(self, request: server.Request, name: str) -> list[dict[str, Any]]:
        archive = self.feature("mam", "the archive is off (--no-archive)")
        archive.flush()  # never answer from less than was delivered
        return [{"id": m.id, "time": iso(m.timestamp), "with": m.with_jid, "xml": m.xml}
                for m in archive.store.messages(self.account(name))]

    def list_uploads(self, request: server.Request) -> list[dict[str, Any]]:
        """HTTP File Upload slots and files (XEP-0363), oldest first; ``?account=``."""
        uploads = self.feature("upload", "the upload service is off (--no-upload or "
                                         "--no-http)")
        return [{"account": u.user, "filename": u.filename, "size": u.size,
                 "content_type": u.content_type, "created": iso(u.created),
                 "uploaded": iso(u.uploaded) if u.uploaded is not None else None,
                 "url": uploads.url(u)} for u in uploads.uploads(arg(request, "account"))]
