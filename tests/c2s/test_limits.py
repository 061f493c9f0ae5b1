"""The stanza size limit (--max-stanza-size), over real streams."""

from __future__ import annotations

import pytest

from tests.helpers import close, login
from tests.raw import raw_login


@pytest.mark.server_options(max_stanza_size=4096)
async def test_oversized_stanza_is_policy_violation_and_others_carry_on(server) -> None:
    bob = await login(server, "bob")
    raw = await raw_login(server, "alice")
    raw.send("<message to='bob@localhost'><body>" + "x" * 10000 + "</body></message>")
    await raw.stream_error("policy-violation")
    alice = await login(server, "alice")
    alice.send_message(mto="bob@localhost", mbody="small is fine", mtype="chat")
    assert (await bob.next_message())["body"] == "small is fine"
    await close(alice, bob)


@pytest.mark.server_options(max_stanza_size=4096)
async def test_unfinished_stanza_over_the_limit_is_cut_off(server) -> None:
    import asyncio

    raw = await raw_login(server, "alice")
    raw.send("<message to='bob@localhost'><body>")
    for _ in range(8):  # 8 KB in pieces, never closed
        if raw.writer.is_closing() or raw.reader.at_eof():
            break
        raw.send("y" * 1024)
        await asyncio.sleep(0.01)
    await raw.stream_error("policy-violation")


@pytest.mark.server_options(max_stanza_size=4096)
async def test_many_small_stanzas_in_one_burst_are_fine(server) -> None:
    bob = await login(server, "bob")
    raw = await raw_login(server, "alice")
    raw.send("".join(f"<message to='bob@localhost' type='chat'><body>{i}</body></message>"
                     for i in range(300)))  # ~20 KB at once, each stanza small
    for i in range(300):
        assert (await bob.next_message())["body"] == str(i)
    raw.close()
    await close(bob)
