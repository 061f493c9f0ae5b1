"""Benchmarks: minixmpp side by side with Prosody (when installed), one command.

    .venv/bin/python -m benchmarks.run [--quick] [--install-prosody] [--plot FILE]
                                       [--only memory,bosh-memory]

Prints a table (minixmpp, Prosody, ratio) and appends JSON lines to
``benchmarks/results.jsonl``. Everything runs on loopback, bounded in count and time.
The load generator runs in two worker processes; its CPU is reported beside the
server's.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import platform
import resource
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.request
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any

from benchmarks import hop, pep, scenarios
from benchmarks.servers import COMPONENT, SECRET, Minixmpp, Prosody, cpu_seconds, rss_kib

ROOT = Path(__file__).resolve().parent
#: what ``--only`` may name
MEASUREMENTS = ("logins", "push", "muc", "pep", "websocket", "messages", "memory",
                "bosh-memory", "fixture")
USERS = [f"bench{i}" for i in range(1, 51)] + ["pushee"]  # 50: the MUC room


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * q))] if ordered else float("nan")


class Bench:
    def __init__(self, quick: bool) -> None:
        self.quick = quick
        self.pool = ProcessPoolExecutor(2, mp_context=multiprocessing.get_context("fork"))
        self.rows: list[dict[str, Any]] = []
        self.last_cpu = 0.0

    def record(self, server: str, metric: str, value: float, unit: str,
               better: str, **extra: Any) -> None:
        row = {"server": server, "metric": metric, "value": value, "unit": unit,
               "better": better, **extra}
        self.rows.append(row)
        print(f"  {server:9} {metric:42} {value:12.2f} {unit}  "
              + " ".join(f"{k}={v}" for k, v in extra.items()), flush=True)

    def two_workers(self, fn: Any, args: list[tuple[Any, ...]], cpu_of: int | None = None,
                    window: tuple[float, float] | None = None) -> list[dict[str, Any]]:
        """Run ``fn`` in both workers; with ``cpu_of`` and ``window`` (start time,
        seconds), ``self.last_cpu`` is that process's CPU time during the window (the
        scenarios' log-ins before it are not counted)."""
        futures = [self.pool.submit(scenarios.run, fn, *a) for a in args]
        if cpu_of is not None and window is not None:
            start, seconds = window
            time.sleep(max(0.0, start - time.time()))
            cpu0 = cpu_seconds(cpu_of)
            time.sleep(seconds)
            self.last_cpu = cpu_seconds(cpu_of) - cpu0
        return [f.result() for f in futures]

    # -- measurements ----------------------------------------------------------------------

    def logins(self, server: Any) -> None:
        n_seq = 150 if self.quick else 500
        cpu0 = cpu_seconds(server.pid)
        result = self.pool.submit(scenarios.run, scenarios.logins, server.port, n_seq, 1,
                                  "SCRAM-SHA-1", 0).result()
        self.record(server.name, "login rate, sequential", n_seq / result["elapsed"],
                    "logins/s", "higher", p50_ms=round(pct(result["latencies"], .5) * 1e3, 2),
                    p99_ms=round(pct(result["latencies"], .99) * 1e3, 2),
                    server_cpu=round(cpu_seconds(server.pid) - cpu0, 2),
                    loadgen_cpu=round(result["worker_cpu"], 2))
        n = 600 if self.quick else 2000
        cpu0 = cpu_seconds(server.pid)
        results = self.two_workers(scenarios.logins, [(server.port, n // 2, 25, "SCRAM-SHA-1", w)
                                                      for w in range(2)])
        latencies = results[0]["latencies"] + results[1]["latencies"]
        elapsed = max(r["elapsed"] for r in results)
        self.record(server.name, "login rate, 50 concurrent", n / elapsed, "logins/s",
                    "higher", p50_ms=round(pct(latencies, .5) * 1e3, 2),
                    p99_ms=round(pct(latencies, .99) * 1e3, 2),
                    server_cpu=round(cpu_seconds(server.pid) - cpu0, 2),
                    loadgen_cpu=round(sum(r["worker_cpu"] for r in results), 2))

    def modern_logins(self, server: Any) -> None:
        """SASL2 + Bind2 logins and FAST re-logins (XEP-0388/0386/0484), sequential, beside
        the legacy path above (Prosody 13 has them only as community modules: minixmpp
        only)."""
        n_seq = 150 if self.quick else 500
        for mechanism, label in (("SASL2", "login rate, SASL2+Bind2, sequential"),
                                 ("FAST", "FAST re-login rate, sequential")):
            cpu0 = cpu_seconds(server.pid)
            result = self.pool.submit(scenarios.run, scenarios.logins, server.port, n_seq, 1,
                                      mechanism, 0).result()
            self.record(server.name, label, n_seq / result["elapsed"], "logins/s", "higher",
                        p50_ms=round(pct(result["latencies"], .5) * 1e3, 2),
                        p99_ms=round(pct(result["latencies"], .99) * 1e3, 2),
                        server_cpu=round(cpu_seconds(server.pid) - cpu0, 2),
                        loadgen_cpu=round(result["worker_cpu"], 2))

    def messages(self, server: Any, label: str) -> None:
        seconds = 3 if self.quick else 6
        start_at = time.time() + 3
        cpu0 = cpu_seconds(server.pid)
        results = self.two_workers(scenarios.throughput, [
            (server.port, range(1, 11), seconds, 50, start_at),
            (server.port, range(11, 21), seconds, 50, start_at)])
        total = sum(r["received"] for r in results)
        self.record(server.name, f"messages/s at saturation, 20 pairs ({label})",
                    total / seconds, "msg/s", "higher",
                    server_cpu=round(cpu_seconds(server.pid) - cpu0, 2),
                    loadgen_cpu=round(sum(r["worker_cpu"] for r in results), 2))
        seconds = 3 if self.quick else 5
        start_at = time.time() + 3
        results = self.two_workers(scenarios.latency, [
            (server.port, range(1, 11), 50.0, seconds, start_at),
            (server.port, range(11, 21), 50.0, seconds, start_at)])
        latencies = results[0]["latencies"] + results[1]["latencies"]
        self.record(server.name, f"latency p50 at 1,000 msg/s ({label})",
                    pct(latencies, .5) * 1e3, "ms", "lower", n=len(latencies))
        self.record(server.name, f"latency p99 at 1,000 msg/s ({label})",
                    pct(latencies, .99) * 1e3, "ms", "lower", n=len(latencies))

    def websocket(self, server: Any) -> None:
        """WebSocket (RFC 7395) next to TCP: login rate and message latency, PLAIN.

        The two transports take turns, several rounds on the same server, and each
        row pools its rounds: one run of either moves by ±50% on this shared machine,
        more than the difference being measured."""
        rounds = 3 if self.quick else 5
        n = 50 if self.quick else 100
        seconds = 2 if self.quick else 3
        logins = {"TCP": (scenarios.logins, server.port, ("PLAIN", 0)),
                  "WebSocket": (scenarios.ws_logins, server.http_port, (0,))}
        latency = {"TCP": (scenarios.latency, server.port),
                   "WebSocket": (scenarios.ws_latency, server.http_port)}
        stats: dict[str, dict[str, Any]] = {
            k: {"login_s": 0.0, "login_cpu": 0.0, "logins": [], "lat": [], "cpu": 0.0}
            for k in logins}
        for _ in range(rounds):
            for label, (fn, port, extra) in logins.items():
                cpu0 = cpu_seconds(server.pid)
                result = self.pool.submit(scenarios.run, fn, port, n, 1, *extra).result()
                stats[label]["login_cpu"] += cpu_seconds(server.pid) - cpu0
                stats[label]["login_s"] += result["elapsed"]
                stats[label]["logins"] += result["latencies"]
            for label, (fn, port) in latency.items():
                start_at = time.time() + 2
                results = self.two_workers(
                    fn, [(port, range(1, 11), 50.0, seconds, start_at),
                         (port, range(11, 21), 50.0, seconds, start_at)],
                    cpu_of=server.pid, window=(start_at, seconds))
                stats[label]["lat"] += results[0]["latencies"] + results[1]["latencies"]
                stats[label]["cpu"] += self.last_cpu
        for label, st in stats.items():
            total = n * rounds
            self.record(server.name, f"login rate, sequential, PLAIN ({label})",
                        total / st["login_s"], "logins/s", "higher",
                        p50_ms=round(pct(st["logins"], .5) * 1e3, 2), rounds=rounds)
            self.record(server.name, f"server CPU per login, PLAIN ({label})",
                        st["login_cpu"] / total * 1e3, "ms", "lower")
            name = "TCP beside WebSocket" if label == "TCP" else label
            lat = st["lat"]
            self.record(server.name, f"latency p50 at 1,000 msg/s ({name})",
                        pct(lat, .5) * 1e3, "ms", "lower", n=len(lat), rounds=rounds)
            self.record(server.name, f"latency p99 at 1,000 msg/s ({name})",
                        pct(lat, .99) * 1e3, "ms", "lower", n=len(lat))
            # the same messages at the same rate: server CPU per stanza, like for like
            self.record(server.name, f"server CPU per message at 1,000 msg/s ({name})",
                        st["cpu"] / max(1, len(lat)) * 1e6, "µs", "lower")

    def memory(self, server: Any, bosh: bool = False) -> None:
        """Server RSS per idle session: TCP c2s sessions, or BOSH sessions (``bosh``),
        each logged in and bound, with one request held."""
        sizes = [1000, 2000] if self.quick else [1000, 5000, 10000]
        target, port = ((scenarios.run_bosh_idle, server.http_port) if bosh
                        else (scenarios.run_idle, server.port))
        label = "memory per idle BOSH session, one request held" if bosh else \
            "memory per idle session"
        base = rss_kib(server.pid)
        for size in sizes:
            pipes, procs = [], []
            ctx = multiprocessing.get_context("fork")
            for w in range(2):
                ours, theirs = ctx.Pipe()
                proc = ctx.Process(target=target, args=(port, size // 2, w, theirs))
                proc.start()
                pipes.append(ours)
                procs.append(proc)
            opened = [p.recv() for p in pipes]
            time.sleep(1)
            rss = rss_kib(server.pid)
            sessions = sum(o["open"] for o in opened)
            errors = sum(o["errors"] for o in opened)
            for p in pipes:
                p.send("close")
            for p in pipes:
                p.recv()
            for proc in procs:
                proc.join()
            self.record(server.name, f"{label} ({size:,})",
                        (rss - base) / max(1, sessions), "KiB", "lower",
                        sessions=sessions, errors=errors, rss_mib=round(rss / 1024, 1))
            time.sleep(1.5)

    def push(self, server: Any) -> None:
        count = 50 if self.quick else 200
        result = self.pool.submit(scenarios.run, scenarios.push_latency, server.port,
                                  server.component_port, COMPONENT, SECRET, COMPONENT,
                                  count).result()
        sent, received = result["sent"], result["received"]
        pairs = list(zip(sent, received, strict=False))
        lat = [r - s for s, r in pairs]
        self.record(server.name, "push latency p50, external App Server", pct(lat, .5) * 1e3,
                    "ms", "lower", pushes=len(received), messages=len(sent))
        if isinstance(server, Minixmpp):
            result = self.pool.submit(scenarios.run, scenarios.push_latency, server.port, 0,
                                      "", "", "push.localhost", count).result()
            url = f"http://127.0.0.1:{server.http_port}/api/push/notifications?node=bench-node"
            notes = [n for n in json.load(urllib.request.urlopen(url))
                     if n["account"] == "pushee"]
            times = [_epoch(n["time"]) for n in notes][-len(result["sent"]):]
            lat = [r - s for s, r in zip(result["sent"], times, strict=False)]
            self.record(server.name, "push latency p50, in-process App Server",
                        pct(lat, .5) * 1e3, "ms", "lower", pushes=len(times))
            # The floor under both: the same pace of messages into an idle Twisted
            # process that does nothing (benchmarks/hop.py).
            floor = self.pool.submit(hop.one_way, count).result()
            self.record("machine", "floor: loopback one-way hop p50 into an idle process "
                        "that does no work (the machine's, for both servers)",
                        pct(floor, .5) * 1e3, "ms", "lower", n=len(floor))
            # And with the least Python work a push needs at all: building the 15 or so
            # elements of a message and its publish, right after the idle wake-up.
            floor = self.pool.submit(hop.one_way, count, 0.02, 15).result()
            self.record("machine", "floor: the same hop, building 15 XML elements per read "
                        "(the least work of a push)", pct(floor, .5) * 1e3, "ms", "lower",
                        n=len(floor))

    def muc(self, server: Any) -> None:
        """Group chat: join latency, and fan-out in a 50-occupant room (5 senders)."""
        occupants, senders, messages = (50, 5, 20) if self.quick else (50, 5, 100)
        result = self.pool.submit(scenarios.run, scenarios.muc_room, server.port, occupants,
                                  senders, messages).result()
        joins = result["joins"]
        self.record(server.name, "MUC join latency p50", pct(joins, 0.5) * 1000, "ms",
                    "lower")
        self.record(server.name, "MUC join latency p99", pct(joins, 0.99) * 1000, "ms",
                    "lower")
        self.record(server.name, f"MUC fan-out ({occupants} occupants)",
                    result["deliveries"] / result["elapsed"], "deliveries/s", "higher",
                    delivered=result["deliveries"], expected=result["expected"])
    def pep(self, server: Any) -> None:
        """Publish → notification latency with 10 contacts; PEP memory per account."""
        count = 50 if self.quick else 200
        result = self.pool.submit(scenarios.run, pep.latency, server.port, "bench1",
                                  [f"bench{i}" for i in range(2, 12)], count).result()
        lat = result["latencies"]
        self.record(server.name, "PEP publish → notification p50 (10 contacts)",
                    pct(lat, .5) * 1e3, "ms", "lower", notifications=len(lat),
                    expected=result["expected"])
        self.record(server.name, "PEP publish → notification p99 (10 contacts)",
                    pct(lat, .99) * 1e3, "ms", "lower", notifications=len(lat))
        users = [f"bench{i}" for i in range(12, 41)]
        base = rss_kib(server.pid)
        self.pool.submit(scenarios.run, pep.fill, server.port, users).result()
        time.sleep(1)
        self.record(server.name, "PEP memory per account (OMEMO + avatar + nick)",
                    (rss_kib(server.pid) - base) / len(users), "KiB", "lower",
                    accounts=len(users))

    def fixture(self) -> None:
        runs = 30 if self.quick else 100
        out = subprocess.run([sys.executable, "-m", "benchmarks.fixture", "--runs", str(runs)],
                             cwd=ROOT.parent, capture_output=True, text=True, check=True)
        for line in out.stdout.splitlines():
            name, _, rest = line.partition("  ")
            median = float(rest.split("median")[1].split("ms")[0])
            self.record("minixmpp", f"fixture: {name.strip()} (median)", median, "ms", "lower")


def _epoch(iso: str) -> float:
    from datetime import datetime

    return datetime.fromisoformat(iso).timestamp()


def table(rows: list[dict[str, Any]]) -> str:
    metrics: dict[str, dict[str, dict[str, Any]]] = {}
    for row in rows:
        metrics.setdefault(row["metric"], {})[row["server"]] = row
    lines = ["| measurement | minixmpp | Prosody | minixmpp / Prosody |",
             "| --- | --- | --- | --- |"]
    for metric, by in metrics.items():
        # the machine's own floor (benchmarks/hop.py) goes in the first column
        ours, theirs = by.get("minixmpp") or by.get("machine"), by.get("prosody")

        def show(r: dict[str, Any] | None) -> str:
            return f"{r['value']:,.2f} {r['unit']}" if r else "—"

        ratio = "—"
        if ours and theirs and theirs["value"]:
            ratio = f"{ours['value'] / theirs['value']:.2f}×"
        lines.append(f"| {metric} | {show(ours)} | {show(theirs)} | {ratio} |")
    return "\n".join(lines)


def plot(rows: list[dict[str, Any]], path: Path) -> None:
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        print("matplotlib is not installed (pip install -e '.[bench]'): no plot")
        return
    wanted = [r for r in rows if r["metric"].startswith(("messages/s", "latency", "login rate"))]
    metrics = list(dict.fromkeys(r["metric"] for r in wanted))
    fig, axes = plt.subplots(1, 3, figsize=(15, 4.5))
    groups = [("login rate", "logins/s"), ("messages/s", "messages/s"), ("latency", "ms")]
    for ax, (prefix, unit) in zip(axes, groups, strict=True):
        names = [m for m in metrics if m.startswith(prefix)]
        for k, server in enumerate(["minixmpp", "prosody"]):
            values = [next((r["value"] for r in wanted if r["metric"] == m and
                            r["server"] == server), 0) for m in names]
            ax.bar([i + k * 0.4 for i in range(len(names))], values, 0.4, label=server)
        ax.set_xticks([i + 0.2 for i in range(len(names))])
        ax.set_xticklabels([m.replace(prefix, "").strip(" ,") or prefix for m in names],
                           fontsize=8, rotation=10)
        ax.set_title(prefix)
        ax.set_ylabel(unit)
        if unit == "ms":
            ax.set_yscale("log")  # Prosody's memory archive is orders of magnitude slower
        ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    print(f"plot written to {path}")


def install_prosody() -> None:
    subprocess.run(["apt-get", "update", "-qq"], check=False)
    subprocess.run(["apt-get", "install", "-y", "-qq", "prosody", "prosody-modules"],
                   check=False, env={"DEBIAN_FRONTEND": "noninteractive", "PATH": "/usr/sbin:"
                                     "/usr/bin:/sbin:/bin"})
    # Debian starts a system-wide Prosody on install; the benchmark never uses it.
    subprocess.run(["service", "prosody", "stop"], check=False, capture_output=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="smaller counts (about 2 min)")
    parser.add_argument("--install-prosody", action="store_true",
                        help="apt-get install prosody prosody-modules first")
    parser.add_argument("--no-prosody", action="store_true", help="minixmpp only")
    parser.add_argument("--only-prosody", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--json", type=Path, default=ROOT / "results.jsonl")
    parser.add_argument("--plot", type=Path, default=None, help="write a PNG plot here")
    parser.add_argument("--only", default="", metavar="NAMES",
                        help="only these measurements, comma-separated, of: "
                             + ", ".join(MEASUREMENTS) + " (memory numbers do not depend "
                             "on the machine's load; timings do)")
    args = parser.parse_args()
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (min(hard, 65536), hard))
    if args.install_prosody and not Prosody.available():
        install_prosody()
    kinds: list[type] = [] if args.only_prosody else [Minixmpp]
    if not args.no_prosody:
        if Prosody.available():
            kinds.append(Prosody)
        else:
            print("prosody is not installed: measuring minixmpp only "
                  "(--install-prosody installs Debian's prosody and prosody-modules)")
    only = {name.strip() for name in args.only.split(",") if name.strip()}
    if only - set(MEASUREMENTS):
        parser.error(f"--only: unknown {', '.join(sorted(only - set(MEASUREMENTS)))}")

    def want(name: str) -> bool:
        return not only or name in only

    bench = Bench(args.quick)
    started = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
    with tempfile.TemporaryDirectory(prefix="minixmpp-bench-") as tmp:
        Path(tmp).chmod(0o755)  # Prosody runs as its own user and must reach its directory
        for kind in kinds:
            for archive in (True, False):
                workdir = Path(tmp) / f"{kind.name}-{archive}"
                workdir.mkdir()
                label = "archive on" if archive else "archive off"
                print(f"{kind.name} ({label})", flush=True)
                if only and not archive and not want("messages"):
                    continue  # the archive-off run only measures messages
                with kind(workdir, USERS, archive) as server:
                    if archive:
                        if want("logins"):
                            bench.logins(server)
                            if kind.name == "minixmpp":
                                bench.modern_logins(server)
                        if want("push"):
                            bench.push(server)
                        if want("muc"):
                            bench.muc(server)
                        if want("pep"):
                            bench.pep(server)
                        if kind is Minixmpp and want("websocket"):
                            bench.websocket(server)
                    if want("messages"):
                        bench.messages(server, label)
                    if archive and want("memory"):
                        bench.memory(server)
                if archive and want("bosh-memory"):
                    # a fresh server: memory the TCP sessions freed would be reused
                    fresh = Path(tmp) / f"{kind.name}-bosh"
                    fresh.mkdir()
                    with kind(fresh, USERS, archive) as server:
                        bench.memory(server, bosh=True)
    if not args.only_prosody and want("fixture"):
        bench.fixture()
    bench.pool.shutdown()
    print()
    print(table(bench.rows))
    machine = {"python": platform.python_version(), "cpus": multiprocessing.cpu_count(),
               "machine": platform.machine(), "prosody": shutil.which("prosody") is not None}
    with args.json.open("a") as f:
        for row in bench.rows:
            f.write(json.dumps({"run": started, "quick": args.quick, **machine, **row}) + "\n")
    print(f"\nJSON lines appended to {args.json}")
    if args.plot:
        plot(bench.rows, args.plot)


if __name__ == "__main__":
    main()
