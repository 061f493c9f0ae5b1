"""Load scenarios, run in worker processes (one asyncio loop each).

Every scenario returns plain data (lists of seconds, counts) plus the CPU seconds the
worker spent, so the report can show that the generator was not the bottleneck.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import re
import time
from typing import Any

from benchmarks.xmppload import BODY, Conn, WSConn

HOST = "127.0.0.1"
DOMAIN = "localhost"


def account(i: int) -> str:
    return f"bench{i}"


def run(coro_fn: Any, *args: Any) -> dict[str, Any]:
    """Process entry point: run one scenario and add the worker's CPU time."""
    cpu = time.process_time()
    result = asyncio.run(coro_fn(*args))
    result["worker_cpu"] = time.process_time() - cpu
    return result


async def login_once(port: int, user: str, resource: str, mechanism: str,
                     fast: dict[str, Any] | None = None) -> float:
    """One login: ``SCRAM-SHA-1``/``PLAIN`` (legacy SASL + bind), ``SASL2`` (SASL2
    SCRAM-SHA-1 + Bind2) or ``FAST`` (a token from ``fast``, one round trip); then the
    client ends its stream and goes."""
    start = time.perf_counter()
    conn = await Conn.open(HOST, port, DOMAIN)
    if mechanism == "SASL2":
        await conn.login_sasl2(user, user, resource)
    elif mechanism == "FAST":
        assert fast is not None
        fast["count"] += 1
        await conn.login_fast(user, fast["token"], fast["agent"], fast["count"])
    else:
        await conn.login(user, user, resource, mechanism)
    elapsed = time.perf_counter() - start
    conn.leave()
    return elapsed


async def fast_token(port: int, user: str, agent: str) -> dict[str, Any]:
    """A FAST token for (user, agent), fetched with one SASL2 login (not timed)."""
    conn = await Conn.open(HOST, port, DOMAIN)
    token = await conn.login_sasl2(user, user, agent, request_token=True)
    await conn.close()
    return {"token": token, "agent": agent, "count": 0}


async def logins(port: int, count: int, inflight: int, mechanism: str, worker: int
                 ) -> dict[str, Any]:
    """``count`` logins (open, authenticate, bind, close), ``inflight`` at a time."""
    latencies: list[float] = []
    next_index = iter(range(count))

    async def lane(lane_no: int) -> None:
        tokens: dict[str, dict[str, Any]] = {}
        for i in next_index:
            user = account(1 + i % 40)
            fast = None
            if mechanism == "FAST":
                if user not in tokens:
                    tokens[user] = await fast_token(port, user, f"bench-w{worker}l{lane_no}")
                fast = tokens[user]
            latencies.append(await login_once(port, user, f"w{worker}l{lane_no}i{i}",
                                              mechanism, fast))

    start = time.perf_counter()
    await asyncio.gather(*(lane(n) for n in range(inflight)))
    return {"latencies": latencies, "elapsed": time.perf_counter() - start}


async def _pair_sessions(port: int, pairs: range, cls: type[Conn] = Conn,
                         mechanism: str = "SCRAM-SHA-1") -> tuple[list[Conn], list[Conn]]:
    senders, receivers = [], []
    for i in pairs:
        receiver = await cls.open(HOST, port, DOMAIN)
        await receiver.login(account(20 + i), account(20 + i), "r", mechanism)
        sender = await cls.open(HOST, port, DOMAIN)
        await sender.login(account(i), account(i), "s", mechanism)
        receivers.append(receiver)
        senders.append(sender)
    return senders, receivers


