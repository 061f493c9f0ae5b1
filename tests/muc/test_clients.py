"""Three different client libraries in one room: slixmpp, aioxmpp and another slixmpp."""

from __future__ import annotations

import asyncio
import time

import pytest

from tests.helpers import close, eventually
from tests.muc.helpers import ROOM, create, join, muc_login

aioxmpp = pytest.importorskip("aioxmpp", reason="aioxmpp (the second client library) is "
                              "not installed: pip install -e '.[test]'")


async def test_slixmpp_aioxmpp_and_slixmpp_talk_in_one_room(server):
    alice = await muc_login(server, "alice")
    await create(alice, room=ROOM, nick="Alice")
    bob = await muc_login(server, "bob")
    await join(bob, ROOM, "Bob")
    heard: list[tuple[str, str]] = []
    seen_by = {"alice": alice, "bob": bob}
    got: dict[str, list[str]] = {"alice": [], "bob": []}
    for name, c in seen_by.items():
        c.add_event_handler("groupchat_message", lambda m, n=name: got[n].append(
            f"{m['from'].resource}:{m['body']}") if m["body"] else None)

    async def carol_session() -> None:
        client = aioxmpp.PresenceManagedClient(
            aioxmpp.JID.fromstr("carol@localhost/aio"),
            aioxmpp.make_security_layer("carol", no_verify=True),
            override_peer=[("127.0.0.1", server.port, aioxmpp.connector.STARTTLSConnector())])
        async with client.connected():
            muc = client.summon(aioxmpp.MUCClient)
            room, joined = muc.join(aioxmpp.JID.fromstr(ROOM), "Carol")

            def on_message(message, member, source, **kw):
                if message.body:
                    heard.append((member.nick if member else "", message.body.any()))

            room.on_message.connect(on_message)
            await asyncio.wait_for(joined, 5)
            assert {m.nick for m in room.members} == {"Alice", "Bob", "Carol"}
            message = aioxmpp.Message(type_=aioxmpp.MessageType.GROUPCHAT)
            message.body[None] = "hello from aioxmpp"
            await room.send_message(message)
            deadline = time.monotonic() + 5
            while len(heard) < 3 and time.monotonic() < deadline:
                await asyncio.sleep(0.02)
            await room.leave()

    carol = asyncio.ensure_future(carol_session())
    await eventually(lambda: "Carol:hello from aioxmpp" in got["bob"])
    alice.send_message(mto=ROOM, mbody="hello from slixmpp", mtype="groupchat")
    bob.send_message(mto=ROOM, mbody="hello from the other slixmpp", mtype="groupchat")
    await asyncio.wait_for(carol, 15)
    assert sorted(heard) == [("Alice", "hello from slixmpp"),
                             ("Bob", "hello from the other slixmpp"),
                             ("Carol", "hello from aioxmpp")]
    for name in ("alice", "bob"):
        await eventually(lambda n=name: len(got[n]) >= 3)
        assert sorted(got[name]) == ["Alice:hello from slixmpp",
                                     "Bob:hello from the other slixmpp",
                                     "Carol:hello from aioxmpp"]
    await close(alice, bob)
