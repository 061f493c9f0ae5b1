"""Fixtures: a fresh in-process server per test, from the installed pytest plugin."""

from __future__ import annotations

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
