"""A user's project is quiet and parallel: user-style test files (pytest-twisted, the
README's examples, pytest-asyncio, anyio, the subprocess fixture) run in a fresh pytest
with ``-W error::DeprecationWarning``, in one process and under pytest-xdist ``-n 2``,
and the output has no warning, no traceback and no Deferred error. And so is this suite:
a slixmpp-heavy part of it, run as the README runs it."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = Path(__file__).resolve().parents[1] / "plugin_examples"
pytestmark = pytest.mark.launch  # pytest in pytest

PROCESS_TEST = '''
import json, urllib.request

def test_process_server_answers_over_http(xmpp_server_process):
    url = xmpp_server_process.http_url + "/api/accounts"
    request = urllib.request.Request(url, data=json.dumps(
        {"name": "carol", "password": "pw"}).encode(), method="POST")
    with urllib.request.urlopen(request, timeout=10) as response:
        assert response.status in (200, 201)
    assert xmpp_server_process.port > 0
'''

# The README's push test, eight times, as the report that started issue 14 had it (its
# asyncio twin twice: slixmpp's polite disconnect makes each take about a second).
def repeat(times: int) -> str:
    return f"""
import pytest

@pytest.fixture(params=range({times}))
def round(request):
    return request.param
"""


def readme_examples() -> list[str]:
    readme = (ROOT / "README.md").read_text()
    section = readme[readme.index("## Use it in your tests"):readme.index("## Options")]
    return re.findall(r"```python\n(.*?)```", section, re.S)


def user_project(directory: Path) -> Path:
    twisted_readme, asyncio_readme = readme_examples()[:2]
    assert "pytest_twisted" in twisted_readme and "async_xmpp_server" in asyncio_readme
    (directory / "pytest.ini").write_text(
        "[pytest]\nasyncio_default_fixture_loop_scope = function\n")
    shutil.copy(EXAMPLES / "test_example.py", directory / "test_twisted_example.py")
    shutil.copy(EXAMPLES / "asyncio_example.py", directory / "test_asyncio_example.py")
    shutil.copy(EXAMPLES / "conftest_example.py", directory / "conftest.py")
    (directory / "test_readme_twisted.py").write_text(
        repeat(8) + twisted_readme.replace("(xmpp_server)", "(xmpp_server, round)"))
    (directory / "test_readme_asyncio.py").write_text(
        repeat(2) + asyncio_readme.replace("(async_xmpp_server)", "(async_xmpp_server, round)"))
    (directory / "test_process_fixture.py").write_text(PROCESS_TEST)
    return directory


def expected_count() -> int:
    """test_example.py 3, READMEs 8 + 2, process 1, asyncio 2, anyio 1."""
    return 3 + 8 + 2 + 1 + 2 + 1


@pytest.mark.parametrize("workers", [[], ["-n", "2"]], ids=["one-process", "xdist-n2"])
def test_user_suite_is_green_and_silent(tmp_path: Path, workers: list[str]) -> None:
    project = user_project(tmp_path)
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-W",
         "error::DeprecationWarning", "--rootdir", str(project), *workers, str(project)],
        cwd=project, capture_output=True, text=True, timeout=300)
    output = result.stdout + result.stderr
    assert result.returncode == 0, output[-4000:]
    expected = expected_count()
    summary = output.strip().splitlines()[-1]
    assert re.fullmatch(rf"=+ {expected} passed in [\d.]+s( \([\d:]+\))? =+", summary), \
        output[-4000:]
    for noise in ("warning", "Warning", "Traceback", "Unhandled error", "Error",
                  "Task was destroyed"):
        assert noise not in output, output[-4000:]


#: slixmpp-heavy files of this suite: many clients, some left connected by their tests,
#: XEP-0114 components, coroutine event handlers; every slixmpp client left a pending
#: send-queue task behind ("Task was destroyed") before tests/conftest.py ended every
#: stream after its test. A few files, not whole directories: xdist's start costs the
#: same, and each test more adds to the suite's wall time.
OWN_SUITE = ["tests/im/test_message.py", "tests/im/test_iq.py", "tests/im/test_presence.py",
             "tests/push/test_component.py", "tests/push/test_groupchat.py"]


def test_our_own_suite_is_green_and_silent() -> None:
    """A part of this suite, run as the README runs the whole (its addopts: xdist and
    all), prints no traceback, no unhandled error, no destroyed task, no warning."""
    result = subprocess.run([sys.executable, "-m", "pytest", "-m", "not launch", *OWN_SUITE],
                            cwd=ROOT, capture_output=True, text=True, timeout=600)
    output = result.stdout + result.stderr
    assert result.returncode == 0, output[-4000:]
    summary = output.strip().splitlines()[-1]
    assert re.fullmatch(r"=+ \d+ passed(, \d+ deselected)? in [\d.]+s( \([\d:]+\))? =+",
                        summary), output[-4000:]
    for noise in ("Traceback", "Unhandled error", "Task was destroyed", "Warning"):
        assert noise not in output, output[-4000:]
