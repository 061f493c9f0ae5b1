"""One log line when a session is bound and one when it ends; none with
--session-quiet (resource binding, RFC 6120 §7; Bind2 logs the same way)."""

from __future__ import annotations

import pytest

from tests.helpers import close, eventually, login


@pytest.mark.parametrize("quiet", [False, True], ids=["default", "session-quiet"])
async def test_session_log_lines(server_factory, log_lines, quiet) -> None:
    server = server_factory(session_quiet=quiet)
    alice = await login(server, "alice", resource="desk")
    await close(alice)
    await eventually(lambda: not server.sessions.of("alice"))
    bound = [line for line in log_lines if line.startswith("alice@localhost/desk bound (")]
    ended = [line for line in log_lines if line == "alice@localhost/desk disconnected"]
    assert (len(bound), len(ended)) == ((0, 0) if quiet else (1, 1))
