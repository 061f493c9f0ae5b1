"""SASL2 (XEP-0388) + Bind2 (XEP-0386) over a real socket, with the raw XML of the XEPs'
examples (slixmpp has no plugin for them): user agent, inline stream management enable
and resume after a dropped connection (with a FAST re-login), carbons, CSI, and the push
flow after both logins."""

from __future__ import annotations

import re

import pytest
from twisted.words.protocols.jabber.jid import JID

from tests.c2s.sasl2 import (
    BIND,
    REQUEST_TOKEN,
    SASL2,
    connect,
    fast_authenticate,
    scram_authenticate,
    token_of,
)
from tests.helpers import Raw, close, login, plain, wait_push


async def test_features_offer_sasl2_with_bind2_sm_and_fast_inline(server) -> None:
    raw, features = await connect(server)
    raw.close()
    auth = re.search(r"<authentication xmlns='urn:xmpp:sasl:2'>.*?</authentication>",
                     features).group(0)
    assert "<mechanism>SCRAM-SHA-256</mechanism>" in auth
    assert "<feature var='urn:xmpp:sm:3'/>" in auth and "urn:xmpp:carbons:2" in auth
    assert "<fast xmlns='urn:xmpp:fast:0'><mechanism>HT-SHA-256-ENDP</mechanism>" in auth
    assert "<mechanisms xmlns='urn:ietf:params:xml:ns:xmpp-sasl'>" in features  # legacy too


async def test_sasl2_bind2_then_fast_resume_after_a_dropped_connection(server) -> None:
    raw, _ = await connect(server)
    success = await scram_authenticate(raw, "alice", BIND + REQUEST_TOKEN)
    full = re.search(r"<authorization-identifier>([^<]+)<", success).group(1)
    assert full.startswith("alice@localhost/AwesomeXMPP.")
    enabled = re.search(r"<enabled xmlns='urn:xmpp:sm:3' [^>]*>", success).group(0)
    previd = re.search(r"id='([^']+)'", enabled).group(1)
    assert "resume='true'" in enabled
    assert "<metadata xmlns='urn:xmpp:mam:2'" in success
    token = token_of(success)
    session = server.sessions.get(JID(full))
    assert session.carbons and session.csi == "inactive"
    assert session.user_agent == {"id": "d4565fa7-4d72-4749-b3d3-740edbf87770",
                                  "software": "AwesomeXMPP", "device": "Kiva's Phone"}
    # no stream restart: stanzas flow at once
    raw.send("<presence/><iq type='get' id='p1'><ping xmlns='urn:xmpp:ping'/></iq>")
    await raw.read_until("id='p1'")
    raw.writer.transport.abort()  # the phone loses its network
    bob = await login(server, "bob")
    bob.send_message(mto=full, mbody="while you were away", mtype="chat")
    await bob.get_roster()  # barrier: the message was routed
    # FAST re-login with inline resumption: the queued message comes again
    raw, _ = await connect(server)
    success = await fast_authenticate(
        raw, "alice", token, f"<resume xmlns='urn:xmpp:sm:3' previd='{previd}' h='1'/>",
        count=1)
    assert "<resumed xmlns='urn:xmpp:sm:3' " in success and f"previd='{previd}'" in success
    assert f"<authorization-identifier>{full}<" in success
    assert "while you were away" in await raw.read_until("while you were away")
    raw.close()
    await close(bob)


async def test_sasl2_wrong_password_fails_and_legacy_sasl_still_works(server) -> None:
    raw, _ = await connect(server)
    raw.send(f"<authenticate xmlns='{SASL2}' mechanism='PLAIN'><initial-response>"
             f"{plain('alice', 'wrong')}</initial-response></authenticate>")
    text = await raw.read_until("</failure>")
    assert "<failure xmlns='urn:xmpp:sasl:2'><not-authorized" in text
    raw.send(f"<authenticate xmlns='{SASL2}' mechanism='PLAIN'><initial-response>"
             f"{plain('alice', 'alice')}</initial-response></authenticate>")
    assert "<authorization-identifier>alice@localhost<" in await raw.read_until("</success>")
    raw.close()
    alice = await login(server, "alice")  # the legacy path is unchanged
    await close(alice)


async def enable_push_raw(raw: Raw, node: str) -> None:
    raw.buffer = b""
    raw.send(f"<iq type='set' id='push'><enable xmlns='urn:xmpp:push:0' jid='push.localhost'"
             f" node='{node}'/></iq>")
    assert "type='result'" in await raw.read_until("id='push'[^>]*>|id='push'.*?</iq>")


@pytest.mark.parametrize("relogin", ["sasl2-bind2", "fast"])
async def test_push_flow_after_sasl2_logins(server, relogin) -> None:
    raw, _ = await connect(server)
    success = await scram_authenticate(raw, "alice", BIND + REQUEST_TOKEN)
    token = token_of(success)
    if relogin == "fast":
        raw.close()
        raw, _ = await connect(server)
        success = await fast_authenticate(raw, "alice", token, BIND, count=1)
    assert "<bound xmlns='urn:xmpp:bind:0'>" in success
    await enable_push_raw(raw, f"node-{relogin}")
    raw.writer.transport.abort()  # hibernated: rule 2 pushes
    bob = await login(server, "bob", resource="desk")
    bob.send_message(mto="alice@localhost", mbody="push me", mtype="chat")
    n = await wait_push(server, account="alice", timeout=10)
    assert n.node == f"node-{relogin}"
    assert n.fields["last-message-body"] == "push me"
    await close(bob)


