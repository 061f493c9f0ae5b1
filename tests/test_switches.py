"""Feature switches (``--disable``, docs/features.md): what is off is not offered anywhere,
its requests get what a server without it answers, and real clients fall back."""

from __future__ import annotations

import asyncio
import os
import shutil
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from slixmpp.exceptions import IqError

from minixmpp.config import ConfigError, Settings
from tests.helpers import close, http, login
from tests.rawtext import Raw, plain, scram_login

XMPPJS = Path(__file__).parent / "clients" / "xmppjs"
NODE = shutil.which("node")


async def features_after_login(server, user: str) -> str:
    """The stream features a client gets before SASL (SCRAM-SHA-1, no TLS) and after it."""
    raw = await Raw.connect(server)
    before = await raw.open_stream()
    assert "<success" in await scram_login(raw, "SCRAM-SHA-1", user, user)
    after = await raw.open_stream()
    raw.close()
    return before + after


@pytest.mark.skipif(NODE is None or not (XMPPJS / "node_modules" / "@xmpp" / "client").exists(),
                    reason="needs node and @xmpp/client (.ci/run runs npm install --prefix "
                           "tests/clients/xmppjs)")
@pytest.mark.server_options(disable=["sasl2"])
async def test_without_sasl2_xmppjs_logs_in_through_legacy_sasl_and_bind(server, tmp_path
                                                                         ) -> None:
    cert = tmp_path / "ca.pem"
    cert.write_bytes(server.tls.cert_pem)
    bob = await login(server, "bob")
    proc = await asyncio.create_subprocess_exec(
        NODE, str(XMPPJS / "chat.mjs"), str(server.port), "alice", "alice", "bob@localhost",
        "legacy hello", stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT,
        env={**os.environ, "NODE_EXTRA_CA_CERTS": str(cert)}, cwd=str(XMPPJS))
    try:
        try:
            message = await bob.next_message(timeout=20)
        except TimeoutError:
            proc.kill()
            out, _ = await proc.communicate()
            raise AssertionError(f"no message from xmpp.js; it said: {out[-3000:]!r}") \
                from None
        assert message["body"] == "legacy hello"
        # RFC 6120 §7 binding: the resource the client asked for, not Bind2's tag + a
        # random part (XEP-0386 §3, which the SASL2 test sees)
        assert message["from"].full == "alice@localhost/node"
        bob.send_message(mto="alice@localhost/node", mbody="back", mtype="chat")
        out, _ = await asyncio.wait_for(proc.communicate(), 20)
        assert proc.returncode == 0 and b"RECEIVED bob@localhost/test back" in out, out
    finally:
        if proc.returncode is None:
            proc.kill()
            await proc.wait()
        await close(bob)


@pytest.mark.server_options(disable=["sm"])
async def test_without_sm_slixmpp_logs_in_and_chats_without_stream_management(server) -> None:
    features = await features_after_login(server, "alice")
    assert "urn:xmpp:sm:3" not in features and "urn:ietf:params:xml:ns:xmpp-bind" in features
    alice = await login(server, "alice", plugins=("xep_0198",))
    bob = await login(server, "bob", plugins=("xep_0198",))
    alice.send_message(mto="bob@localhost", mbody="no acks needed", mtype="chat")
    assert (await bob.next_message())["body"] == "no acks needed"
    assert alice["xep_0198"].sm_id is None
    assert all(s.sm is None for s in server.sessions)
    await close(alice, bob)


@pytest.mark.server_options(disable=["sm"])
async def test_without_sm_an_enable_is_an_unknown_element(server) -> None:
    raw = await Raw.connect(server)
    await raw.open_stream()
    raw.send(f"<auth xmlns='urn:ietf:params:xml:ns:xmpp-sasl' mechanism='PLAIN'>"
             f"{plain('alice', 'alice')}</auth>")
    await raw.read_until("<success")
    await raw.open_stream()
    raw.send("<iq type='set' id='b'><bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'/></iq>")
    await raw.read_until("</iq>")
    raw.send("<enable xmlns='urn:xmpp:sm:3' resume='true'/>")
    closed = await raw.read_to_close()
    assert "<unsupported-stanza-type xmlns='urn:ietf:params:xml:ns:xmpp-streams'/>" in closed


@pytest.mark.server_options(disable=["pep"])
async def test_without_pep_the_account_lists_no_pubsub_and_a_publish_is_unavailable(
        server) -> None:
    alice = await login(server, "alice", plugins=("xep_0030", "xep_0060"))
    info = await alice["xep_0030"].get_info(jid="alice@localhost", timeout=5)
    features = info["disco_info"]["features"]
    assert not [f for f in features if f.startswith("http://jabber.org/protocol/pubsub")]
    assert "http://jabber.org/protocol/disco#info" in features  # positive control
    assert ("pubsub", "pep") not in {(i[0], i[1]) for i in info["disco_info"]["identities"]}
    payload = ET.Element("{urn:example:tune}tune")
    with pytest.raises(IqError) as caught:
        await alice["xep_0060"].publish("alice@localhost", "urn:example:tune",
                                        payload=payload, timeout=5)
    assert caught.value.iq["error"]["condition"] == "service-unavailable"
    await close(alice)


@pytest.mark.server_options(disable=["carbons", "csi", "caps", "scram-plus", "plain"])
async def test_what_is_off_is_offered_nowhere_and_the_state_lists_it(server) -> None:
    features = await features_after_login(server, "alice")
    for absent in ("urn:xmpp:csi:0", "http://jabber.org/protocol/caps", "-PLUS", ">PLAIN<"):
        assert absent not in features
    assert "SCRAM-SHA-256" in features and "urn:xmpp:sm:3" in features  # what stays on
    alice = await login(server, "alice", plugins=("xep_0030",), mech="SCRAM-SHA-1")
    info = await alice["xep_0030"].get_info(jid="localhost", timeout=5)
    assert "urn:xmpp:carbons:2" not in info["disco_info"]["features"]
    assert "urn:xmpp:ping" in info["disco_info"]["features"]
    status, state = await http("GET", f"http://127.0.0.1:{server.ports().http}/api/state")
    assert status == 200
    assert {"carbons", "csi", "caps", "scram-plus", "plain"} <= set(state["disabled"])
    assert "carbons" not in state["features"] and "sm" in state["features"]
    await close(alice)


def test_an_unknown_name_or_a_contradiction_is_one_clear_line() -> None:
    with pytest.raises(ConfigError, match=r"--disable 'stream-management': not a feature; "
                                          r"one of starttls, .*\bsm\b.*plain"):
        Settings.build({"disable": ("stream-management",)})
    with pytest.raises(ConfigError, match="--disable starttls and --require-tls"):
        Settings.build({"disable": ("starttls",), "require_tls": True})
    with pytest.raises(ConfigError, match="no SASL mechanism"):
        Settings.build({"disable": ("scram-sha-512", "scram-sha-256", "scram-sha-1",
                                    "scram-plus", "plain")})
    assert Settings.build({"no_muc": True}).disabled == {"muc"}  # the old option, an alias
