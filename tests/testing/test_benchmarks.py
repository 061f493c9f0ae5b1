"""The benchmark command runs (numbers are checked by reading them, not by tests)."""

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.launch


def test_fixture_benchmark_runs_and_prints_numbers() -> None:
    result = subprocess.run([sys.executable, "-m", "benchmarks.fixture", "--runs", "3"],
                            cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert [line.split("  ")[0] for line in lines] == [
        "fixture ready for login", "first login (PLAIN, no TLS)", "whole e2e push test",
        "async fixture ready"]
    assert all("median" in line and "ms" in line for line in lines)


def test_loopback_floor_is_measured() -> None:
    """benchmarks/hop.py: timestamps reach an idle Twisted process and come back as
    one-way latencies (positive, and far below the pace they were sent at)."""
    code = ("from benchmarks import hop\n"
            "for n in (0, 15):\n"
            "    t = hop.one_way(count=5, interval=0.01, elements=n)\n"
            "    assert len(t) == 5 and all(0 < x < 0.5 for x in t), t\n"
            "print('ok')")
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True,
                            text=True, timeout=60)
    assert result.returncode == 0 and "ok" in result.stdout, result.stderr[-2000:]


def test_load_generator_speaks_to_the_server(tmp_path: Path) -> None:
    """The benchmark's own XMPP client logs in with SCRAM-SHA-1 and PLAIN, over SASL2+Bind2
    and with FAST, enables push and
    gets a notification through an external App Server, against the real twistd."""
    code = """
import sys
from benchmarks import scenarios
from benchmarks.servers import COMPONENT, SECRET, Minixmpp
from pathlib import Path
with Minixmpp(Path(sys.argv[1]), ["bench1", "bench2", "bench3", "bench21", "pushee"],
              True) as server:
    for mech in ("SCRAM-SHA-1", "PLAIN", "SASL2", "FAST"):
        result = scenarios.run(scenarios.logins, server.port, 2, 1, mech, 0)  # bench1, 2
        assert len(result["latencies"]) == 2, result
    result = scenarios.run(scenarios.push_latency, server.port, server.component_port,
                           COMPONENT, SECRET, COMPONENT, 3)
    assert len(result["received"]) == 3, result
    result = scenarios.run(scenarios.muc_room, server.port, 3, 2, 2)  # tiny: a smoke test
    assert len(result["joins"]) == 3 and result["deliveries"] == result["expected"] == 12, \
        result
    result = scenarios.run(scenarios.ws_logins, server.http_port, 2, 1, 0)  # WebSocket
    assert len(result["latencies"]) == 2, result
    import time
    result = scenarios.run(scenarios.ws_latency, server.http_port, range(1, 2), 20.0, 0.3,
                           time.time() + 0.5)
    assert result["latencies"], result
print("ok")
"""
    result = subprocess.run([sys.executable, "-c", code, str(tmp_path)], cwd=ROOT,
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0 and "ok" in result.stdout, result.stderr[-2000:]


def test_pep_scenarios_run_against_the_server(tmp_path: Path) -> None:
    """Smoke test only (tiny counts): the PEP latency and fill scenarios work end to end."""
    code = """
import sys
from benchmarks import pep, scenarios
from benchmarks.servers import Minixmpp
from pathlib import Path
users = [f"bench{i}" for i in range(1, 6)]
with Minixmpp(Path(sys.argv[1]), users, True) as server:
    result = scenarios.run(pep.latency, server.port, "bench1", ["bench2", "bench3"], 3)
    assert len(result["latencies"]) == result["expected"] == 6, result
    assert scenarios.run(pep.fill, server.port, ["bench4", "bench5"])["items"] == 8
print("ok")
"""
    result = subprocess.run([sys.executable, "-c", code, str(tmp_path)], cwd=ROOT,
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0 and "ok" in result.stdout, result.stderr[-2000:]
