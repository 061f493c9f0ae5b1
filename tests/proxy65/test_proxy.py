"""The SOCKS5 bytestream proxy (XEP-0065) at proxy.localhost: two slixmpp clients with
``xep_0065`` find it, negotiate, and transfer a file through it; raw SOCKS5 connections
show the refusals: an unknown hash, a bytestream not activated (and the bytes sent before
activation), the activation timeout, and the limits on bytestreams and bytes."""

from __future__ import annotations

import asyncio
import hashlib
import os

import pytest
from slixmpp.exceptions import IqError

from tests.helpers import close, eventually, http, login

PROXY = "proxy.localhost"
ALICE, BOB = "alice@localhost/test", "bob@localhost/test"


def digest(sid: str, requester: str = ALICE, target: str = BOB) -> bytes:
    """§6.3.2: the DST.ADDR, SHA1(SID + Requester JID + Target JID) in hex."""
    return hashlib.sha1(f"{sid}{requester}{target}".encode()).hexdigest().encode()


def proxy_port(server) -> int:
    return server.service("proxy65").address[1]


async def socks5(server, dst: bytes) -> tuple[asyncio.StreamReader, asyncio.StreamWriter,
                                              bytes]:
    """Greeting and CONNECT (RFC 1928 §3, §4 as XEP-0065 §8 fixes them); the reply."""
    reader, writer = await asyncio.open_connection("127.0.0.1", proxy_port(server))
    writer.write(b"\x05\x01\x00")
    assert await asyncio.wait_for(reader.readexactly(2), 5) == b"\x05\x00"
    writer.write(b"\x05\x01\x00\x03" + bytes([len(dst)]) + dst + b"\x00\x00")
    reply = await asyncio.wait_for(reader.read(7 + len(dst)), 5)
    return reader, writer, reply


def succeeded(reply: bytes, dst: bytes) -> bool:
    """§6.3.3: success, BND.ADDR and BND.PORT as the request's DST.ADDR and DST.PORT."""
    return reply == b"\x05\x00\x00\x03" + bytes([len(dst)]) + dst + b"\x00\x00"


async def closed(reader: asyncio.StreamReader, timeout: float = 5) -> bytes:
    """Everything until the proxy closes the connection."""
    try:
        return await asyncio.wait_for(reader.read(), timeout)
    except ConnectionResetError:
        return b""


async def activate(client, sid: str, target: str = BOB) -> None:
    await client["xep_0065"].activate(PROXY, sid, target, timeout=5)


async def error_of(awaitable) -> str:
    with pytest.raises(IqError) as caught:
        await awaitable
    return caught.value.iq["error"]["condition"]


async def test_two_slixmpp_clients_transfer_a_file_through_the_proxy(server) -> None:
    alice = await login(server, "alice", plugins=("xep_0030", "xep_0065"))
    bob = await login(server, "bob", plugins=("xep_0030", "xep_0065"))
    bob["xep_0065"].auto_accept = True
    received: list[bytes] = []
    bob.add_event_handler("socks5_data", received.append)
    proxies = await alice["xep_0065"].discover_proxies(timeout=5)
    assert {str(j): (h, str(p)) for j, (h, p) in proxies.items()} == {
        PROXY: ("127.0.0.1", str(proxy_port(server)))}
    sock = await alice["xep_0065"].handshake(BOB, sid="file-1", timeout=5)
    payload = os.urandom(1 << 20)
    for start in range(0, len(payload), 65536):
        await sock.write(payload[start:start + 65536])
    await eventually(lambda: sum(map(len, received)) >= len(payload), timeout=20)
    assert hashlib.sha256(b"".join(received)).digest() == hashlib.sha256(payload).digest()
    assert server.service("proxy65").relay.streams[digest("file-1").decode()].active
    # the requester closes: the target's connection closes too, and the stream is gone
    bob_closed = asyncio.ensure_future(bob.wait_until("socks5_closed", 5))
    sock.transport.close()  # (slixmpp's deactivate() calls a close() its protocol lacks)
    await bob_closed
    await eventually(lambda: not server.service("proxy65").relay.streams)
    await close(alice, bob)


async def test_the_proxy_is_discoverable_and_answers_its_address(server) -> None:
    alice = await login(server, "alice", plugins=("xep_0030", "xep_0065"))
    items = await alice["xep_0030"].get_items(jid="localhost", timeout=5)
    assert PROXY in {str(i[0]) for i in items["disco_items"]["items"]}
    info = await alice["xep_0030"].get_info(jid=PROXY, timeout=5)
    assert ("proxy", "bytestreams") in {i[:2] for i in info["disco_info"]["identities"]}
    assert "http://jabber.org/protocol/bytestreams" in info["disco_info"]["features"]
    streamhost = (await alice["xep_0065"].get_network_address(PROXY, timeout=5)
                  )["socks"]["streamhost"]
    assert (str(streamhost["jid"]), streamhost["host"], int(streamhost["port"])) == \
        (PROXY, "127.0.0.1", proxy_port(server))
    status, state = await http("GET", f"http://127.0.0.1:{server.ports().http}/api/state")
    assert state["proxy65"]["port"] == proxy_port(server)
    await close(alice)


