"""minixmpp as a test fixture: an in-process server (:class:`TestServer`), a small
Twisted client (:class:`TestClient`) and the pytest plugin (``minixmpp.testing.plugin``,
registered through the ``pytest11`` entry point)."""

from minixmpp.testing.client import TestClient
from minixmpp.testing.fixture import Account, TestServer, running_server
from minixmpp.testing.threaded import AsyncTestClient, AsyncTestServer, start_async

__all__ = ["Account", "AsyncTestClient", "AsyncTestServer", "TestClient", "TestServer",
           "running_server", "start_async"]
