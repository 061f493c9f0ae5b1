"""The floor under every latency row: one message over loopback into an idle Twisted
process that does nothing with it.

The generator sends a timestamp every 20 ms (the push benchmark's pace) to a bare
Twisted protocol in another process, which notes the arrival time of each. What that
takes is the machine's (kernel, scheduler, waking an idle CPU), not any server's: a
server's latency can only be compared with it.

``--elements N`` has the same process build N small XML elements (domish, as a server
builds a push publish) for each read before it notes the time: what the least Python
work costs right after an idle wake-up, when caches are cold.
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
from twisted.words.xish import domish
ELEMENTS = int(sys.argv[1])
got = []
class Hop(protocol.Protocol):
    def dataReceived(self, data):
        if ELEMENTS:
            parent = domish.Element(("urn:example", "x"))
            for i in range(ELEMENTS - 1):
                parent.addElement("field")["var"] = str(i)
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


def one_way(count: int = 200, interval: float = 0.02, elements: int = 0) -> list[float]:
    """One-way loopback latencies (seconds) into an idle Twisted process (that builds
    ``elements`` XML elements per read first)."""
    server = subprocess.Popen([sys.executable, "-c", SERVER, str(elements)],
                              stdout=subprocess.PIPE, text=True)
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
    import argparse

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--elements", type=int, default=0,
                        help="XML elements the idle process builds per read (default 0)")
    args = parser.parse_args()
    for elements in sorted({0, args.elements}):
        values = sorted(one_way(elements=elements))
        print(f"one-way loopback hop p50 {values[len(values) // 2] * 1e3:.3f} ms "
              f"({elements} elements built per read)")
