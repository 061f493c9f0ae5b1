"""Fixtures: a fresh in-process server on a free loopback port per test."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import pytest_twisted

from minixmpp.config import Settings
from minixmpp.server import Server

USERS = ("alice:alice", "bob:bob", "carol:carol")


def make_server(**options: object) -> Server:
    from twisted.internet import reactor

    cli = {"c2s": "tcp:0:interface=127.0.0.1", "user": USERS}
    cli.update(options)
    server = Server(Settings.build(cli), reactor)
    server.startService()
    return server


@pytest.fixture
def server(request: pytest.FixtureRequest) -> Iterator[Server]:
    marker = request.node.get_closest_marker("server_options")
    server = make_server(**(marker.kwargs if marker else {}))
    yield server
    pytest_twisted.blockon(server.stopService() or pytest_twisted.blockon.__class__ and _done())


def _done():
    from twisted.internet import defer

    return defer.succeed(None)


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "server_options(**kw): settings for the server fixture")