async def throughput(port: int, pairs: range, seconds: float, window: int, start_at: float
                     ) -> dict[str, Any]:
    """Each sender keeps ``window`` messages in flight to its receiver (full JID)."""
    senders, receivers = await _pair_sessions(port, pairs)
    received = [0] * len(senders)
    sent = [0] * len(senders)
    deadline = start_at + seconds
    progress = [asyncio.Event() for _ in senders]

    async def receive(k: int) -> None:
        conn = receivers[k]
        while time.time() < deadline + 2:
            try:
                chunk = await asyncio.wait_for(conn.reader.read(1 << 20), 1)
            except TimeoutError:
                continue
            if not chunk:
                return
            conn.buffer += chunk
            n = conn.buffer.count(b"</message>")
            if n:
                received[k] += n
                conn.buffer = conn.buffer[conn.buffer.rindex(b"</message>") + 10:]
                progress[k].set()

    async def send(k: int, i: int) -> None:
        to = f"{account(20 + i)}@{DOMAIN}/r"
        stanza = (f"<message to='{to}' type='chat'><body>benchmark message with some "
                  f"text in it</body></message>").encode()
        await asyncio.sleep(max(0, start_at - time.time()))
        while time.time() < deadline:
            room = window - (sent[k] - received[k])
            if room > 0:
                senders[k].writer.write(stanza * room)
                sent[k] += room
                await senders[k].writer.drain()
            else:
                progress[k].clear()
                try:
                    await asyncio.wait_for(progress[k].wait(), 1)
                except TimeoutError:
                    pass

    tasks = [asyncio.create_task(receive(k)) for k in range(len(senders))]
    await asyncio.gather(*(send(k, i) for k, i in enumerate(pairs)))
    counted = sum(received)
    await asyncio.sleep(0.5)
    for task in tasks:
        task.cancel()
    for conn in senders + receivers:
        conn.abort()
    return {"received": counted, "seconds": seconds}


class _Timestamps(asyncio.Protocol):
    """Takes over a receiver's transport: one-way latency computed the moment the bytes
    arrive (no StreamReader or task wake-ups in between)."""

    def __init__(self, latencies: list[float], pending: bytes) -> None:
        self.latencies = latencies
        self.buffer = pending

    def data_received(self, data: bytes) -> None:
        now = time.time()
        self.buffer += data
        for match in BODY.finditer(self.buffer):
            self.latencies.append(now - float(match.group(1)))
        if b"</message>" in self.buffer:
            self.buffer = self.buffer[self.buffer.rindex(b"</message>") + 10:]


async def latency(port: int, pairs: range, rate: float, seconds: float, start_at: float,
                  websocket: bool = False) -> dict[str, Any]:
    """Messages at a fixed total rate; one-way latency from the timestamp in the body.
    Over TCP, or over WebSocket (``port`` is then the HTTP listener's): the same
    receivers either way, stamping bytes the moment they arrive (a WebSocket frame
    header does not hide the body's digits)."""
    cls = WSConn if websocket else Conn
    senders, receivers = await _pair_sessions(port, pairs, cls,
                                              "PLAIN" if websocket else "SCRAM-SHA-1")
    latencies: list[float] = []
    deadline = start_at + seconds
    for conn in receivers:
        pending = conn.frames if isinstance(conn, WSConn) else conn.buffer
        conn.writer.transport.set_protocol(_Timestamps(latencies, pending))

    async def send(conn: Conn, i: int) -> None:
        interval = 1 / rate
        to = f"{account(20 + i)}@{DOMAIN}/r"
        next_time = start_at + interval * (i % 20) / 20  # spread the 20 senders evenly
        while next_time < deadline:
            await asyncio.sleep(max(0, next_time - time.time()))
            conn.send(f"<message to='{to}' type='chat'><body>{time.time():.6f}"
                      "</body></message>")
            next_time += interval

    await asyncio.gather(*(send(c, i) for c, i in zip(senders, pairs, strict=True)))
    await asyncio.sleep(1)
    for conn in senders + receivers:
        conn.abort()
    return {"latencies": latencies}


