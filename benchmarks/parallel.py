"""Parallel fixture benchmark: N fixture tests with pytest-xdist ``-n W`` against ``-n 0``.

Run: ``.venv/bin/python -m benchmarks.parallel [--tests 200] [--workers 2]``. Writes a
user-style test file (the README's push test, parametrized N times) into a temporary
project, runs it in a fresh pytest once in one process and once with W workers, and
prints each wall time (start-up of pytest and of the workers included: what a user
waits for) and the speed-up.
"""

from __future__ import annotations

import argparse
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

TEST = '''
import pytest
import pytest_twisted


@pytest.mark.parametrize("i", range({tests}))
@pytest_twisted.ensureDeferred
async def test_push_reaches_the_app_server(xmpp_server, i):
    phone = await xmpp_server.login("alice", resource="phone")
    await phone.enable_push("device-token", service=xmpp_server.push_jid, away=True)
    await phone.disconnect()
    bob = await xmpp_server.login("bob")
    bob.send_message("alice@localhost", "Hi Alice")
    push = await xmpp_server.wait_for_push(account="alice", timeout=5)
    assert push.fields["last-message-body"] == "Hi Alice"
    await bob.disconnect()
'''


def run(project: Path, tests: int, workers: int) -> float:
    """Wall time of one pytest run; fails unless every test passed."""
    start = time.perf_counter()
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "--rootdir",
         str(project), "-n", str(workers), str(project)],
        cwd=project, capture_output=True, text=True, timeout=1800)
    wall = time.perf_counter() - start
    if result.returncode != 0 or not re.search(rf"\b{tests} passed\b", result.stdout):
        raise SystemExit(f"-n {workers}: not all {tests} passed:\n{result.stdout[-2000:]}"
                         f"{result.stderr[-2000:]}")
    return wall


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tests", type=int, default=200)
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="minixmpp-parallel-") as directory:
        project = Path(directory)
        (project / "test_push.py").write_text(TEST.format(tests=args.tests))
        serial = run(project, args.tests, 0)
        parallel = run(project, args.tests, args.workers)
    print(f"{args.tests} fixture tests, -n 0  wall {serial:7.2f} s   "
          f"({serial / args.tests * 1000:6.1f} ms per test)")
    print(f"{args.tests} fixture tests, -n {args.workers}  wall {parallel:7.2f} s   "
          f"({parallel / args.tests * 1000:6.1f} ms per test)")
    print(f"speed-up -n {args.workers} over -n 0  {serial / parallel:5.2f}x")


if __name__ == "__main__":
    main()
