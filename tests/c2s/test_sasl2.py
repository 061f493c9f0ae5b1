"""SASL2 (XEP-0388) + Bind2 (XEP-0386) + FAST (XEP-0484) over a real socket, with the raw
XML of the XEPs' examples (slixmpp has no plugin for them): user agent, inline stream
management enable and resume after a dropped connection, carbons, CSI, tokens (NONE and
ENDP, rotation, invalidation, replay, storage) and the push flow after both logins."""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import ssl

import pytest
from scramp import ScramClient
from twisted.words.protocols.jabber.jid import JID

from tests.helpers import Raw, client_ssl_context, close, login, plain, wait_push

SASL2 = "urn:xmpp:sasl:2"
UA = ("<user-agent id='d4565fa7-4d72-4749-b3d3-740edbf87770'><software>AwesomeXMPP"
      "</software><device>Kiva's Phone</device></user-agent>")
BIND = ("<bind xmlns='urn:xmpp:bind:0'><tag>AwesomeXMPP</tag>"
        "<enable xmlns='urn:xmpp:carbons:2'/><enable xmlns='urn:xmpp:sm:3' resume='true'/>"
        "<inactive xmlns='urn:xmpp:csi:0'/></bind>")


def b64(data: bytes | str) -> str:
    return base64.b64encode(data.encode() if isinstance(data, str) else data).decode()


async def connect(server, tls: bool = False) -> tuple[Raw, str]:
    raw = await Raw.connect(server)
    features = await raw.open_stream()
    if tls:
        raw.send("<starttls xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>")
        await raw.read_until("<proceed")
        context = client_ssl_context(server)
        context.maximum_version = ssl.TLSVersion.TLSv1_3
        await raw.writer.start_tls(context, server_hostname="localhost")
        features = await raw.open_stream()
    raw.buffer = b""
    return raw, features


async def scram_authenticate(raw: Raw, user: str, extra: str) -> str:
    """SCRAM-SHA-256 over SASL2 with ``extra`` inline requests; the <success/>."""
    client = ScramClient(["SCRAM-SHA-256"], user, user)
    raw.send(f"<authenticate xmlns='{SASL2}' mechanism='SCRAM-SHA-256'><initial-response>"
             f"{b64(client.get_client_first())}</initial-response>{UA}{extra}</authenticate>")
    text = await raw.read_until("</challenge>|</failure>")
    challenge = re.search(r"<challenge xmlns='urn:xmpp:sasl:2'>([^<]+)</challenge>", text)
    client.set_server_first(base64.b64decode(challenge.group(1)).decode())
    raw.buffer = b""
    raw.send(f"<response xmlns='{SASL2}'>{b64(client.get_client_final())}</response>")
    text = await raw.read_until("</success>|</failure>")
    keep_after(raw, text)
    data = re.search(r"<additional-data>([^<]+)</additional-data>", text)
    assert data, text
    client.set_server_final(base64.b64decode(data.group(1)).decode())  # server verified
    return text


def keep_after(raw: Raw, text: str) -> None:
    """Leave in the buffer only what came after the SASL2 outcome (stanzas that follow)."""
    end = max(text.find("</success>") + len("</success>") if "</success>" in text else -1,
              text.find("</failure>") + len("</failure>") if "</failure>" in text else -1)
    raw.buffer = text[end:].encode() if end > 0 else b""


def ht(token: str, label: bytes, cb: bytes = b"") -> bytes:
    return hmac.new(token.encode(), label + cb, hashlib.sha256).digest()


async def fast_authenticate(raw: Raw, user: str, token: str, extra: str = "", *,
                            mech: str = "HT-SHA-256-NONE", cb: bytes = b"",
                            count: int | None = None) -> str:
    fast = f"<fast xmlns='urn:xmpp:fast:0' count='{count}'/>" if count is not None else ""
    first = user.encode() + b"\0" + ht(token, b"Initiator", cb)
    raw.send(f"<authenticate xmlns='{SASL2}' mechanism='{mech}'><initial-response>"
             f"{b64(first)}</initial-response>{UA}{fast}{extra}</authenticate>")
    text = await raw.read_until("</success>|</failure>")
    keep_after(raw, text)
    if "<success" in text:
        data = re.search(r"<additional-data>([^<]+)</additional-data>", text).group(1)
        assert base64.b64decode(data) == ht(token, b"Responder", cb)  # mutual auth
    return text


def token_of(success: str) -> str:
    return re.search(r"<token xmlns='urn:xmpp:fast:0' [^>]*token='([^']+)'", success).group(1)