async def idle(port: int, count: int, worker: int, pipe: Any) -> dict[str, Any]:
    """Open ``count`` authenticated, bound, idle sessions; hold them until told."""
    conns: list[Conn] = []
    errors = 0
    index = iter(range(count))

    async def lane() -> None:
        nonlocal errors
        for i in index:
            try:
                conn = await Conn.open(HOST, port, DOMAIN)
                await asyncio.wait_for(conn.login(account(1 + i % 40), account(1 + i % 40),
                                                  f"idle{worker}-{i}"), 20)
                conns.append(conn)
            except Exception:  # noqa: BLE001  (counted and reported)
                errors += 1

    await asyncio.gather(*(lane() for _ in range(50)))
    pipe.send({"open": len(conns), "errors": errors})
    await asyncio.get_running_loop().run_in_executor(None, pipe.recv)
    for conn in conns:
        conn.abort()
    return {"open": len(conns), "errors": errors}


def run_idle(port: int, count: int, worker: int, pipe: Any) -> None:
    pipe.send(("done", run(idle, port, count, worker, pipe)))


async def push_latency(port: int, component_port: int, component: str, secret: str,
                       service: str, count: int) -> dict[str, Any]:
    """Message sent → publish received by an external XEP-0114 App Server (and the send
    times, for the in-process App Server's own record)."""
    received: list[float] = []
    app = None
    if component_port:
        reader, writer = await asyncio.open_connection(HOST, component_port)
        app = Conn(reader, writer, component)
        app.send(f"<stream:stream xmlns='jabber:component:accept' "
                 f"xmlns:stream='http://etherx.jabber.org/streams' to='{component}'>")
        header = await app.until(b">")
        if b"id=" not in header:
            header += await app.until(b">")
        sid = re.search(rb"id=['\"]([^'\"]+)", header).group(1).decode()
        app.send(f"<handshake>{hashlib.sha1((sid + secret).encode()).hexdigest()}</handshake>")
        await app.until(b"<handshake")

        async def serve() -> None:
            while True:
                chunk = await reader.read(65536)
                if not chunk:
                    return
                app.buffer += chunk
                while b"</iq>" in app.buffer:
                    iq, app.buffer = app.buffer.split(b"</iq>", 1)
                    if b"pubsub" in iq:
                        received.append(time.time())
                    start = iq.rindex(b"<iq")
                    attrs = dict(re.findall(rb"(\w+)=['\"]([^'\"]*)['\"]", iq[start:].split(
                        b">", 1)[0]))
                    if attrs.get(b"type") == b"set":
                        writer.write(b"<iq type='result' id='" + attrs[b"id"] + b"' to='" +
                                     attrs[b"from"] + b"' from='" + attrs[b"to"] + b"'/>")

        server_task = asyncio.create_task(serve())
    phone = await Conn.open(HOST, port, DOMAIN)
    await phone.login("pushee", "pushee", "phone")
    await phone.enable_push(service, "bench-node")
    await phone.close()
    bob = await Conn.open(HOST, port, DOMAIN)
    await bob.login("bench1", "bench1", "sender")
    sent: list[float] = []
    for i in range(count):
        sent.append(time.time())
        bob.send(f"<message to='pushee@{DOMAIN}' type='chat'><body>push {i}</body></message>")
        await asyncio.sleep(0.02)
    await asyncio.sleep(1)
    await bob.close()
    if app is not None:
        server_task.cancel()
        app.abort()
    return {"sent": sent, "received": received}


# -- group chat (XEP-0045) -----------------------------------------------------------------

ROOM = f"bench@conference.{DOMAIN}"
NS_MUC = "http://jabber.org/protocol/muc"


