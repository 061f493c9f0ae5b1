"""minixmpp as a test fixture: an in-process server (:class:`TestServer`), a small
Twisted client (:class:`TestClient`) and the pytest plugin (``minixmpp.testing.plugin``,
registered through the ``pytest11`` entry point).

The names below are imported when first used (PEP 562): pytest loads the plugin in
every session of an environment where minixmpp is installed, and a session that uses
no XMPP fixture should not pay for importing the server.
"""

from __future__ import annotations

import importlib
from typing import Any

_WHERE = {"TestClient": "client", "Account": "fixture", "TestServer": "fixture",
          "running_server": "fixture", "AsyncTestClient": "threaded",
          "AsyncTestServer": "threaded", "start_async": "threaded"}

__all__ = sorted(_WHERE)


def __getattr__(name: str) -> Any:
    module = _WHERE.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f"{__name__}.{module}"), name)
    globals()[name] = value
    return value
