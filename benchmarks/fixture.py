"""Fixture benchmark: in-process server ready for a login, and a whole push test.

Run: ``.venv/bin/python -m benchmarks.fixture [--runs 100]``. Prints medians and p90s.
(1) start: ``Server`` built and listening, as the ``xmpp_server`` fixture does it;
(2) first login: TestClient connect + SASL PLAIN + bind (no TLS) on the fresh server;
(3) e2e push test: start, login, enable, disconnect, message, push awaited, stop;
(4) async fixture ready: the same start through ``async_xmpp_server``'s reactor thread.
"""

from __future__ import annotations

import argparse
import statistics
import time

from twisted.internet import defer, task


def quantiles(samples: list[float]) -> str:
    ms = sorted(s * 1000 for s in samples)
    p90 = ms[int(len(ms) * 0.9) - 1]
    return f"median {statistics.median(ms):7.2f} ms   p90 {p90:7.2f} ms   (n={len(ms)})"


async def measure(reactor, runs: int) -> None:
    from minixmpp.testing.fixture import start

    starts, logins, e2e = [], [], []
    for _ in range(runs):
        t0 = time.perf_counter()
        server = start(reactor)
        t1 = time.perf_counter()
        client = await server.login("alice", tls=False)
        t2 = time.perf_counter()
        starts.append(t1 - t0)
        logins.append(t2 - t1)
        await client.disconnect()
        await server.server.stopService()
    for _ in range(runs):
        t0 = time.perf_counter()
        server = start(reactor)
        phone = await server.login("alice", resource="phone", tls=False)
        await phone.enable_push("bench", service=server.push_jid)
        await phone.disconnect()
        bob = await server.login("bob", tls=False)
        bob.send_message("alice@localhost", "hi")
        await server.wait_for_push(account="alice", timeout=5)
        await bob.disconnect()
        await server.server.stopService()
        e2e.append(time.perf_counter() - t0)
    from minixmpp.testing.threaded import start_async

    threaded = []
    for _ in range(runs):
        t0 = time.perf_counter()
        server = start_async()
        threaded.append(time.perf_counter() - t0)
        server.stop()
    print(f"fixture ready for login      {quantiles(starts)}")
    print(f"first login (PLAIN, no TLS)  {quantiles(logins)}")
    print(f"whole e2e push test          {quantiles(e2e)}")
    print(f"async fixture ready          {quantiles(threaded)}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=100)
    args = parser.parse_args()
    task.react(lambda reactor: defer.ensureDeferred(measure(reactor, args.runs)))


if __name__ == "__main__":
    main()
