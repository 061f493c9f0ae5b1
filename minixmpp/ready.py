"""``--ready-file``: where the server listens, as JSON, for harnesses in any language.

A Kotlin, Swift or JavaScript test starts ``minixmpp --c2s tcp:0 --ready-file PATH``,
waits for ``PATH`` to appear and reads the ports from it instead of parsing the log.
The file appears complete or not at all (written beside it, then renamed) once every
listener is bound, and is removed again when the server stops.
"""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from minixmpp import __version__
from minixmpp.config import ConfigError

if TYPE_CHECKING:
    from minixmpp.view import ServerView


def describe(views: Sequence[ServerView]) -> dict[str, Any]:
    """What a client needs to connect: addresses, ports, JIDs, certificate, features; the
    first domain's at the top level, and each domain's under ``domains``."""
    view = views[0]
    ports = view.ports()
    appserver = view.service("appserver")
    return {
        "version": __version__,
        "pid": os.getpid(),
        "domain": view.settings.domain,
        "host": ports.host,  # where to connect
        "c2s": ports.c2s,
        "components": ports.components,
        "http": ports.http,
        "http_url": f"http://{ports.http_host}:{ports.http}" if ports.http is not None
        else None,
        "push_jid": appserver.jid if appserver is not None else None,
        "accounts": sorted(view.settings.accounts),
        "features": list(view.features),
        "domains": {v.settings.domain: domain_details(v) for v in views},
        "tls_certificate": view.tls.cert_pem.decode() if view.tls else None,
        "tls_fingerprint": view.tls.fingerprint if view.tls else None,
    }


def domain_details(view: ServerView) -> dict[str, Any]:
    """One served domain: its accounts, services and authentication mode."""
    appserver = view.service("appserver")
    muc = view.service("muc")
    return {"accounts": sorted(view.settings.accounts), "auth": view.settings.auth_mode,
            "push_jid": appserver.jid if appserver is not None else None,
            "muc_jid": muc.jid if muc is not None else None}


def write(views: Sequence[ServerView], path: str) -> None:
    """Write :func:`describe` to ``path`` atomically."""
    target = Path(path)
    partial = target.with_name(f".{target.name}.{os.getpid()}.tmp")
    try:
        partial.write_text(json.dumps(describe(views), indent=2) + "\n", encoding="utf-8")
        os.replace(partial, target)
    except OSError as e:
        partial.unlink(missing_ok=True)
        raise ConfigError(f"--ready-file {path}: {e.strerror or e}") from None


def remove(path: str) -> None:
    """The server stopped: the file no longer tells the truth."""
    Path(path).unlink(missing_ok=True)
