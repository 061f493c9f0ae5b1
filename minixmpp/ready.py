"""``--ready-file``: where the server listens, as JSON, for harnesses in any language.

A Kotlin, Swift or JavaScript test starts ``minixmpp --c2s tcp:0 --ready-file PATH``,
waits for ``PATH`` to appear and reads the ports from it instead of parsing the log.
The file appears complete or not at all (written beside it, then renamed) once every
listener is bound, and is removed again when the server stops.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

from minixmpp import __version__
from minixmpp.config import ConfigError

if TYPE_CHECKING:
    from minixmpp.server import Server


def describe(server: Server) -> dict[str, Any]:
    """What a client needs to connect: addresses, ports, JIDs, certificate."""
    c2s = server.c2s_port.getHost()
    components = server.component_port.getHost() if server.component_port else None
    http = server.http_port.getHost() if server.http_port else None
    return {
        "version": __version__,
        "pid": os.getpid(),
        "domain": server.settings.domain,
        "host": "127.0.0.1" if c2s.host == "0.0.0.0" else c2s.host,  # where to connect
        "c2s": c2s.port,
        "components": components.port if components else None,
        "http": http.port if http else None,
        "http_url": f"http://{http.host}:{http.port}" if http else None,
        "push_jid": server.appserver.jid if server.appserver else None,
        "accounts": sorted(server.settings.accounts),
        "tls_certificate": server.tls.cert_pem.decode() if server.tls else None,
        "tls_fingerprint": server.tls.fingerprint if server.tls else None,
    }


def write(server: Server, path: str) -> None:
    """Write :func:`describe` to ``path`` atomically."""
    target = Path(path)
    partial = target.with_name(f".{target.name}.{os.getpid()}.tmp")
    try:
        partial.write_text(json.dumps(describe(server), indent=2) + "\n", encoding="utf-8")
        os.replace(partial, target)
    except OSError as e:
        partial.unlink(missing_ok=True)
        raise ConfigError(f"--ready-file {path}: {e.strerror or e}") from None


def remove(path: str) -> None:
    """The server stopped: the file no longer tells the truth."""
    Path(path).unlink(missing_ok=True)
