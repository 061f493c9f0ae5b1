"""Fixtures: a fresh in-process server per test, from the installed pytest plugin; every
slixmpp client ended after its test; and a guard that fails a test during which asyncio
destroyed a pending task or Twisted logged an unhandled error in a Deferred."""

from __future__ import annotations

import gc
import inspect
import logging
from collections.abc import Iterator
from typing import Any

import pytest
from twisted.logger import formatEvent, globalLogPublisher

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


class Noise(logging.Handler):
    """What a quiet run must never print: asyncio's "Task was destroyed but it is
    pending!" (and an exception nobody retrieved), Twisted's "Unhandled error in
    Deferred"."""

    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        message = record.getMessage()
        if message.startswith("Task was destroyed") or "never retrieved" in message:
            self.lines.append(message.splitlines()[0] + " " + message.splitlines()[-1][:200])
        if not logging.getLogger().handlers and logging.lastResort is not None:
            logging.lastResort.handle(record)  # printed as if this handler were not here

    def twisted(self, event: dict[str, Any]) -> None:
        if event.get("log_format") == "Unhandled error in Deferred:":
            failure = event.get("log_failure")
            self.lines.append(f"Unhandled error in Deferred: {failure and failure.value!r}")

    def take(self) -> list[str]:
        lines, self.lines = self.lines, []
        return lines


@pytest.fixture(scope="session")
def noise() -> Iterator[Noise]:
    """Listens for the whole session; at its end, collects the garbage once (a stream
    dropped without being ended shows up then) and fails if anything was heard."""
    from twisted.logger import globalLogPublisher

    heard = Noise()
    logging.getLogger("asyncio").addHandler(heard)
    globalLogPublisher.addObserver(heard.twisted)
    yield heard
    gc.collect()
    globalLogPublisher.removeObserver(heard.twisted)
    logging.getLogger("asyncio").removeHandler(heard)
    assert heard.take() == [], "noise at the end of the session"


@pytest.fixture
def log_lines() -> Iterator[list[str]]:
    """Every log line the test's servers write, formatted, in order."""
    lines: list[str] = []

    def observe(event: dict[str, Any]) -> None:
        lines.append(formatEvent(event))

    globalLogPublisher.addObserver(observe)
    yield lines
    globalLogPublisher.removeObserver(observe)


@pytest.fixture
def no_tracebacks() -> Iterator[None]:
    """Twisted's log during the test: an error event (a traceback) fails it. Modules fed
    hostile input opt in: ``pytestmark = pytest.mark.usefixtures("no_tracebacks")``."""
    from twisted.logger import formatEvent, globalLogPublisher

    errors: list[dict[str, Any]] = []

    def observe(event: dict[str, Any]) -> None:
        if event.get("log_failure") is not None or event.get("isError"):
            errors.append(event)

    globalLogPublisher.addObserver(observe)
    yield
    globalLogPublisher.removeObserver(observe)
    assert not errors, "\n".join(formatEvent(e) or repr(e) for e in errors)


@pytest.fixture(autouse=True)
def quiet(noise: Noise) -> Iterator[None]:
    """No slixmpp client outlives its test, and nothing noisy happened during it."""
    from tests import helpers

    yield
    if helpers.streams or helpers.slixmpp_tasks():
        helpers.block(helpers.end_streams())
    assert helpers.slixmpp_tasks() == [], "slixmpp tasks still running after the test"
    assert noise.take() == [], "asyncio or Twisted noise during the test"
