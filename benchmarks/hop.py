"""The floor under every latency row: one message over loopback into an idle Twisted
process that does nothing with it.

The generator sends a timestamp every 20 ms (the push benchmark's pace) to a bare
Twisted protocol in another process, which notes the arrival time of each. What that
takes is the machine's (kernel, scheduler, waking an idle CPU), not any server's: a
server's latency can only be compared with it.
"""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
import time
from typing import Any

HOST = "127.0.0.1"

SERVER = r"""
import json, sys, time
from twisted.internet import protocol, reactor
got = []
class Hop(protocol.Protocol):
    def dataReceived(self, data):
        now = time.time()
        got.extend(now - float(t) for t in data.split(b";") if t)
    def connectionLost(self, reason):
        print(json.dumps(got), flush=True)
        reactor.stop()
factory = protocol.Factory.forProtocol(Hop)
port = reactor.listenTCP(0, factory, interface="127.0.0.1")
print(port.getHost().port, flush=True)
reactor.run()
"""


async def _send(port: int, count: int, interval: float) -> None:
    _, writer = await asyncio.open_connection(HOST, port)
    for _ in range(count):
        writer.write(b"%.6f;" % time.time())
        await asyncio.sleep(interval)
    writer.close()
    await writer.wait_closed()


def one_way(count: int = 200, interval: float = 0.02) -> list[float]:
    """One-way loopback latencies (seconds) into an idle Twisted process."""
    server = subprocess.Popen([sys.executable, "-c", SERVER], stdout=subprocess.PIPE,
                              text=True)
    try:
        assert server.stdout is not None
        port = int(server.stdout.readline())
        asyncio.run(_send(port, count, interval))
        latencies: list[Any] = json.loads(server.stdout.readline())
        server.wait(10)
    finally:
        if server.poll() is None:
            server.kill()
            server.wait()
    return latencies


if __name__ == "__main__":
    values = sorted(one_way())
    print(f"one-way loopback hop p50 {values[len(values) // 2] * 1e3:.3f} ms")
