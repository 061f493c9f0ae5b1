"""The benchmark command runs (numbers are checked by reading them, not by tests), and
its report sums rounds up as docs/benchmarks.md says."""

import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from benchmarks import report, run, scenarios, servers

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.launch
def test_fixture_benchmark_runs_and_prints_numbers() -> None:
    result = subprocess.run([sys.executable, "-m", "benchmarks.fixture", "--runs", "3"],
                            cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert [line.split("  ")[0] for line in lines] == [
        "fixture ready for login", "first login (PLAIN, no TLS)", "whole e2e push test",
        "async fixture ready"]
    assert all("median" in line and "ms" in line for line in lines)


@pytest.mark.launch
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


@pytest.mark.launch
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


@pytest.mark.launch
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


@pytest.mark.launch
def test_pubsub_scenario_runs_against_the_server(tmp_path: Path) -> None:
    """Smoke test only (tiny counts): node created (and a conflict tolerated the second
    time), subscriptions, every notification counted once."""
    code = """
import sys
from benchmarks import pubsub, scenarios
from benchmarks.servers import PUBSUB, Minixmpp
from pathlib import Path
with Minixmpp(Path(sys.argv[1]), ["bench32", "bench12", "bench13"], True) as server:
    for _ in range(2):
        result = scenarios.run(pubsub.latency, server.port, PUBSUB, "bench32",
                               ["bench12", "bench13"], 3)
        assert len(result["latencies"]) == result["expected"] == 6, result
        start, end = result["window"]
        assert start <= end and all(0 < x < 5 for x in result["latencies"]), result
print("ok")
"""
    result = subprocess.run([sys.executable, "-c", code, str(tmp_path)], cwd=ROOT,
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0 and "ok" in result.stdout, result.stderr[-2000:]


# -- the report: rounds, medians, ratios (pure Python, fake rows) --------------------------

def row(server: str, value: float, round_no: int, metric: str = "login rate, sequential",
        unit: str = "logins/s") -> dict[str, Any]:
    return {"server": server, "metric": metric, "value": value, "unit": unit,
            "better": "higher", "round": round_no}


def test_servers_take_turns_so_each_goes_first_once_in_three_rounds() -> None:
    kinds = ["minixmpp", "prosody", "ejabberd"]
    orders = [report.turns(kinds, r) for r in (1, 2, 3, 4)]
    assert orders[0] == ["minixmpp", "prosody", "ejabberd"]
    assert orders[1] == ["prosody", "ejabberd", "minixmpp"]
    assert orders[2] == ["ejabberd", "minixmpp", "prosody"]
    assert orders[3] == orders[0]
    assert {o[0] for o in orders[:3]} == set(kinds)
    assert report.turns(["minixmpp"], 2) == ["minixmpp"] and report.turns([], 1) == []


def test_ratio_is_the_median_of_per_round_ratios_with_their_range() -> None:
    """Round ratios 2.0, 3.0, 1.5: the median ratio is 2.0, not the ratio of the medians
    (200 / 100 = 2.0 here by chance; round 3 shows the difference in the range)."""
    rows = [row("minixmpp", 200, 1), row("prosody", 100, 1),
            row("minixmpp", 300, 2), row("prosody", 100, 2),
            row("minixmpp", 150, 3), row("prosody", 100, 3),
            row("ejabberd", 400, 1), row("ejabberd", 100, 2), row("ejabberd", 300, 3)]
    [summary] = report.summarize(rows)
    assert summary["median"] == {"minixmpp": 200, "prosody": 100, "ejabberd": 300}
    assert summary["ratio"]["prosody"] == {"median": 2.0, "min": 1.5, "max": 3.0, "rounds": 3}
    # per round: 0.5, 3.0, 0.5 -> median 0.5 (the ratio of medians would say 0.67)
    assert summary["ratio"]["ejabberd"] == {"median": 0.5, "min": 0.5, "max": 3.0,
                                            "rounds": 3}


def test_a_ratio_pairs_rounds_where_both_servers_ran() -> None:
    rows = [row("minixmpp", 100, 1), row("minixmpp", 300, 2), row("prosody", 100, 2)]
    [summary] = report.summarize(rows)
    assert summary["median"]["minixmpp"] == 200
    assert summary["ratio"]["prosody"] == {"median": 3.0, "min": 3.0, "max": 3.0, "rounds": 1}
    assert "ejabberd" not in summary["ratio"]


def test_no_ratio_of_a_value_at_or_below_zero() -> None:
    rows = [row("minixmpp", 0.5, 1, "PEP memory per account", "KiB"),
            row("ejabberd", -71.0, 1, "PEP memory per account", "KiB"),
            row("prosody", 0.0, 1, "PEP memory per account", "KiB")]
    [summary] = report.summarize(rows)
    assert summary["ratio"] == {}


def test_table_has_a_column_per_server_and_dashes_for_a_peer_that_did_not_run() -> None:
    rows = [row("minixmpp", 210, 1), row("prosody", 100, 1),
            row("minixmpp", 190, 2), row("prosody", 100, 2),
            row("minixmpp", 3.5, 1, "login rate, sequential · server CPU per login", "ms"),
            row("prosody", 7.0, 1, "login rate, sequential · server CPU per login", "ms"),
            row("machine", 0.3, 1, "floor: loopback hop", "ms")]
    lines = report.table(rows).splitlines()
    assert lines[0] == ("| measurement | minixmpp | Prosody | ejabberd | minixmpp / Prosody "
                        "| minixmpp / ejabberd |")
    assert lines[2] == ("| login rate, sequential | 200 logins/s | 100 logins/s | — "
                        "| 2.00× (1.90–2.10) | — |")
    assert lines[3] == "| ↳ server CPU per login | 3.50 ms | 7.00 ms | — | 0.50× | — |"
    # the machine's own floor sits in the first column, compared with nothing
    assert lines[4] == "| floor: loopback hop | 0.30 ms | — | — | — | — |"


def test_the_capture_column_appears_only_when_it_was_measured() -> None:
    """``--peers capture`` puts minixmpp with its stanza capture on beside minixmpp; its
    ratio is minixmpp / capture on (above 1: what capture costs in a rate)."""
    rows = [row("minixmpp", 120, 1), row("capture", 100, 1), row("prosody", 60, 1)]
    lines = report.table(rows).splitlines()
    assert lines[0] == ("| measurement | minixmpp | Prosody | ejabberd | minixmpp, capture on "
                        "| minixmpp / Prosody | minixmpp / ejabberd "
                        "| minixmpp / minixmpp, capture on |")
    assert lines[2] == ("| login rate, sequential | 120 logins/s | 60.00 logins/s | — "
                        "| 100 logins/s | 2.00× | — | 1.20× |")
    assert "capture" not in report.table(rows[::2])


def test_one_summary_per_metric_in_the_order_measured() -> None:
    rows = [row("minixmpp", 2, 1), row("ejabberd", 1, 1),
            row("minixmpp", 5, 1, "memory per idle session (1,000)", "KiB")]
    summaries = report.summarize(rows)
    assert [s["metric"] for s in summaries] == ["login rate, sequential",
                                                "memory per idle session (1,000)"]
    assert summaries[0]["ratio"]["ejabberd"]["median"] == 2.0


def test_a_latency_receiver_skips_the_saturation_runs_late_messages() -> None:
    """ejabberd with its mnesia archive was still delivering the saturation run's
    backlog when the 1,000 msg/s run began; its bodies are not send times."""
    latencies: list[float] = []
    receiver = scenarios._Timestamps(latencies, b"")
    sent = time.time() - 0.5
    receiver.data_received(b"<message><body>benchmark message with some text in it</body>"
                           b"</message><message><body>%.6f</body></message>" % sent)
    assert len(latencies) == 1 and 0.4 < latencies[0] < 5


# -- which peers run ----------------------------------------------------------------------

def test_ejabberd_is_unavailable_without_ejabberdctl(monkeypatch: pytest.MonkeyPatch,
                                                     tmp_path: Path) -> None:
    monkeypatch.setattr(servers, "EJABBERDCTL", str(tmp_path / "no-ejabberdctl"))
    assert not servers.Ejabberd.available()
    assert "--install-ejabberd" in servers.Ejabberd.why_not()


def test_a_peer_that_cannot_run_is_left_out_and_says_so(
        monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setattr(servers.Ejabberd, "why_not", staticmethod(lambda: "not here"))
    monkeypatch.setattr(servers.Prosody, "why_not", staticmethod(lambda: None))
    assert run.choose_kinds(run.parse_args([])) == [servers.Minixmpp, servers.Prosody]
    assert "not here: the ejabberd column says —" in capsys.readouterr().out
    assert run.choose_kinds(run.parse_args(["--no-prosody"])) == [servers.Minixmpp]
    assert run.choose_kinds(run.parse_args(["--peers", "ejabberd"])) == [servers.Minixmpp]
    # capture (minixmpp with its stanza capture on) runs only when asked for
    assert run.choose_kinds(run.parse_args(["--peers", "capture"])) == [
        servers.Minixmpp, servers.MinixmppCapture]


def test_arguments_are_checked() -> None:
    args = run.parse_args(["--quick", "--rounds", "5", "--rows", "logins,messages"])
    assert (args.quick, args.rounds, args.rows) == (True, 5, ["logins", "messages"])
    assert run.parse_args(["--rows", "pubsub"]).rows == ["pubsub"]
    assert "pubsub" in run.parse_args([]).rows
    assert run.parse_args([]).rounds == 3
    for bad in (["--peers", "openfire"], ["--rows", "speed"], ["--rounds", "0"]):
        with pytest.raises(SystemExit):
            run.parse_args(bad)


# -- the pubsub row ---------------------------------------------------------------------

def test_pubsub_is_measured_on_the_archive_on_server() -> None:
    assert "pubsub" in run.ARCHIVE_ON and "pubsub" in run.GROUPS
    assert "pubsub" not in run.ARCHIVE_OFF


def test_peers_serve_pubsub_at_the_same_jid() -> None:
    """Prosody runs the pubsub component with the node's creator as its admin (0.12 lets
    only admins create nodes); ejabberd names its mod_pubsub host the same."""
    prosody = servers.PROSODY_CONFIG.format(
        dir="/d", port=1, component_port=2, http_port=3, domain=servers.DOMAIN,
        component=servers.COMPONENT, secret="s", pubsub=servers.PUBSUB,
        pubsub_creator=servers.PUBSUB_CREATOR, mam="", muc_mam="")
    assert ('Component "pubsub.localhost" "pubsub"\n  admins = { "bench32@localhost" }'
            in prosody)
    ejabberd = servers.EJABBERD_CONFIG.format(
        domain=servers.DOMAIN, port=1, component_port=2, http_port=3,
        component=servers.COMPONENT, secret="s", pubsub=servers.PUBSUB, room_mam="false",
        mam="")
    assert ("  mod_pubsub:\n    hosts: [pubsub.localhost]\n    access_createnode: all\n"
            in ejabberd)
    assert servers.PUBSUB_CREATOR in run.USERS


class _Done:
    def __init__(self, value: dict[str, Any]) -> None:
        self.value = value

    def result(self) -> dict[str, Any]:
        return self.value


class _Pool:
    def __init__(self, value: dict[str, Any]) -> None:
        self.value = value

    def submit(self, *args: Any) -> _Done:
        return _Done(self.value)


class _Server:
    name = "prosody"
    pid = os.getpid()
    port = 0


def _pubsub_bench(result: dict[str, Any]) -> run.Bench:
    bench = run.Bench(quick=True)
    bench.pool.shutdown()
    bench.pool = _Pool(result)  # type: ignore[assignment]
    return bench


def test_pubsub_rows_and_cpu_per_notification() -> None:
    now = time.time()
    bench = _pubsub_bench({"latencies": [0.001] * 499 + [0.010], "expected": 500,
                           "window": (now - 0.1, now)})
    bench.run_groups(_Server(), ["pubsub"], "archive on")
    assert bench.failures == []
    assert [r["metric"] for r in bench.rows] == [
        "pubsub publish → notification p50 (10 subscribers)",
        "pubsub publish → notification p50 (10 subscribers) · server CPU per notification",
        "pubsub publish → notification p99 (10 subscribers)"]
    assert bench.rows[0]["value"] == pytest.approx(1.0)
    assert bench.rows[0]["notifications"] == bench.rows[0]["expected"] == 500
    assert bench.rows[1]["ops"] == 500 and bench.rows[1]["unit"] == "µs"


def test_pubsub_losses_and_silence_are_reported_as_failures() -> None:
    now = time.time()
    bench = _pubsub_bench({"latencies": [0.002] * 450, "expected": 500,
                           "window": (now - 0.1, now)})
    bench.run_groups(_Server(), ["pubsub"], "archive on")
    assert len(bench.rows) == 3  # the latencies of what arrived stand
    [failure] = bench.failures
    assert (failure["server"], failure["group"], failure["label"]) == (
        "prosody", "pubsub", "archive on")
    assert "50 of 500 notifications did not arrive" in failure["error"]
    bench = _pubsub_bench({"latencies": [], "expected": 500, "window": (now, now)})
    bench.run_groups(_Server(), ["pubsub"], "archive on")
    assert bench.rows == [] and "none of 500" in bench.failures[0]["error"]
