"""Pubsub scenario (XEP-0060): publish → notification latency from one publisher to N
subscribers of one node on the server's pubsub service (``pubsub.localhost``). Same raw
client as the other scenarios, so it runs against minixmpp, Prosody and ejabberd alike.

The publisher creates the node (a ``conflict`` means it is there already), each
subscriber logs in, sends initial presence and subscribes its bare JID, waiting for the
result; then the publisher publishes items one after another (each waits for its IQ
result), every payload carrying its send time. Each subscriber stamps the bytes of every
notification (``<event xmlns='http://jabber.org/protocol/pubsub#event'>``) the moment it
reads them; the latency is receive time − send time, all in one process and one clock.
"""

from __future__ import annotations

import asyncio
import re
import time
from typing import Any

from benchmarks.xmppload import Conn, XMPPError

HOST = "127.0.0.1"
DOMAIN = "localhost"
NODE = "urn:bench:pubsub"
NS_PUBSUB = "http://jabber.org/protocol/pubsub"
STAMP = re.compile(rb"<t xmlns=['\"]urn:bench:pubsub['\"]>([0-9.]+)</t>")
#: bytes kept from a read with no complete stamp: one stamp cut in two is shorter
TAIL = 256


async def _iq(conn: Conn, iq_id: str, stanza: str, tolerate: bytes = b"") -> bytes:
    """Send ``stanza`` (an IQ with ``id=iq_id``) and return the server's answer; an error
    answer raises, unless it names ``tolerate`` (a condition such as ``<conflict``)."""
    conn.send(stanza)
    head = await conn.until(f"id='{iq_id}'".encode())
    start = head[head.rfind(b"<iq"):] + await conn.until(b">")
    answer = start if start.endswith(b"/>") else start + await conn.until(b"</iq>")
    tag = answer.split(b">", 1)[0]
    if b"type='error'" in tag or b'type="error"' in tag:
        if not tolerate or tolerate not in answer:
            raise XMPPError(f"{iq_id}: {answer[:500].decode(errors='replace')}")
    return answer


async def _subscriber(conn: Conn, got: dict[float, float], stop: asyncio.Event) -> None:
    """Record (send stamp → receive time) of each notification read, once per stamp."""
    buffer, conn.buffer = conn.buffer, b""
    while True:
        now = time.time()
        last = 0
        for match in STAMP.finditer(buffer):
            got.setdefault(float(match.group(1)), now)
            last = match.end()
        buffer = buffer[last:][-TAIL:]
        if stop.is_set():
            return
        try:
            chunk = await asyncio.wait_for(conn.reader.read(65536), 0.5)
        except TimeoutError:
            continue
        if not chunk:
            return
        buffer += chunk


async def latency(port: int, service: str, publisher: str, subscribers: list[str],
                  count: int, timeout: float = 30) -> dict[str, Any]:
    """``count`` publishes by ``publisher`` to ``NODE`` at ``service``; one notification
    each expected per subscriber. ``window`` is (first publish, last notification read),
    for the server's CPU over the measured part only."""
    pub = await Conn.open(HOST, port, DOMAIN)
    await pub.login(publisher, publisher, "pubsub")
    await _iq(pub, "create", f"<iq type='set' to='{service}' id='create'><pubsub "
                             f"xmlns='{NS_PUBSUB}'><create node='{NODE}'/></pubsub></iq>",
              tolerate=b"<conflict")
    conns = []
    for name in subscribers:
        conn = await Conn.open(HOST, port, DOMAIN)
        await conn.login(name, name, "pubsub")
        conn.send("<presence/>")
        await _iq(conn, "sub", f"<iq type='set' to='{service}' id='sub'><pubsub "
                               f"xmlns='{NS_PUBSUB}'><subscribe node='{NODE}' "
                               f"jid='{name}@{DOMAIN}'/></pubsub></iq>")
        conns.append(conn)
    got: list[dict[float, float]] = [{} for _ in conns]
    stop = asyncio.Event()
    tasks = [asyncio.create_task(_subscriber(conn, g, stop)) for conn, g in zip(
        conns, got, strict=True)]
    await asyncio.sleep(0.5)  # a last item sent on subscription is setup, not measured
    for g in got:
        g.clear()
    pub.buffer = b""
    start = time.time()
    for i in range(count):
        item = f"i{i}"
        await _iq(pub, f"pub-{item}", f"<iq type='set' to='{service}' id='pub-{item}'><pubsub "
                                      f"xmlns='{NS_PUBSUB}'><publish node='{NODE}'><item "
                                      f"id='{item}'><t xmlns='{NODE}'>{time.time():.6f}</t>"
                                      "</item></publish></pubsub></iq>")
    expected = count * len(conns)
    deadline = time.time() + timeout
    while sum(map(len, got)) < expected and time.time() < deadline:
        await asyncio.sleep(0.05)
    stop.set()
    await asyncio.gather(*tasks)
    for conn in [*conns, pub]:
        conn.abort()
    # stamps are rounded to the microsecond: one may read a hair before ``start``
    pairs = [(s, r) for g in got for s, r in g.items() if s >= start - 1e-3]
    end = max((r for _, r in pairs), default=time.time())
    return {"latencies": [r - s for s, r in pairs], "expected": expected,
            "window": (start, end)}
