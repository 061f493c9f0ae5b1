"""--log-stanzas: one line per stanza each way, with secrets masked."""

from __future__ import annotations

import pytest
from twisted.logger import globalLogPublisher

from tests.helpers import close, login
from tests.raw import SASL, Raw, plain


@pytest.mark.server_options(log_stanzas=True)
async def test_log_stanzas_one_line_each_with_secrets_masked(server) -> None:
    lines: list[str] = []

    def observer(event: dict) -> None:
        if event.get("log_namespace") == "minixmpp.stanzas":
            from twisted.logger import formatEvent
            lines.append(formatEvent(event))

    globalLogPublisher.addObserver(observer)
    try:
        raw = await Raw.connect(server)
        await raw.open_stream()
        secret = plain("alice", "alice")
        raw.send(f"<auth xmlns='{SASL}' mechanism='PLAIN'>{secret}</auth>")
        await raw.next(f"<success xmlns='{SASL}'/>")
        raw.close()
        alice = await login(server, "alice", resource="desk")
        bob = await login(server, "bob")
        alice.send_message(mto="bob@localhost", mbody="logged", mtype="chat")
        await bob.next_message()
        await close(alice, bob)
    finally:
        globalLogPublisher.removeObserver(observer)
    text = "\n".join(lines)
    assert secret not in text and "***" in text
    assert all("\n" not in line for line in lines)
    assert any(line.startswith("IN alice@localhost/desk: <message") and "logged" in line
               for line in lines)
    assert any(line.startswith("OUT bob@localhost/") and "logged" in line for line in lines)
