"""Fixtures: a fresh in-process server per test, from the installed pytest plugin."""

from __future__ import annotations

import inspect

import pytest

from minixmpp.server import Server
from minixmpp.testing.fixture import TestServer

USERS = ("alice:alice", "bob:bob", "carol:carol")


@pytest.fixture
def test_server(request: pytest.FixtureRequest, xmpp_server_factory) -> TestServer:
    """The plugin's server with three accounts; ``@pytest.mark.server_options(...)``."""
    marker = request.node.get_closest_marker("server_options")
    options = {"user": USERS, **(marker.kwargs if marker else {})}
    return xmpp_server_factory(**options)


@pytest.fixture
def server(test_server: TestServer) -> Server:
    """The :class:`minixmpp.server.Server` itself."""
    return test_server.server


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "server_options(**kw): settings for the server fixture")


@pytest.fixture
def server_factory(xmpp_server_factory):
    """``make(**options)`` → a started Server with the three test accounts."""
    return lambda **options: xmpp_server_factory(**{"user": USERS, **options}).server


@pytest.hookimpl(tryfirst=True)
def pytest_pyfunc_call(pyfuncitem: pytest.Function) -> bool | None:
    """``async def`` tests run as they are written: an asyncio task on the loop that the
    asyncio reactor drives (``--reactor=asyncio``), so slixmpp's coroutines are awaited
    directly and the server keeps running while the test waits."""
    test = pyfuncitem.obj
    if not inspect.iscoroutinefunction(test) or hasattr(test, "_pytest_twisted_mark"):
        return None  # pytest-twisted's own (@pytest_twisted.ensureDeferred: Deferreds)
    from tests.helpers import block

    block(test(**{name: pyfuncitem.funcargs[name]
                  for name in pyfuncitem._fixtureinfo.argnames}))
    return True