async def test_activation_refusals_and_bytes_before_activation(server) -> None:
    alice = await login(server, "alice", plugins=("xep_0065",))
    # an unknown hash: nobody connected with it
    assert await error_of(activate(alice, "nobody-here")) == "item-not-found"
    # only the target connected: not-allowed
    dst = digest("s1")
    t_reader, t_writer, reply = await socks5(server, dst)
    assert succeeded(reply, dst)
    assert await error_of(activate(alice, "s1")) == "not-allowed"
    # the requester joins and writes before activation: those bytes are dropped
    r_reader, r_writer, reply = await socks5(server, dst)
    assert succeeded(reply, dst)
    r_writer.write(b"too early")
    await asyncio.sleep(0.1)
    # a third connection with the same hash is refused (§8: one target)
    _, _, reply = await socks5(server, dst)
    assert reply[:2] == b"\x05\x02"
    # activated by someone else's JID: the hash differs
    bob = await login(server, "bob", plugins=("xep_0065",))
    assert await error_of(bob["xep_0065"].activate(PROXY, "s1", BOB, timeout=5)) == \
        "item-not-found"
    await activate(alice, "s1")
    assert await error_of(activate(alice, "s1")) == "not-allowed"  # only once
    r_writer.write(b"on time")
    assert await asyncio.wait_for(t_reader.readexactly(7), 5) == b"on time"
    t_writer.write(b"and back")
    assert await asyncio.wait_for(r_reader.readexactly(8), 5) == b"and back"
    r_writer.close()
    assert await closed(t_reader) == b""
    t_writer.close()
    await close(alice, bob)


async def test_not_socks5_or_not_connect_is_refused(server) -> None:
    reader, writer = await asyncio.open_connection("127.0.0.1", proxy_port(server))
    writer.write(b"\x05\x01\x02")  # username/password only
    assert await closed(reader) == b"\x05\xff"
    reader, writer = await asyncio.open_connection("127.0.0.1", proxy_port(server))
    writer.write(b"\x05\x01\x00")
    await reader.readexactly(2)
    writer.write(b"\x05\x02\x00\x03\x28" + digest("x") + b"\x00\x00")  # BIND
    assert (await closed(reader))[:2] == b"\x05\x07"
    reader, writer = await asyncio.open_connection("127.0.0.1", proxy_port(server))
    writer.write(b"\x05\x01\x00")
    await reader.readexactly(2)
    writer.write(b"\x05\x01\x00\x01\x7f\x00\x00\x01\x00\x50")  # an IPv4 address
    assert (await closed(reader))[:2] == b"\x05\x08"
    reader, writer = await asyncio.open_connection("127.0.0.1", proxy_port(server))
    writer.write(b"\x04\x01\x00\x50\x7f\x00\x00\x01\x00")  # SOCKS4
    assert await closed(reader) == b""


@pytest.mark.server_options(proxy65_timeout=1)
async def test_a_connection_never_activated_is_closed(server) -> None:
    reader, writer, reply = await socks5(server, digest("slow"))
    assert succeeded(reply, digest("slow"))
    started = asyncio.get_event_loop().time()
    assert await closed(reader, timeout=5) == b""
    assert asyncio.get_event_loop().time() - started >= 0.5
    await eventually(lambda: not server.service("proxy65").relay.streams)
    writer.close()


@pytest.mark.server_options(proxy65_max_streams=1, proxy65_max_bytes=1000)
async def test_streams_and_bytes_are_bounded(server) -> None:
    alice = await login(server, "alice", plugins=("xep_0065",))
    dst = digest("big")
    t_reader, t_writer, _ = await socks5(server, dst)
    # a second bytestream while one exists: not allowed by the rules (RFC 1928 X'02')
    _, _, reply = await socks5(server, digest("other"))
    assert reply[:2] == b"\x05\x02"
    r_reader, r_writer, _ = await socks5(server, dst)
    # two connections per bytestream: a third TCP connection is closed at once
    reader, _ = await asyncio.open_connection("127.0.0.1", proxy_port(server))
    assert await closed(reader) == b""
    await activate(alice, "big")
    r_writer.write(b"x" * 600)
    assert len(await asyncio.wait_for(t_reader.readexactly(600), 5)) == 600
    r_writer.write(b"y" * 600)  # 1200 > 1000: both ends are closed, nothing more relayed
    assert await closed(t_reader) == b""
    assert await closed(r_reader) == b""
    await eventually(lambda: not server.service("proxy65").relay.streams)
    t_writer.close()
    r_writer.close()
    await close(alice)


@pytest.mark.server_options(disable=["proxy65"])
async def test_switched_off_there_is_no_proxy(server) -> None:
    alice = await login(server, "alice", plugins=("xep_0030", "xep_0065"))
    items = await alice["xep_0030"].get_items(jid="localhost", timeout=5)
    assert PROXY not in {str(i[0]) for i in items["disco_items"]["items"]}
    assert await error_of(alice["xep_0065"].get_network_address(PROXY, timeout=5)) == \
        "remote-server-not-found"
    assert server.service("proxy65") is None
    await close(alice)


@pytest.mark.server_options(domains=["a.test", "b.test"],
                            user=("alice@a.test:alice", "bob@b.test:bob"))
async def test_one_proxy_serves_every_domain(server) -> None:
    """The process has one proxy, at proxy.a.test; b.test lists it too, and its accounts
    use it."""

    class B:  # what login() reads of a server, for the second domain
        port, tls, settings = server.port, server.tls, type("S", (), {"domain": "b.test"})

    bob = await login(B, "bob", plugins=("xep_0030", "xep_0065"))
    alice = await login(server, "alice", plugins=("xep_0030", "xep_0065"))
    alice["xep_0065"].auto_accept = True
    received: list[bytes] = []
    alice.add_event_handler("socks5_data", received.append)
    assert list(map(str, await bob["xep_0065"].discover_proxies(timeout=5))) == ["proxy.a.test"]
    sock = await bob["xep_0065"].handshake("alice@a.test/test", sid="cross", timeout=5)
    await sock.write(b"across domains")
    await eventually(lambda: b"".join(received) == b"across domains")
    sock.transport.close()
    await close(alice, bob)
