"""Benchmarks: minixmpp beside Prosody and ejabberd (when installed), in rounds, one command.

    .venv/bin/python -m benchmarks.run [--quick] [--rounds N] [--install-prosody]
        [--install-ejabberd] [--peers prosody,ejabberd] [--rows logins,...] [--plot FILE]

Every measurement runs in ``--rounds`` rounds (3 by default), the servers taking turns
(round 1: minixmpp, Prosody, ejabberd; round 2: Prosody, ejabberd, minixmpp; ...). The
table gives each server's median, minixmpp / peer as the median of the per-round ratios
with their range, and the server's CPU per operation under the rows where the load
generator could be the limit. JSON lines (one per server, metric and round, and one
summary per row) are appended to ``benchmarks/results.jsonl``. Everything runs on
loopback, bounded in count and time; the generator runs in two worker processes.
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
import threading
import time
import urllib.request
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any

from benchmarks import hop, pep, pubsub, report, scenarios
from benchmarks.servers import (
    COMPONENT,
    PUBSUB,
    PUBSUB_CREATOR,
    SECRET,
    Ejabberd,
    Minixmpp,
    MinixmppCapture,
    Prosody,
    cpu_seconds,
    package_version,
    rss_kib,
)

ROOT = Path(__file__).resolve().parent
USERS = [f"bench{i}" for i in range(1, 51)] + ["pushee"]  # 50: the MUC room
PEER_KINDS = {"prosody": Prosody, "ejabberd": Ejabberd, "capture": MinixmppCapture}
#: the peers measured unless --peers says otherwise (``capture`` is minixmpp itself with
#: its stanza capture on: what the capture costs, asked for by name)
DEFAULT_PEERS = ["prosody", "ejabberd"]
# Measurement groups, in the order they run on the archive-on server, then on the
# archive-off one. WebSocket beside TCP runs with the archive off: a transport's cost,
# not an archive's (ejabberd's and Prosody's take seconds at 1,000 msg/s).
ARCHIVE_ON = ["logins", "push", "muc", "pep", "pubsub", "messages", "memory"]
ARCHIVE_OFF = ["messages", "websocket"]
GROUPS = [*ARCHIVE_ON, "websocket", "bosh-memory"]
#: groups measured on a server of their own, started fresh (memory the TCP sessions freed
#: would be reused)
FRESH = ["bosh-memory"]


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * q))] if ordered else float("nan")


class CpuSampler(threading.Thread):
    """A process's CPU seconds every 20 ms, for a window only a worker knows the wall-clock
    start and end of (the MUC fan-out starts after the joins)."""

    def __init__(self, pid: int) -> None:
        super().__init__(daemon=True)
        self.pid = pid
        self.samples: list[tuple[float, float]] = []
        self.done = threading.Event()

    def run(self) -> None:
        while not self.done.is_set():
            self.samples.append((time.time(), cpu_seconds(self.pid)))
            self.done.wait(0.02)

    def __enter__(self) -> CpuSampler:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.done.set()
        self.join()

    def between(self, start: float, end: float) -> float:
        before = [c for t, c in self.samples if t <= start] or [self.samples[0][1]]
        after = [c for t, c in self.samples if t >= end] or [self.samples[-1][1]]
        return after[0] - before[-1]


class Bench:
    def __init__(self, quick: bool) -> None:
        self.quick = quick
        self.pool = ProcessPoolExecutor(2, mp_context=multiprocessing.get_context("fork"))
        self.rows: list[dict[str, Any]] = []
        self.failures: list[dict[str, Any]] = []
        self.round = 1
        self.last_cpu = 0.0

    def record(self, server: str, metric: str, value: float, unit: str,
               better: str, **extra: Any) -> None:
        row = {"server": server, "metric": metric, "value": value, "unit": unit,
               "better": better, "round": self.round, **extra}
        self.rows.append(row)
        print(f"  {server:9} {metric:58} {value:12.2f} {unit}  "
              + " ".join(f"{k}={v}" for k, v in extra.items()), flush=True)

    def per_op(self, server: str, metric: str, seconds: float, ops: int, op: str,
               unit: str = "µs") -> None:
        """The server's CPU per operation, as a sub-row of ``metric``: a ratio that holds
        here too was not made by the generator."""
        if ops <= 0:
            return
        scale = 1e3 if unit == "ms" else 1e6
        self.record(server, f"{metric}{report.SUB}server CPU per {op}",
                    seconds / ops * scale, unit, "lower", cpu_s=round(seconds, 3),
                    ops=ops)

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

    def sequential_logins(self, server: Any, mechanism: str, metric: str, n: int) -> None:
        cpu0 = cpu_seconds(server.pid)
        result = self.pool.submit(scenarios.run, scenarios.logins, server.port, n, 1,
                                  mechanism, 0).result()
        cpu = cpu_seconds(server.pid) - cpu0
        self.record(server.name, metric, n / result["elapsed"], "logins/s", "higher",
                    p50_ms=round(pct(result["latencies"], .5) * 1e3, 2),
                    p99_ms=round(pct(result["latencies"], .99) * 1e3, 2),
                    server_cpu=round(cpu, 2), loadgen_cpu=round(result["worker_cpu"], 2))
        self.per_op(server.name, metric, cpu, n, "login", "ms")

    def logins(self, server: Any) -> None:
        n_seq = 150 if self.quick else 500
        self.sequential_logins(server, "SCRAM-SHA-1", "login rate, sequential", n_seq)
        n = 600 if self.quick else 2000
        cpu0 = cpu_seconds(server.pid)
        results = self.two_workers(scenarios.logins, [(server.port, n // 2, 25, "SCRAM-SHA-1", w)
                                                      for w in range(2)])
        cpu = cpu_seconds(server.pid) - cpu0
        latencies = results[0]["latencies"] + results[1]["latencies"]
        elapsed = max(r["elapsed"] for r in results)
        metric = "login rate, 50 concurrent"
        self.record(server.name, metric, n / elapsed, "logins/s",
                    "higher", p50_ms=round(pct(latencies, .5) * 1e3, 2),
                    p99_ms=round(pct(latencies, .99) * 1e3, 2), server_cpu=round(cpu, 2),
                    loadgen_cpu=round(sum(r["worker_cpu"] for r in results), 2))
        self.per_op(server.name, metric, cpu, n, "login", "ms")
        if isinstance(server, Minixmpp):
            # SASL2 + Bind2 and FAST (XEP-0388/0386/0484): Prosody 0.12 and ejabberd
            # 23.01 have neither, so these rows are minixmpp's alone.
            self.sequential_logins(server, "SASL2", "login rate, SASL2+Bind2, sequential",
                                   n_seq)
            self.sequential_logins(server, "FAST", "FAST re-login rate, sequential", n_seq)

    def messages(self, server: Any, label: str) -> None:
        seconds = 3 if self.quick else 6
        start_at = time.time() + 3
        results = self.two_workers(scenarios.throughput, [
            (server.port, range(1, 11), seconds, 50, start_at),
            (server.port, range(11, 21), seconds, 50, start_at)],
            cpu_of=server.pid, window=(start_at, seconds))
        total = sum(r["received"] for r in results)
        metric = f"messages/s at saturation, 20 pairs ({label})"
        self.record(server.name, metric, total / seconds, "msg/s", "higher",
                    server_cpu=round(self.last_cpu, 2),
                    loadgen_cpu=round(sum(r["worker_cpu"] for r in results), 2))
        self.per_op(server.name, metric, self.last_cpu, total, "message")
        self.latency(server, scenarios.latency, server.port, label)

    def latency(self, server: Any, fn: Any, port: int, label: str) -> None:
        """One-way latency at a steady 1,000 msg/s (20 senders); server CPU per message
        in the sending window, like for like between servers."""
        seconds = 3 if self.quick else 5
        start_at = time.time() + 2
        results = self.two_workers(fn, [(port, range(1, 11), 50.0, seconds, start_at),
                                        (port, range(11, 21), 50.0, seconds, start_at)],
                                   cpu_of=server.pid, window=(start_at, seconds))
        latencies = results[0]["latencies"] + results[1]["latencies"]
        if not latencies:  # the column says "—" and the failure says why
            raise RuntimeError(f"latency ({label}): no message arrived within a second of "
                               "the sending window (the server is that far behind)")
        metric = f"latency p50 at 1,000 msg/s ({label})"
        self.record(server.name, metric, pct(latencies, .5) * 1e3, "ms", "lower",
                    n=len(latencies))
        self.per_op(server.name, metric, self.last_cpu, len(latencies), "message")
        self.record(server.name, f"latency p99 at 1,000 msg/s ({label})",
                    pct(latencies, .99) * 1e3, "ms", "lower", n=len(latencies))

    def websocket(self, server: Any) -> None:
        """WebSocket (RFC 7395) beside TCP on the same server, PLAIN: sequential logins
        and the 1,000 msg/s latency run. The transports alternate which goes first from
        one round to the next."""
        if not server.websocket:
            return
        n = 50 if self.quick else 100
        transports = [("TCP", scenarios.logins, server.port, ("PLAIN", 0), scenarios.latency,
                       "TCP beside WebSocket"),
                      ("WebSocket", scenarios.ws_logins, server.http_port, (0,),
                       scenarios.ws_latency, "WebSocket")]
        if self.round % 2 == 0:
            transports.reverse()
        for label, login_fn, port, extra, latency_fn, name in transports:
            cpu0 = cpu_seconds(server.pid)
            result = self.pool.submit(scenarios.run, login_fn, port, n, 1, *extra).result()
            cpu = cpu_seconds(server.pid) - cpu0
            metric = f"login rate, sequential, PLAIN ({label})"
            self.record(server.name, metric, n / result["elapsed"], "logins/s", "higher",
                        p50_ms=round(pct(result["latencies"], .5) * 1e3, 2))
            self.per_op(server.name, metric, cpu, n, "login", "ms")
            self.latency(server, latency_fn, port, name)

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
        if server.name == "minixmpp":  # once a round, not again for --peers capture
            # The floor under both: the same pace of messages into an idle Twisted
            # process that does nothing (benchmarks/hop.py).
            floor = self.pool.submit(hop.one_way, count).result()
            self.record("machine", "floor: loopback one-way hop p50 into an idle process "
                        "that does no work (the machine's, for every server)",
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
        with CpuSampler(server.pid) as sampler:
            result = self.pool.submit(scenarios.run, scenarios.muc_room, server.port,
                                      occupants, senders, messages).result()
            time.sleep(0.05)  # one sample after the window's end
        joins = result["joins"]
        self.record(server.name, "MUC join latency p50", pct(joins, 0.5) * 1000, "ms",
                    "lower")
        self.record(server.name, "MUC join latency p99", pct(joins, 0.99) * 1000, "ms",
                    "lower")
        metric = f"MUC fan-out ({occupants} occupants)"
        self.record(server.name, metric, result["deliveries"] / result["elapsed"],
                    "deliveries/s", "higher", delivered=result["deliveries"],
                    expected=result["expected"])
        self.per_op(server.name, metric, sampler.between(*result["window"]),
                    result["deliveries"], "delivery")

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

    def pubsub(self, server: Any) -> None:
        """Publish → notification latency on the XEP-0060 service (``pubsub.localhost``),
        one publisher and 20 subscribers (10 with ``--quick``) of one node; server CPU
        per notification delivered, from the first publish to the last notification."""
        subscribers, count = (10, 50) if self.quick else (20, 200)
        with CpuSampler(server.pid) as sampler:
            result = self.pool.submit(
                scenarios.run, pubsub.latency, server.port, PUBSUB, PUBSUB_CREATOR,
                [f"bench{i}" for i in range(12, 12 + subscribers)], count).result()
            time.sleep(0.05)  # one sample after the window's end
        lat, expected = result["latencies"], result["expected"]
        if not lat:  # the column says "—" and the failure says why
            raise RuntimeError(f"pubsub: none of {expected} notifications arrived")
        metric = f"pubsub publish → notification p50 ({subscribers} subscribers)"
        self.record(server.name, metric, pct(lat, .5) * 1e3, "ms", "lower",
                    notifications=len(lat), expected=expected)
        self.per_op(server.name, metric, sampler.between(*result["window"]), len(lat),
                    "notification")
        self.record(server.name, f"pubsub publish → notification p99 ({subscribers} "
                    "subscribers)", pct(lat, .99) * 1e3, "ms", "lower",
                    notifications=len(lat), expected=expected)
        if len(lat) < expected:  # the rows stand; the loss is reported under the table
            raise RuntimeError(f"pubsub: {expected - len(lat)} of {expected} notifications "
                               "did not arrive within 30 s of the last publish")

    def fixture(self) -> None:
        runs = 30 if self.quick else 100
        out = subprocess.run([sys.executable, "-m", "benchmarks.fixture", "--runs", str(runs)],
                             cwd=ROOT.parent, capture_output=True, text=True, check=True)
        for line in out.stdout.splitlines():
            name, _, rest = line.partition("  ")
            median = float(rest.split("median")[1].split("ms")[0])
            self.record("minixmpp", f"fixture: {name.strip()} (median)", median, "ms", "lower")

    def run_groups(self, server: Any, groups: list[str], label: str) -> None:
        """Each group in turn; one that fails is reported and the run goes on."""
        for group in groups:
            try:
                if group == "messages":
                    self.messages(server, label)
                elif group == "bosh-memory":
                    self.memory(server, bosh=True)
                else:
                    getattr(self, group)(server)
            except Exception as error:  # noqa: BLE001  (reported with the table)
                self.fail(server.name, group, label, error)

    def fail(self, server: str, group: str, label: str, error: BaseException) -> None:
        print(f"  {server}: {group} ({label}) failed in round {self.round}: {error!r}",
              flush=True)
        self.failures.append({"server": server, "group": group, "label": label,
                              "round": self.round, "error": repr(error)[:500]})


def _epoch(iso: str) -> float:
    from datetime import datetime

    return datetime.fromisoformat(iso).timestamp()


def _quietly(*command: str) -> None:
    """Run ``command`` if it exists here; its failure is not ours (no init system in a
    container, a service already stopped)."""
    if shutil.which(command[0]):
        subprocess.run(list(command), check=False, capture_output=True)


def _apt_install(*packages: str) -> None:
    env = {"DEBIAN_FRONTEND": "noninteractive", "PATH": "/usr/sbin:/usr/bin:/sbin:/bin"}
    subprocess.run(["apt-get", "update", "-qq"], check=False)
    subprocess.run(["apt-get", "install", "-y", "-qq", *packages], check=False, env=env)


def install_prosody() -> None:
    _apt_install("prosody", "prosody-modules")
    # Debian starts a system-wide Prosody on install; the benchmark never uses it.
    _quietly("service", "prosody", "stop")


def install_ejabberd() -> None:
    _apt_install("ejabberd")
    # Debian starts (where its policy lets it) and enables a system-wide ejabberd on
    # install; the benchmark never uses it, so it is stopped and disabled.
    _quietly("service", "ejabberd", "stop")
    _quietly("systemctl", "disable", "ejabberd")


def choose_kinds(args: argparse.Namespace) -> list[type]:
    """minixmpp and the peers asked for that can run here, in table order; a peer that
    cannot says why (its column then shows "—")."""
    kinds: list[type] = [] if args.no_minixmpp else [Minixmpp]
    for name, kind in PEER_KINDS.items():
        if name not in args.peers or getattr(args, f"no_{name}", False):
            continue
        reason = kind.why_not()
        if reason is None:
            kinds.append(kind)
        else:
            print(f"{reason}: the {kind.title} column says —")
    return kinds


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true",
                        help="smaller counts (about a quarter of an hour with both peers)")
    parser.add_argument("--rounds", type=int, default=3,
                        help="rounds per measurement, servers taking turns (default 3)")
    parser.add_argument("--peers", type=lambda s: [p for p in s.split(",") if p],
                        default=DEFAULT_PEERS, metavar="prosody,ejabberd,capture",
                        help="the peers to measure beside minixmpp (default prosody and "
                        "ejabberd; capture: minixmpp with its stanza capture on)")
    parser.add_argument("--rows", type=lambda s: [g for g in s.split(",") if g],
                        default=[*GROUPS, "fixture"], metavar=",".join([*GROUPS, "fixture"]),
                        help="only these measurement groups (default all)")
    parser.add_argument("--install-prosody", action="store_true",
                        help="apt-get install prosody prosody-modules first")
    parser.add_argument("--install-ejabberd", action="store_true",
                        help="apt-get install ejabberd first")
    parser.add_argument("--no-prosody", action="store_true", help="without Prosody")
    parser.add_argument("--no-ejabberd", action="store_true", help="without ejabberd")
    parser.add_argument("--no-minixmpp", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--only-prosody", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--json", type=Path, default=ROOT / "results.jsonl")
    parser.add_argument("--plot", type=Path, default=None, help="write a PNG plot here")
    args = parser.parse_args(argv)
    unknown = set(args.peers) - set(PEER_KINDS) | set(args.rows) - {*GROUPS, "fixture"}
    if unknown:
        parser.error(f"unknown: {', '.join(sorted(unknown))}")
    if args.rounds < 1:
        parser.error("--rounds must be at least 1")
    if args.only_prosody:
        args.no_minixmpp, args.peers = True, ["prosody"]
    return args


def main() -> None:
    args = parse_args()
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (min(hard, 65536), hard))
    if args.install_prosody and not Prosody.available():
        install_prosody()
    if args.install_ejabberd and not Ejabberd.available():
        install_ejabberd()
    kinds = choose_kinds(args)
    bench = Bench(args.quick)
    started = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
    with tempfile.TemporaryDirectory(prefix="minixmpp-bench-") as tmp:
        Path(tmp).chmod(0o755)  # the peers run as their own users and must reach it
        for round_no in range(1, args.rounds + 1):
            bench.round = round_no
            order = report.turns(kinds, round_no)
            print(f"round {round_no} of {args.rounds}: "
                  + ", ".join(k.title for k in order), flush=True)
            for kind in order:
                for archive in (True, False):
                    label = "archive on" if archive else "archive off"
                    groups = [g for g in (ARCHIVE_ON if archive else ARCHIVE_OFF)
                              if g in args.rows]
                    if not groups:
                        continue
                    workdir = Path(tmp) / f"{kind.name}-{label.replace(' ', '-')}-{round_no}"
                    workdir.mkdir()
                    print(f"{kind.title} ({label})", flush=True)
                    try:
                        with kind(workdir, USERS, archive) as server:
                            bench.run_groups(server, groups, label)
                    except Exception as error:  # noqa: BLE001  (a peer that fails to start)
                        bench.fail(kind.name, "start", label, error)
                fresh = [g for g in FRESH if g in args.rows]
                if fresh:
                    workdir = Path(tmp) / f"{kind.name}-fresh-{round_no}"
                    workdir.mkdir()
                    print(f"{kind.title} (fresh)", flush=True)
                    try:
                        with kind(workdir, USERS, True) as server:
                            bench.run_groups(server, fresh, "fresh")
                    except Exception as error:  # noqa: BLE001
                        bench.fail(kind.name, "start", "fresh", error)
    bench.round = 1
    if not args.no_minixmpp and "fixture" in args.rows:
        bench.fixture()
    bench.pool.shutdown()
    print(f"\nMedians over {args.rounds} round(s); minixmpp / peer is the median of the "
          "per-round ratios (min–max); ↳ rows are the server's CPU per operation.\n")
    print(report.table(bench.rows))
    for failure in bench.failures:
        print(f"failed: {failure}")
    machine = {"python": platform.python_version(), "cpus": multiprocessing.cpu_count(),
               "machine": platform.machine(), "prosody": package_version("prosody"),
               "ejabberd": package_version("ejabberd")}
    head = {"run": started, "quick": args.quick, "rounds": args.rounds, **machine}
    with args.json.open("a") as f:
        for row in bench.rows:
            f.write(json.dumps({**head, **row}) + "\n")
        for summary in report.summarize(bench.rows):
            f.write(json.dumps({**head, "summary": True, **summary}) + "\n")
        for failure in bench.failures:
            f.write(json.dumps({**head, "failure": True, **failure}) + "\n")
    print(f"\nJSON lines appended to {args.json}")
    if args.plot:
        report.plot(bench.rows, args.plot)


if __name__ == "__main__":
    main()
