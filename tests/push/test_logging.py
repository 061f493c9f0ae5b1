"""One log line per publish by default; none with --push-quiet (enable, errors and
auto-disable are logged either way)."""

from __future__ import annotations

import pytest

from tests.helpers import barrier, close, enable_push, eventually, login, wait_push


@pytest.mark.parametrize("quiet", [False, True], ids=["default", "push-quiet"])
async def test_publish_log_lines(server_factory, log_lines, quiet) -> None:
    server = server_factory(push_quiet=quiet)
    alice = await login(server, "alice", resource="phone")
    await enable_push(alice, "n")
    await close(alice)
    await eventually(lambda: not server.sessions.of("alice"))
    bob = await login(server, "bob")
    bob.send_message(mto="alice@localhost", mbody="hi", mtype="chat")
    await wait_push(server, account="alice")  # the push happened either way
    await barrier(bob)  # the publish handling has finished (its log line included)
    assert any(line.startswith("push enabled: alice") for line in log_lines)
    publishes = [line for line in log_lines if line.startswith("push publish ")]
    received = [line for line in log_lines if line.startswith("push notification #")]
    assert (publishes == [], received == []) == (quiet, quiet)
    await close(bob)