async def muc_room(port: int, occupants: int, senders: int, messages: int,
                   timeout: float = 60) -> dict[str, Any]:
    """``occupants`` accounts join one room (join latency: from the join presence to the
    subject, the end of XEP-0045 §7.2's flow); then ``senders`` of them send ``messages``
    groupchat messages each, and every occupant counts what the room reflects to it
    (fan-out: deliveries per second)."""
    conns: list[Conn] = []
    joins: list[float] = []
    for i in range(occupants):
        conn = await Conn.open(HOST, port, DOMAIN)
        await conn.login(account(1 + i), account(1 + i), "muc")
        start = time.perf_counter()
        conn.send(f"<presence to='{ROOM}/n{i}'><x xmlns='{NS_MUC}'>"
                  "<history maxstanzas='0'/></x></presence>")
        await conn.until_any(b"</subject>", b"<subject/>")
        joins.append(time.perf_counter() - start)
        if i == 0:  # the creator: an instant room (XEP-0045 §10.1.2), on every server
            conn.send(f"<iq type='set' id='cfg' to='{ROOM}'><query xmlns='{NS_MUC}#owner'>"
                      "<x xmlns='jabber:x:data' type='submit'/></query></iq>")
            await conn.until(b"id='cfg'")
            await conn.until(b">")
        conn.buffer = b""
        conns.append(conn)
    expected = occupants * senders * messages
    counts = [0] * occupants
    done = asyncio.Event()

    async def receive(k: int) -> None:
        conn = conns[k]
        while True:
            chunk = await conn.reader.read(1 << 20)
            if not chunk:
                return
            conn.buffer += chunk
            n = conn.buffer.count(b"</body>")
            if n:
                counts[k] += n
                conn.buffer = conn.buffer[conn.buffer.rindex(b"</body>") + 7:]
                if sum(counts) >= expected:
                    done.set()

    tasks = [asyncio.create_task(receive(k)) for k in range(occupants)]
    start, wall = time.perf_counter(), time.time()
    for s in range(senders):
        stanza = (f"<message to='{ROOM}' type='groupchat'><body>fan-out message from "
                  f"n{s}</body></message>").encode()
        conns[s].writer.write(stanza * messages)
    try:
        await asyncio.wait_for(done.wait(), timeout)
    except TimeoutError:
        pass
    elapsed = time.perf_counter() - start
    for task in tasks:
        task.cancel()
    for conn in conns:
        conn.abort()
    return {"joins": joins, "deliveries": sum(counts), "expected": expected,
            "elapsed": elapsed, "window": (wall, wall + elapsed)}
# -- WebSocket (RFC 7395): the same steps over the HTTP listener ----------------------------

async def ws_logins(http_port: int, count: int, inflight: int, worker: int) -> dict[str, Any]:
    """``count`` WebSocket logins (open, SASL PLAIN, bind, close), ``inflight`` at a time."""
    latencies: list[float] = []
    next_index = iter(range(count))

    async def lane(lane_no: int) -> None:
        for i in next_index:
            start = time.perf_counter()
            conn = await WSConn.open(HOST, http_port, DOMAIN)
            user = account(1 + i % 40)
            await conn.login(user, user, f"ws{worker}l{lane_no}i{i}", "PLAIN")
            latencies.append(time.perf_counter() - start)
            conn.leave()

    start = time.perf_counter()
    await asyncio.gather(*(lane(n) for n in range(inflight)))
    return {"latencies": latencies, "elapsed": time.perf_counter() - start}


async def ws_latency(http_port: int, pairs: range, rate: float, seconds: float,
                     start_at: float) -> dict[str, Any]:
    """:func:`latency` between WebSocket clients."""
    return await latency(http_port, pairs, rate, seconds, start_at, websocket=True)


# -- BOSH (XEP-0124/0206): idle sessions, one request held each ------------------------------

HTTPBIND = "http://jabber.org/protocol/httpbind"


