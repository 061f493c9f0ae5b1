"""The pytest plugin loads from the installed package and works on either reactor."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.launch


EXAMPLES = Path(__file__).resolve().parents[1] / "plugin_examples"


def run_pytest(directory: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider",
                           "--rootdir", str(directory), *args, str(directory)],
                          cwd=directory, capture_output=True, text=True, timeout=300)


# On the default reactor, and with the README's examples: tests/testing/test_quiet.py.
def test_example_outside_the_repository_passes_on_the_asyncio_reactor(tmp_path: Path) -> None:
    shutil.copy(EXAMPLES / "test_example.py", tmp_path / "test_example.py")
    result = run_pytest(tmp_path, "--reactor=asyncio")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "3 passed" in result.stdout


FD_CHECK = '''
import os
import pytest
import pytest_twisted

baseline = []

def open_fds():
    return len(os.listdir("/proc/self/fd"))

@pytest.mark.parametrize("i", range(100))
async def test_cycle(xmpp_server, i):
    if i == 1:
        baseline.append(open_fds())
    a = await xmpp_server.login("alice")
    b = await xmpp_server.login("bob", tls=False)
    a.send_message("bob@localhost/test", str(i))  # full JID: no presence needed
    assert str((await b.next_message()).body) == str(i)
    if i % 2:
        await a.drop()  # leave the server to notice a dead connection

def test_nothing_left_behind():
    from twisted.internet import reactor
    assert open_fds() <= baseline[0] + 2, (open_fds(), baseline)
    assert [c for c in reactor.getDelayedCalls() if c.active()] == []
'''


@pytest.mark.skipif(not Path("/proc/self/fd").exists(), reason="needs /proc to count fds")
def test_hundred_fixture_servers_leave_no_descriptors_or_timers(tmp_path: Path) -> None:
    (tmp_path / "test_fds.py").write_text(FD_CHECK)
    result = run_pytest(tmp_path, "-p", "no:randomly")
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    assert "101 passed" in result.stdout


def test_factory_servers_with_components_listen_on_ports_of_their_own(
        xmpp_server_factory) -> None:
    """Under pytest-xdist many servers with an XEP-0114 listener run at once: none may
    take the fixed default port 5347."""
    options = {"component": ["bot.localhost:secret"]}
    first, second = xmpp_server_factory(**options), xmpp_server_factory(**options)
    assert first.components_port and second.components_port
    assert first.components_port != second.components_port
    assert 5347 not in (first.components_port, second.components_port)
    assert xmpp_server_factory().components_port is None
