"""PEP scenarios (XEP-0163): publish → notification latency to 10 contacts, and the
memory PEP data costs per account. Same raw client as the other scenarios, so they run
against minixmpp and Prosody alike.

Contacts announce ``urn:bench:pep+notify`` with a real XEP-0115 hash and answer the
server's disco#info query themselves; the owner publishes items whose payload carries the
send time.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import re
import time
from typing import Any

from benchmarks.xmppload import Conn

HOST = "127.0.0.1"
DOMAIN = "localhost"
NODE = "urn:bench:pep"
CAPS_NODE = "urn:bench:client"
IDENTITY = "client/pc//bench"
FEATURES = sorted(["http://jabber.org/protocol/caps", "http://jabber.org/protocol/disco#info",
                   f"{NODE}+notify"])
VER = base64.b64encode(hashlib.sha1(
    (IDENTITY + "<" + "".join(f + "<" for f in FEATURES)).encode()).digest()).decode()
DISCO = re.compile(rb"<iq[^>]*>\s*<query[^>]*disco#info[^>]*/?>")
ATTR = re.compile(rb"""(\w+)=['"]([^'"]*)['"]""")
STAMP = re.compile(rb"<t xmlns=['\"]urn:bench:pep['\"]>([0-9.]+)</t>")


def _answer(conn: Conn, iq: bytes) -> None:
    attrs = {k.decode(): v.decode() for k, v in ATTR.findall(iq.split(b">", 1)[0])}
    if attrs.get("type") != "get":
        return
    features = "".join(f"<feature var='{f}'/>" for f in FEATURES)
    conn.send(f"<iq type='result' id='{attrs.get('id', '')}' to='{attrs.get('from', '')}'>"
              f"<query xmlns='http://jabber.org/protocol/disco#info' "
              f"node='{CAPS_NODE}#{VER}'><identity category='client' type='pc' "
              f"name='bench'/>{features}</query></iq>")


async def _contact(conn: Conn, received: list[tuple[float, float]], stop: asyncio.Event
                   ) -> None:
    """Answer disco#info, record (sent, received) of each notification."""
    buffer = b""
    while not stop.is_set():
        try:
            chunk = await asyncio.wait_for(conn.reader.read(65536), 0.5)
        except TimeoutError:
            continue
        if not chunk:
            return
        buffer += chunk
        for match in DISCO.finditer(buffer):
            _answer(conn, match.group(0))
        now = time.time()
        for stamp in STAMP.findall(buffer):
            received.append((float(stamp), now))
        cut = max(buffer.rfind(b"</message>"), buffer.rfind(b"</iq>"), buffer.rfind(b"/>"))
        if cut >= 0:
            buffer = buffer[cut:]


async def _subscribe(owner: Conn, owner_jid: str, contacts: list[tuple[Conn, str]]) -> None:
    """Mutual presence subscriptions (RFC 6121 §3), answered at once."""
    for conn, jid in contacts:
        owner.send(f"<presence to='{jid}' type='subscribe'/>")
        conn.send(f"<presence to='{owner_jid}' type='subscribe'/>")
    await asyncio.sleep(0.3)
    for conn, jid in contacts:
        owner.send(f"<presence to='{jid}' type='subscribed'/>")
        conn.send(f"<presence to='{owner_jid}' type='subscribed'/>")
    await asyncio.sleep(0.3)


async def _publish(owner: Conn, item: str, payload: str, options: str = "") -> None:
    owner.send(f"<iq type='set' id='pub-{item}'><pubsub xmlns='http://jabber.org/protocol/"
               f"pubsub'><publish node='{NODE}'><item id='{item}'>{payload}</item></publish>"
               f"{options}</pubsub></iq>")
    await owner.until(f"id='pub-{item}'".encode())
    await owner.until(b">")


async def latency(port: int, owner: str, contacts: list[str], count: int,
                  timeout: float = 20) -> dict[str, Any]:
    """``count`` publishes by ``owner``; one notification each expected per contact."""
    owner_conn = await Conn.open(HOST, port, DOMAIN)
    await owner_conn.login(owner, owner, "pep")
    conns = []
    for name in contacts:
        conn = await Conn.open(HOST, port, DOMAIN)
        await conn.login(name, name, "pep")
        conns.append((conn, f"{name}@{DOMAIN}"))
    await _subscribe(owner_conn, f"{owner}@{DOMAIN}", conns)
    owner_conn.send("<presence/>")
    received: list[tuple[float, float]] = []
    stop = asyncio.Event()
    tasks = [asyncio.create_task(_contact(conn, received, stop)) for conn, _ in conns]
    for conn, _ in conns:
        conn.send(f"<presence><c xmlns='http://jabber.org/protocol/caps' hash='sha-1' "
                  f"node='{CAPS_NODE}' ver='{VER}'/></presence>")
    await asyncio.sleep(1)  # caps queries answered (setup, not measured)
    received.clear()  # a last item on presence is not part of the measurement
    owner_conn.buffer = b""
    for i in range(count):
        await _publish(owner_conn, f"i{i}", f"<t xmlns='{NODE}'>{time.time():.6f}</t>")
    deadline = time.time() + timeout
    while len(received) < count * len(conns) and time.time() < deadline:
        await asyncio.sleep(0.05)
    stop.set()
    await asyncio.gather(*tasks)
    for conn, _ in conns + [(owner_conn, "")]:
        conn.abort()
    return {"latencies": [r - s for s, r in received], "expected": count * len(conns)}


BUNDLE = ("<bundle xmlns='eu.siacs.conversations.axolotl'><signedPreKeyPublic "
          "signedPreKeyId='1'>" + "A" * 44 + "</signedPreKeyPublic><signedPreKeySignature>"
          + "B" * 88 + "</signedPreKeySignature><identityKey>" + "C" * 44 + "</identityKey>"
          "<prekeys>" + "".join(f"<preKeyPublic preKeyId='{i}'>" + "D" * 44 + "</preKeyPublic>"
                                for i in range(1, 101)) + "</prekeys></bundle>")


async def fill(port: int, users: list[str]) -> dict[str, Any]:
    """What an OMEMO client with an avatar and a nickname keeps in PEP, for each user:
    device list, a 100-prekey bundle, avatar metadata, nickname."""
    items = 0
    for user in users:
        conn = await Conn.open(HOST, port, DOMAIN)
        await conn.login(user, user, "fill")
        for node, item, payload in (
                ("eu.siacs.conversations.axolotl.devicelist", "current",
                 "<list xmlns='eu.siacs.conversations.axolotl'><device id='1'/></list>"),
                ("eu.siacs.conversations.axolotl.bundles:1", "current", BUNDLE),
                ("urn:xmpp:avatar:metadata", "a" * 40, "<metadata xmlns='urn:xmpp:avatar:"
                 "metadata'><info id='" + "a" * 40 + "' bytes='1000' type='image/png'/>"
                 "</metadata>"),
                ("http://jabber.org/protocol/nick", "current",
                 f"<nick xmlns='http://jabber.org/protocol/nick'>{user}</nick>")):
            conn.send(f"<iq type='set' id='f{items}'><pubsub xmlns='http://jabber.org/"
                      f"protocol/pubsub'><publish node='{node}'><item id='{item}'>{payload}"
                      "</item></publish></pubsub></iq>")
            await conn.until(f"id='f{items}'".encode())
            items += 1
        await conn.close()
    return {"accounts": len(users), "items": items}