class BoshConn:
    """One BOSH session on its own keep-alive HTTP connection (plain asyncio, as the
    XMPP clients above): PLAIN, restart, bind, then always one request held."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter,
                 port: int) -> None:
        self.reader, self.writer, self.port = reader, writer, port
        self.rid = 1000
        self.sid = ""

    @classmethod
    async def open(cls, port: int) -> BoshConn:
        reader, writer = await asyncio.open_connection(HOST, port)
        return cls(reader, writer, port)

    async def post(self, inner: str = "", **attrs: str) -> str:
        self.rid += 1
        extra = "".join(f" {k.replace('_', ':')}='{v}'" for k, v in attrs.items())
        sid = f" sid='{self.sid}'" if self.sid else ""
        data = (f"<body xmlns='{HTTPBIND}' rid='{self.rid}'{sid} xmlns:xmpp='urn:xmpp:xbosh'"
                f"{extra}>{inner}</body>").encode()
        # Host: the domain, so Prosody's HTTP server finds its VirtualHost's mod_bosh
        self.writer.write(f"POST /http-bind HTTP/1.1\r\nHost: {DOMAIN}:{self.port}\r\n"
                          "Content-Type: text/xml; charset=utf-8\r\n"
                          f"Content-Length: {len(data)}\r\n\r\n".encode() + data)
        head = await self.reader.readuntil(b"\r\n\r\n")
        length = re.search(rb"(?i)\r\ncontent-length: *(\d+)", head)
        if length:
            return (await self.reader.readexactly(int(length.group(1)))).decode()
        body = b""  # Transfer-Encoding: chunked
        while True:
            size = int((await self.reader.readuntil(b"\r\n")).split(b";")[0], 16)
            chunk = await self.reader.readexactly(size + 2)
            if size == 0:
                return body.decode()
            body += chunk[:-2]

    async def until(self, token: str, text: str) -> str:
        """Poll until ``token`` came (in ``text`` or a later answer)."""
        while token not in text:
            if "type='terminate'" in text or 'type="terminate"' in text:
                raise RuntimeError(f"BOSH session ended: {text[:300]}")
            text = await self.post()
        return text

    async def login(self, user: str, resource: str) -> None:
        text = await self.post(to=DOMAIN, wait="60", hold="1", ver="1.11",
                               xmpp_version="1.0")
        self.sid = re.search(r"sid=['\"]([^'\"]+)", text).group(1)
        await self.until("mechanisms", text)
        auth = base64.b64encode(f"\0{user}\0{user}".encode()).decode()
        await self.until("<success", await self.post(
            f"<auth xmlns='urn:ietf:params:xml:ns:xmpp-sasl' mechanism='PLAIN'>{auth}</auth>"))
        await self.until("bind", await self.post(xmpp_restart="true", to=DOMAIN))
        await self.until("</jid>", await self.post(
            "<iq xmlns='jabber:client' type='set' id='bind'><bind xmlns='urn:ietf:params:xml:"
            f"ns:xmpp-bind'><resource>{resource}</resource></bind></iq>"))

    async def hold(self) -> None:
        """Keep one request held, forever (each answered after ``wait``: the next)."""
        while True:
            await self.post()

    def abort(self) -> None:
        self.writer.transport.abort()


async def bosh_idle(http_port: int, count: int, worker: int, pipe: Any) -> dict[str, Any]:
    """Open ``count`` BOSH sessions (logged in, bound, one request held each); hold them
    until told."""
    conns: list[BoshConn] = []
    holders: list[asyncio.Task[None]] = []
    errors = 0
    index = iter(range(count))

    async def lane() -> None:
        nonlocal errors
        for i in index:
            try:
                conn = await BoshConn.open(http_port)
                await asyncio.wait_for(conn.login(account(1 + i % 40), f"bosh{worker}-{i}"),
                                       30)
                conns.append(conn)
                holders.append(asyncio.create_task(conn.hold()))
            except Exception:  # noqa: BLE001  (counted and reported)
                errors += 1

    await asyncio.gather(*(lane() for _ in range(50)))
    pipe.send({"open": len(conns), "errors": errors})
    await asyncio.get_running_loop().run_in_executor(None, pipe.recv)
    for task in holders:
        task.cancel()
    for conn in conns:
        conn.abort()
    return {"open": len(conns), "errors": errors}


def run_bosh_idle(http_port: int, count: int, worker: int, pipe: Any) -> None:
    pipe.send(("done", run(bosh_idle, http_port, count, worker, pipe)))
