"""The benchmark command runs (numbers are checked by reading them, not by tests)."""

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_fixture_benchmark_runs_and_prints_numbers() -> None:
    result = subprocess.run([sys.executable, "-m", "benchmarks.fixture", "--runs", "3"],
                            cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert [line.split("  ")[0] for line in lines] == [
        "fixture ready for login", "first login (PLAIN, no TLS)", "whole e2e push test"]
    assert all("median" in line and "ms" in line for line in lines)
