"""minixmpp as a test fixture: an in-process server (:class:`TestServer`), a small
Twisted client (:class:`TestClient`) and the pytest plugin (``minixmpp.testing.plugin``,
registered through the ``pytest11`` entry point).

The names below (and the submodules) are imported when first used (PEP 562): pytest
loads the plugin in every session of an environment where minixmpp is installed, and a
session that uses no XMPP fixture should not pay for importing the server.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from minixmpp.testing.client import TestClient
    from minixmpp.testing.fixture import Account, TestServer, running_server
    from minixmpp.testing.threaded import AsyncTestClient, AsyncTestServer, start_async

_WHERE = {"TestClient": "client", "Account": "fixture", "TestServer": "fixture",
          "running_server": "fixture", "AsyncTestClient": "threaded",
          "AsyncTestServer": "threaded", "start_async": "threaded"}
_SUBMODULES = ("client", "fixture", "plugin", "process", "threaded")

__all__ = ["Account", "AsyncTestClient", "AsyncTestServer", "TestClient", "TestServer",
           "running_server", "start_async"]


def __getattr__(name: str) -> Any:
    if name in _SUBMODULES:
        return importlib.import_module(f"{__name__}.{name}")
    module = _WHERE.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f"{__name__}.{module}"), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__, *_SUBMODULES})
