"""Upload rules (XEP-0363 §4, §5): slots, size and quota checks, one PUT per slot, files.

Plain Python, no XML and no HTTP: :mod:`minixmpp.upload.component` turns the
exceptions into stanza errors, :mod:`minixmpp.upload.http` into HTTP statuses.
Files are stored under their secret slot name, never under a client-chosen name.
"""

from __future__ import annotations

import re
import secrets
import shutil
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import BinaryIO
from urllib.parse import quote

from minixmpp.storage.interfaces import IUploadStore, Upload


class FileTooLarge(Exception):
    """XEP-0363 §5: the file is larger than ``max_size``."""

    def __init__(self, max_size: int) -> None:
        super().__init__(f"File too large: the maximum is {max_size} bytes")
        self.max_size = max_size


class NotAcceptable(Exception):
    """XEP-0363 §5: the request cannot be accepted (bad name, size or type)."""


class QuotaReached(Exception):
    """The account's uploads would exceed its quota (resource-constraint, type wait)."""


class Refused(Exception):
    """A PUT or GET refused with an HTTP status."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


_MEDIA_TYPE = re.compile(r"^[\w.+-]+/[\w.+-]+$")
_BAD_NAME = re.compile(r"[/\\\x00-\x1f\x7f]")


def media_type(value: str | None) -> str:
    """The ``type/subtype`` part of a Content-Type, lower case (parameters dropped)."""
    return (value or "").split(";", 1)[0].strip().lower()


class UploadService:
    """Slots and files of every account.

    ``base_url()`` gives the HTTP listener's URL (``http://127.0.0.1:5280``) when a slot
    is handed out, so that listening on port 0 works.
    """

    def __init__(self, store: IUploadStore, directory: Path, base_url: Callable[[], str],
                 clock: Callable[[], float], max_size: int, quota: int,
                 slot_timeout: int) -> None:
        self.store = store
        self.directory = Path(directory)
        self.directory.mkdir(parents=True, exist_ok=True)
        self.base_url = base_url
        self.clock = clock
        self.max_size = max_size
        self.quota = quota
        self.slot_timeout = slot_timeout
        #: where the files are on the HTTP listener (``upload``; ``upload-DOMAIN`` for
        #: every served domain but the first)
        self.path = "upload"

    # -- slots (XEP-0363 §4) -------------------------------------------------------------------

    def request_slot(self, user: str, filename: str, size: int,
                     content_type: str | None) -> Upload:
        """A new slot for ``user``; raises :class:`FileTooLarge`, :class:`NotAcceptable`
        or :class:`QuotaReached`."""
        if not filename or len(filename) > 255 or _BAD_NAME.search(filename) \
                or filename in (".", ".."):
            raise NotAcceptable("Invalid filename")
        if size <= 0:
            raise NotAcceptable("The size must be a positive number of bytes")
        if size > self.max_size:
            raise FileTooLarge(self.max_size)
        ctype = media_type(content_type) or "application/octet-stream"
        if not _MEDIA_TYPE.match(ctype):
            raise NotAcceptable("Invalid content-type")
        self.expire()
        if self.quota and self.used(user) + size > self.quota:
            raise QuotaReached(f"Upload quota of {self.quota} bytes reached")
        now = self.clock()
        upload = Upload(secrets.token_urlsafe(18), user, filename, size, ctype, now,
                        now + self.slot_timeout)
        self.store.put(upload)
        return upload

    def url(self, upload: Upload) -> str:
        """The PUT URL, which is also the GET URL (XEP-0363 §4): the file name is one
        path segment, percent-encoded exactly once (RFC 3986 §2.1, §3.3: every octet but
        the unreserved ones, so ``%``, ``?``, ``#`` and ``/`` stay in the name)."""
        return (f"{self.base_url()}/{self.path}/{upload.slot}/"
                f"{quote(upload.filename, safe='')}")

    def used(self, user: str) -> int:
        """Bytes counted against the quota: files and slots not yet expired."""
        return sum(u.size for u in self.store.for_user(user))

    def expire(self) -> None:
        """Forget slots whose PUT never came in time."""
        now = self.clock()
        for upload in self.store.all():
            if upload.uploaded is None and upload.expires <= now:
                self.store.remove(upload.slot)

    # -- HTTP (XEP-0363 §4 "Upload") ---------------------------------------------------------

    def _find(self, slot: str, filename: str) -> Upload:
        upload = self.store.get(slot)
        if upload is None or upload.filename != filename:
            raise Refused(404, "No such upload slot")
        return upload

    def put(self, slot: str, filename: str, length: int | None, content_type: str | None,
            body: BinaryIO) -> Upload:
        """Store the body of a PUT: the slot must exist, be unused and unexpired, the
        length must be the slot's size and the type (when sent) the slot's type."""
        upload = self._find(slot, filename)
        if upload.uploaded is not None:
            raise Refused(409, "This slot was already used")
        if self.clock() >= upload.expires:
            self.store.remove(upload.slot)
            raise Refused(410, "This upload slot has expired")
        if length is None or length != upload.size:
            raise Refused(413 if length is not None and length > upload.size else 400,
                          f"The body must be exactly {upload.size} bytes, as requested")
        ctype = media_type(content_type)
        if ctype and ctype != upload.content_type and upload.content_type != \
                "application/octet-stream":
            raise Refused(400, f"Content-Type must be {upload.content_type}")
        path = self.directory / upload.slot
        body.seek(0)
        with open(path, "wb") as out:
            shutil.copyfileobj(body, out)
        done = replace(upload, uploaded=self.clock())
        self.store.put(done)
        return done

    def get(self, slot: str, filename: str) -> tuple[Upload, Path]:
        upload = self._find(slot, filename)
        path = self.directory / upload.slot
        if upload.uploaded is None or not path.exists():
            raise Refused(404, "Nothing was uploaded to this slot yet")
        return upload, path

    # -- housekeeping ------------------------------------------------------------------------

    def uploads(self, user: str | None = None) -> list[Upload]:
        return self.store.for_user(user) if user else self.store.all()

    def remove(self, upload: Upload) -> None:
        (self.directory / upload.slot).unlink(missing_ok=True)
        self.store.remove(upload.slot)

    def forget(self, user: str) -> None:
        """Every slot and file of ``user`` (account deleted)."""
        for upload in self.store.for_user(user):
            self.remove(upload)

    def clear(self) -> None:
        for upload in self.store.all():
            self.remove(upload)