REQUEST_TOKEN = "<request-token xmlns='urn:xmpp:fast:0' mechanism='HT-SHA-256-NONE'/>"


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


async def test_fast_token_rotation_invalidation_and_replay(server) -> None:
    raw, _ = await connect(server)
    first = token_of(await scram_authenticate(raw, "alice", REQUEST_TOKEN))
    raw.close()
    assert server.storage.tokens.get("alice", "d4565fa7-4d72-4749-b3d3-740edbf87770")
    # a FAST login asking for a new token: both work until the new one is used
    raw, _ = await connect(server)
    second = token_of(await fast_authenticate(raw, "alice", first, REQUEST_TOKEN,
                                                  count=1))
    raw.close()
    assert second != first
    raw, _ = await connect(server)
    assert "<success" in await fast_authenticate(raw, "alice", first, count=2)
    raw.close()
    raw, _ = await connect(server)
    assert "<success" in await fast_authenticate(raw, "alice", second, count=3)
    raw.close()
    raw, _ = await connect(server)  # the rotation is complete: the old one is gone
    assert "<not-authorized" in await fast_authenticate(raw, "alice", first, count=4)
    raw.close()
    raw, _ = await connect(server)  # a replayed count fails
    assert "<not-authorized" in await fast_authenticate(raw, "alice", second, count=3)
    raw.close()
    raw, _ = await connect(server)  # log in and invalidate
    proof = b64(b"alice\0" + ht(second, b"Initiator"))
    raw.send(f"<authenticate xmlns='{SASL2}' mechanism='HT-SHA-256-NONE'><initial-response>"
             f"{proof}</initial-response>{UA}"
             "<fast xmlns='urn:xmpp:fast:0' count='6' invalidate='true'/></authenticate>")
    assert "<success" in await raw.read_until("</success>|</failure>")
    raw.close()
    raw, _ = await connect(server)
    assert "<not-authorized" in await fast_authenticate(raw, "alice", second, count=7)
    raw.close()
    # a wrong token never works (and nobody else's)
    raw, _ = await connect(server)
    assert "<not-authorized" in await fast_authenticate(raw, "bob", "guess", count=1)
    raw.close()


async def test_fast_endp_binds_the_token_to_the_certificate(server) -> None:
    raw, features = await connect(server, tls=True)
    token = token_of(await scram_authenticate(
        raw, "alice", "<request-token xmlns='urn:xmpp:fast:0' mechanism='HT-SHA-256-ENDP'/>"))
    raw.close()
    raw, _ = await connect(server, tls=True)
    der = raw.writer.get_extra_info("ssl_object").getpeercert(binary_form=True)
    cb = hashlib.sha256(der).digest()
    assert "<success" in await fast_authenticate(raw, "alice", token,
                                                     mech="HT-SHA-256-ENDP", cb=cb, count=1)
    raw.close()
    raw, _ = await connect(server, tls=True)  # without the binding data: refused
    assert "<not-authorized" in await fast_authenticate(raw, "alice", token,
                                                            mech="HT-SHA-256-ENDP", count=2)
    raw.close()


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


async def test_fast_token_kept_in_data_dir_logs_in_to_the_next_server(server_factory,
                                                                      tmp_path) -> None:
    data = str(tmp_path / "data")
    first = server_factory(data_dir=data)
    raw, _ = await connect(first)
    token = token_of(await scram_authenticate(raw, "alice", REQUEST_TOKEN))
    raw.close()
    first.storage.close()  # as at shutdown
    second = server_factory(data_dir=data)  # a new process would read the same file
    raw, _ = await connect(second)
    assert "<success" in await fast_authenticate(raw, "alice", token, count=1)
    raw.close()
    second.admin.remove_account("alice")  # the account goes, and its tokens with it
    assert second.storage.tokens.get("alice", "d4565fa7-4d72-4749-b3d3-740edbf87770") is None


def test_fast_tokens_expire_after_their_lifetime() -> None:
    from minixmpp.c2s.fast import Tokens
    from minixmpp.storage.memory import MemoryTokenStore

    now = [1000.0]
    tokens = Tokens(MemoryTokenStore(), lifetime=60, clock=lambda: now[0])
    token = tokens.issue("alice", "ua", "HT-SHA-256-NONE")
    assert tokens.candidates("alice", "ua", "HT-SHA-256-NONE") == [token.current]
    assert tokens.candidates("alice", "ua", "HT-SHA-256-ENDP") == []  # bound to its mechanism
    assert tokens.candidates("alice", "other-ua", "HT-SHA-256-NONE") == []  # and its client
    now[0] += 61
    assert tokens.candidates("alice", "ua", "HT-SHA-256-NONE") == []
