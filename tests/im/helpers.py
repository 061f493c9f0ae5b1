"""Helpers for the archive tests: a conversation between two slixmpp clients."""

from __future__ import annotations

from tests.helpers import (
    login,
)

MAM = ("xep_0313", "xep_0059", "xep_0359")


async def conversation(server, n=12):
    alice = await login(server, "alice", resource="desk", plugins=MAM)
    bob = await login(server, "bob", resource="phone", plugins=MAM)
    for i in range(n):
        sender, to = (alice, "bob@localhost") if i % 2 == 0 else (bob, "alice@localhost")
        sender.send_message(mto=to, mbody=f"m{i}", mtype="chat")
        receiver = bob if i % 2 == 0 else alice
        await receiver.next_message()
    return alice, bob
