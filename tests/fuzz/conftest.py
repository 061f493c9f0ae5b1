"""The fuzz harness: one real ``twistd`` server per test module (per xdist worker), a
bystander pair that must keep talking, and the checks every example ends with.

Short by default (a few examples per test, well under a minute for the directory on two
cores). For a long local run, give every grammar test a time budget::

    MINIXMPP_FUZZ_SECONDS=600 .venv/bin/python -m pytest -n 0 tests/fuzz

Each test then draws fresh examples, round after round, until its budget is spent.
"""

from __future__ import annotations

import itertools
import os
import re
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from hypothesis import HealthCheck, settings

from minixmpp.testing.process import ProcessServer
from tests.fuzz.clients import DOMAIN, SASL2, TRANSPORTS, Stream, TCPStream

#: seconds each grammar test runs for (0: the short CI run)
FUZZ_SECONDS = float(os.environ.get("MINIXMPP_FUZZ_SECONDS") or 0)
#: examples per test in the short run (per round in a long one)
EXAMPLES = 6
USERS = ("by1:by1", "by2:by2", "alice:alice", "fuzz1:fuzz1", "fuzz2:fuzz2", "fuzz3:fuzz3")
#: what the log must never show
BROKEN = re.compile(r"Traceback|Unhandled|\[Failure instance")


def fuzz_settings(examples: int = EXAMPLES) -> settings:
    return settings(max_examples=200 if FUZZ_SECONDS else examples, deadline=None,
                    suppress_health_check=list(HealthCheck), database=None)


class Bystanders:
    """Two clients on TCP that must keep exchanging messages (none lost)."""

    def __init__(self, server: ProcessServer) -> None:
        self.a, self.b = TCPStream(server), TCPStream(server)
        self.a.login("by1", "by1", "by")
        self.b.login("by2", "by2", "by")
        self.n = 0

    def check(self) -> None:
        self.n += 1
        self.a.send(f"<message to='by2@{DOMAIN}/by' type='chat'><body>still here {self.n}"
                    "</body></message>")
        assert self.b.read_until(f"still here {self.n}<"), \
            f"bystander message {self.n} lost: {self.b.text[-500:]}"
        for stream in (self.a, self.b):  # keep the buffers small over a long run
            stream.text, stream._scanned = "", 0

    def close(self) -> None:
        self.a.close(), self.b.close()


class Fuzz:
    """The server under fuzzing and the checks after each example."""

    def __init__(self, server: ProcessServer) -> None:
        self.server = server
        self.bystanders = Bystanders(server)
        self.offset = server.log_file.stat().st_size
        self.names = itertools.count(1)
        #: the FAST token of (fuzz2, fuzz-agent), refreshed when a success carries one
        self.token = ""

    def stream(self, transport: str) -> Stream:
        return TRANSPORTS[transport](self.server)

    @contextmanager
    def session(self, transport: str, user: str) -> Iterator[Stream]:
        """A logged-in, bound stream of ``user`` (password = user)."""
        stream = self.stream(transport)
        try:
            stream.login(user, user, f"fz{next(self.names)}")
            yield stream
        finally:
            stream.close()

    def unique(self, prefix: str = "fz") -> str:
        return f"{prefix}{os.getpid()}x{next(self.names)}"

    # -- the checks -------------------------------------------------------------------------

    def answered(self, stream: Stream, mark: int, idents: list[str], probe: str,
                 timeout: float = 5) -> list[str]:
        """Wait (bounded) for the probe and every request; the idents never answered."""
        stream.read_until(f"id=['\"]{probe}['\"]", timeout)
        deadline = time.monotonic() + timeout
        missing = []
        for ident in idents:
            pattern = f"id=['\"]{re.escape(ident)}['\"]"
            if not stream.read_until(pattern, max(0.0, deadline - time.monotonic())) \
                    and not re.search(pattern, stream.since(mark)):
                missing.append(ident)
        return missing

    def verdict(self, stream: Stream, mark: int, idents: list[str], probe: str, *,
                strict: bool, may_end: bool = False) -> None:
        """Every request answered (a result or an error), or the stream ended with a
        stream error; then the server-wide checks. Not ``strict`` (mutated bytes): the
        probe may also go unanswered on a stream transport that is still waiting for the
        rest of an element the mutation cut (TCP, WebSocket: the bytes go on)."""
        missing = self.answered(stream, mark, idents, probe)
        seen = stream.since(mark)
        if stream.ended:
            assert stream.error_ended or may_end, \
                f"{stream.name}: the stream ended without a stream error: {seen[-800:]}"
            if strict and not may_end:
                assert re.search(f"id=['\"]{probe}['\"]", seen) or not missing, \
                    f"{stream.name}: unanswered {missing} before the end: {seen[-800:]}"
        elif strict or stream.name == "bosh":
            assert re.search(f"id=['\"]{probe}['\"]", seen), \
                f"{stream.name}: the probe got no answer: {seen[-800:]}"
            assert not missing, f"{stream.name}: no answer to {missing}: {seen[-1500:]}"
        self.server_checks()

    def server_checks(self) -> None:
        """The server is up, logged no traceback, and the bystanders still talk."""
        assert self.server.process is not None and self.server.process.poll() is None, \
            "the server died"
        self.bystanders.check()
        with self.server.log_file.open("rb") as log:
            log.seek(self.offset)
            text = log.read().decode(errors="replace")
        self.offset += len(text.encode(errors="replace"))
        found = BROKEN.search(text)
        assert not found, "the server logged an error:\n" + text[max(0, found.start() - 2000):
                                                                   found.start() + 3000]

    def explore(self, prop: Callable[[], None]) -> None:
        """Run a ``@given`` property once (the short run), or round after round until
        ``MINIXMPP_FUZZ_SECONDS`` are spent."""
        deadline = time.monotonic() + FUZZ_SECONDS
        prop()
        while time.monotonic() < deadline:
            prop()

    def sasl2_answered(self, stream: Stream, mark: int) -> bool:
        return bool(re.search(f"<(challenge|success|failure) xmlns=['\"]{SASL2}['\"]",
                              stream.since(mark))) or stream.error_ended


@pytest.fixture(scope="module")
def fuzz(tmp_path_factory: Any) -> Iterator[Fuzz]:
    server = ProcessServer(tmp_path_factory.mktemp("fuzz"), users=USERS, extra=(
        "--registration-limit", "1000000", "--auth-fail-limit", "1000000"))
    server.start()
    harness = Fuzz(server)
    try:
        yield harness
        harness.bystanders.close()
    finally:
        server.stop()
    log = server.log_file.read_text(errors="replace")
    found = BROKEN.search(log)
    assert not found, log[max(0, found.start() - 2000):found.start() + 3000]
