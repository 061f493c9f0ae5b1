"""pytest plugin (entry point ``pytest11: minixmpp``): fixtures for XMPP tests.

- ``xmpp_server``: a fresh in-process server per test on a free loopback port; options
  from ``@pytest.mark.xmpp_server(push_privacy=True, ...)`` (any ``Settings`` field).
- ``xmpp_server_factory``: build servers with options inside the test; all are stopped.
- ``xmpp_server_process``: the real ``twistd -n minixmpp`` in a subprocess, for
  clients that cannot share the process; talk to it over XMPP and the HTTP API.
- ``async_xmpp_server`` / ``async_xmpp_server_factory``: the same server for
  pytest-asyncio and anyio tests, on a reactor thread of its own
  (:mod:`minixmpp.testing.threaded`); coroutines instead of Deferreds.

``xmpp_server`` tests run under pytest-twisted (``@pytest_twisted.ensureDeferred async
def test_...``); with ``--reactor=asyncio`` asyncio clients such as slixmpp share the loop.

Every fixture is pytest-xdist safe: servers listen on ports the kernel picks (``tcp:0``,
the subprocess reports them in its ready file) and keep files in the test's own
``tmp_path``, so each worker has servers of its own.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:  # the server is imported by the first fixture that starts one
    from minixmpp.testing.fixture import TestServer


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "xmpp_server(**options): settings for the xmpp_server fixture")


def _block(d: Any) -> Any:
    import pytest_twisted

    return pytest_twisted.blockon(d)


def _stop(server: TestServer) -> None:
    _block(server.server.stopService())


@pytest.fixture
def xmpp_server_factory() -> Iterator[Callable[..., TestServer]]:
    """``make(**options)`` starts a server; every one is stopped after the test."""
    from twisted.internet import reactor

    from minixmpp.testing.fixture import start

    servers: list[TestServer] = []

    def make(**options: Any) -> TestServer:
        server = start(reactor, **options)
        servers.append(server)
        return server

    yield make
    for server in servers:
        _stop(server)


@pytest.fixture
def xmpp_server(request: pytest.FixtureRequest,
                xmpp_server_factory: Callable[..., TestServer]) -> TestServer:
    """A fresh in-process server (see ``@pytest.mark.xmpp_server`` for options)."""
    marker = request.node.get_closest_marker("xmpp_server")
    return xmpp_server_factory(**(marker.kwargs if marker else {}))


@pytest.fixture
def async_xmpp_server_factory() -> Iterator[Callable[..., Any]]:
    """``make(**options)`` starts an :class:`AsyncTestServer`; all stop after the test."""
    from minixmpp.testing.threaded import start_async

    servers: list[Any] = []

    def make(**options: Any) -> Any:
        server = start_async(**options)
        servers.append(server)
        return server

    yield make
    for server in servers:
        server.stop()


@pytest.fixture
def async_xmpp_server(request: pytest.FixtureRequest,
                      async_xmpp_server_factory: Callable[..., Any]) -> Any:
    """A fresh server for asyncio/anyio tests (options: ``@pytest.mark.xmpp_server``)."""
    marker = request.node.get_closest_marker("xmpp_server")
    return async_xmpp_server_factory(**(marker.kwargs if marker else {}))


@pytest.fixture
def xmpp_server_process(tmp_path: Any) -> Iterator[Any]:
    """``twistd -n minixmpp`` in a subprocess on free ports, with the HTTP API on."""
    from minixmpp.testing.process import ProcessServer

    server = ProcessServer(tmp_path)
    server.start()
    yield server
    server.stop()
