"""``/upload/<slot>/<filename>`` on the HTTP listener: PUT once, then GET (XEP-0363 §4).

Statuses as Prosody's mod_http_file_share answers: 404 unknown slot, 409 slot
already used, 410 slot expired, 413 body larger than the slot (or the site's body
limit), 400 another size or content type. GET answers with the slot's content type
and headers that keep a browser from running what it downloads.
"""

from __future__ import annotations

from typing import Any

from twisted.logger import Logger
from twisted.web import resource, server

from minixmpp.upload.slots import Refused, UploadService
from minixmpp.web.cors import CORS


class UploadResource(resource.Resource):
    isLeaf = True
    log = Logger()

    def __init__(self, service: UploadService, cors: CORS) -> None:
        super().__init__()
        self.service = service
        self.cors = cors

    def _slot(self, request: server.Request) -> tuple[str, str]:
        """The slot and file name of ``/upload/<slot>/<name>``, each decoded exactly once:
        Twisted splits the path at ``/`` and percent-decodes every segment
        (``request.postpath``), so ``a%2520b.txt`` is the name ``a%20b.txt``."""
        parts = request.postpath
        if len(parts) != 2 or not parts[0]:
            raise Refused(404, "No such upload slot")
        try:
            return parts[0].decode("ascii"), parts[1].decode("utf-8")
        except UnicodeDecodeError:
            raise Refused(404, "No such upload slot") from None

    def render(self, request: server.Request) -> Any:
        self.cors.apply(request, b"GET, HEAD, PUT, OPTIONS")
        if request.method == b"OPTIONS":
            request.setResponseCode(204)
            return b""
        try:
            if request.method == b"PUT":
                return self._put(request)
            if request.method in (b"GET", b"HEAD"):
                return self._get(request)
            request.setHeader(b"allow", b"GET, HEAD, PUT, OPTIONS")
            raise Refused(405, "Method not allowed")
        except Refused as e:
            request.setResponseCode(e.status)
            request.setHeader(b"content-type", b"text/plain; charset=utf-8")
            return f"{e}\n".encode()

    def _put(self, request: server.Request) -> bytes:
        slot, filename = self._slot(request)
        if getattr(request, "too_large", False):
            raise Refused(413, "The body is larger than the upload limit")
        length_header = request.getHeader(b"content-length")
        try:
            length = int(length_header) if length_header is not None else None
        except ValueError:
            length = None
        ctype = request.getHeader(b"content-type")
        upload = self.service.put(slot, filename, length,
                                  ctype.decode("latin-1") if ctype else None, request.content)
        self.log.info("upload: {user} stored {name} ({size} bytes)", user=upload.user,
                      name=upload.filename, size=upload.size)
        request.setResponseCode(201)
        return b""

    def _get(self, request: server.Request) -> bytes:
        upload, path = self.service.get(*self._slot(request))
        request.setHeader(b"content-type", upload.content_type.encode())
        request.setHeader(b"content-length", str(upload.size).encode())
        request.setHeader(b"x-content-type-options", b"nosniff")
        request.setHeader(b"content-security-policy", b"default-src 'none'")
        request.setHeader(b"cache-control", b"private, max-age=3600")
        if request.method == b"HEAD":
            return b""
        return path.read_bytes()
