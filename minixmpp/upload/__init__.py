"""HTTP File Upload (XEP-0363): a slot service at upload.DOMAIN and the HTTP resource.

:func:`build` assembles the ``upload`` feature: the rules (``slots.py``), the slot
service as an internal component (``component.py``) and ``/upload`` on the HTTP listener
(``http.py``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from minixmpp.feature import Context, Feature


def build(ctx: Context) -> Feature | None:
    """The ``upload`` feature (needs the HTTP listener; off with ``--no-upload``). Files
    live in ``DATA_DIR/uploads``, or in a temporary directory removed at shutdown."""
    import shutil
    import tempfile
    from pathlib import Path

    from twisted.words.protocols.jabber.jid import JID
    from wokkel.disco import DiscoItem

    from minixmpp.feature import Feature, Mount
    from minixmpp.upload.component import build_component
    from minixmpp.upload.http import UploadResource
    from minixmpp.upload.slots import UploadService

    s = ctx.settings
    if not s.http:
        return None  # it needs the HTTP listener
    assert s.upload_jid is not None
    from minixmpp.host import data_dir

    stored = data_dir(s)
    temporary = None if stored is not None else tempfile.mkdtemp(prefix="minixmpp-uploads-")
    directory = Path(temporary) if temporary else Path(stored) / "uploads"
    uploads = UploadService(ctx.storage.uploads, directory, ctx.http_base_url,
                            ctx.reactor.seconds, s.upload_max_size, s.upload_quota,
                            s.upload_slot_timeout)

    # The first domain's files are under /upload, another domain's under /upload-DOMAIN.
    uploads.path = "upload" if ctx.domain == s.domains[0] else f"upload-{ctx.domain}"

    def stop() -> None:
        if temporary is not None:
            shutil.rmtree(temporary, ignore_errors=True)

    return Feature("upload", service=uploads,
                   components=(build_component(ctx.router, s.upload_jid, uploads, ctx.domain),),
                   items=(DiscoItem(JID(s.upload_jid), name="HTTP File Upload"),),
                   mounts=(Mount(uploads.path.encode(),
                                 lambda web: UploadResource(uploads, web.cors)),),
                   forget=uploads.forget, clear=uploads.clear, stop=stop)
