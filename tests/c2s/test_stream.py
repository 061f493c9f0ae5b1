"""RFC 6120 streams with a real client (slixmpp) and with raw bytes: STARTTLS, SASL, bind."""

from __future__ import annotations

import re

import pytest
from twisted.words.protocols.jabber.jid import JID

from tests.helpers import (
    Raw,
    close,
    eventually,
    login,
    plain,
    raw_authenticated,
    scram_login,
)

MECHANISMS = ["SCRAM-SHA-256", "SCRAM-SHA-1", "PLAIN"]


@pytest.mark.parametrize("tls", [False, True], ids=["plain-tcp", "starttls"])
@pytest.mark.parametrize("mech", MECHANISMS)
async def test_login_with_each_mechanism(server, mech: str, tls: bool) -> None:
    alice = await login(server, "alice", mech=mech, tls=tls, resource="desk")
    try:
        assert alice.boundjid.full == "alice@localhost/desk"
        assert alice["feature_mechanisms"].mech.name == mech
        assert ("starttls" in alice.features) == tls
        session = server.sessions.get(JID("alice@localhost/desk"))
        assert session is not None and session.tls == tls
    finally:
        await close(alice)


async def test_wrong_password_is_not_authorized(server) -> None:
    for mech, auth in [("PLAIN", plain("alice", "wrong")),
                       ("SCRAM-SHA-1", None), ("SCRAM-SHA-256", None)]:
        raw = await Raw.connect(server)
        await raw.open_stream()
        if auth:
            raw.send(f"<auth xmlns='urn:ietf:params:xml:ns:xmpp-sasl' mechanism='{mech}'>"
                     f"{auth}</auth>")
            reply = await raw.read_until("</failure>")
        else:
            reply = await scram_login(raw, mech, "alice", "wrong")
        assert "<not-authorized/>" in reply, (mech, reply)
        raw.close()


async def test_slixmpp_wrong_password_fails_auth(server) -> None:
    with pytest.raises(AssertionError, match="authentication failed"):
        await login(server, "alice", "not-the-password", timeout=5)


async def test_unknown_user_fails_like_a_wrong_password(server) -> None:
    raw = await Raw.connect(server)
    await raw.open_stream()
    reply = await scram_login(raw, "SCRAM-SHA-256", "nobody", "x")
    assert "<challenge" in reply, "an unknown user must get a challenge, like anyone else"
    assert "<not-authorized/>" in reply


@pytest.mark.parametrize("auth, condition", [
    ("<auth xmlns='urn:ietf:params:xml:ns:xmpp-sasl' mechanism='X-UNKNOWN'>AA==</auth>",
     "invalid-mechanism"),
    ("<auth xmlns='urn:ietf:params:xml:ns:xmpp-sasl' mechanism='PLAIN'>!!notbase64!!</auth>",
     "incorrect-encoding"),
    ("<auth xmlns='urn:ietf:params:xml:ns:xmpp-sasl' mechanism='PLAIN'>bm9udWxscw==</auth>",
     "malformed-request"),
    ("<auth xmlns='urn:ietf:params:xml:ns:xmpp-sasl' mechanism='SCRAM-SHA-1'>"
     "Z2FyYmFnZQ==</auth>", "malformed-request"),
    ("<auth xmlns='urn:ietf:params:xml:ns:xmpp-sasl' mechanism='SCRAM-SHA-1'/>"
     "<abort xmlns='urn:ietf:params:xml:ns:xmpp-sasl'/>", "aborted"),
])
async def test_sasl_failure_conditions(server, auth: str, condition: str) -> None:
    raw = await Raw.connect(server)
    await raw.open_stream()
    raw.send(auth)
    reply = await raw.read_until("</failure>")
    assert f"<{condition}/>" in reply
    # The stream stays usable: a correct PLAIN login still works afterwards (RFC 6120 §6.4.5).
    raw.send(f"<auth xmlns='urn:ietf:params:xml:ns:xmpp-sasl' mechanism='PLAIN'>"
             f"{plain('alice', 'alice')}</auth>")
    assert "<success" in await raw.read_until("<success")
    raw.close()


@pytest.mark.parametrize("header, condition", [
    ("<stream:stream xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams' "
     "to='example.org' version='1.0'>", "host-unknown"),
    ("<stream:stream xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams' "
     "version='1.0'>", "host-unknown"),
    ("<stream:stream xmlns='jabber:client' xmlns:stream='urn:wrong' to='localhost' "
     "version='1.0'>", "invalid-namespace"),
    ("<stream:stream xmlns='jabber:server' xmlns:stream='http://etherx.jabber.org/streams' "
     "to='localhost' version='1.0'>", "invalid-namespace"),
    ("this is not XML at all <<<", "not-well-formed"),
    ("<?xml version='1.0'?><!DOCTYPE lol [<!ENTITY lol 'lol'>]>", "restricted-xml"),
])
async def test_bad_stream_headers_get_stream_errors(server, header: str, condition: str) -> None:
    raw = await Raw.connect(server)
    raw.send(header)
    text = await raw.read_to_close()
    assert "<stream:stream" in text, "a stream error is preceded by our stream header"
    assert f"<{condition} xmlns='urn:ietf:params:xml:ns:xmpp-streams'/>" in text, text
    assert text.rstrip().endswith("</stream:stream>")


async def test_features_offer_starttls_and_scram_first(server) -> None:
    raw = await Raw.connect(server)
    features = await raw.open_stream()
    assert "<starttls xmlns='urn:ietf:params:xml:ns:xmpp-tls'" in features
    assert features.index("SCRAM-SHA-256") < features.index("SCRAM-SHA-1")
    assert "<mechanism>PLAIN</mechanism>" in features  # loopback allows PLAIN without TLS
    assert "version='1.0'" in features and "from='localhost'" in features
    raw.close()


@pytest.mark.server_options(require_tls=True)
async def test_require_tls_offers_only_starttls_and_refuses_auth(server) -> None:
    raw = await Raw.connect(server)
    features = await raw.open_stream()
    assert "<required/>" in features and "<mechanisms" not in features
    raw.send(f"<auth xmlns='urn:ietf:params:xml:ns:xmpp-sasl' mechanism='PLAIN'>"
             f"{plain('alice', 'alice')}</auth>")
    assert "<encryption-required/>" in await raw.read_until("</failure>")
    raw.close()
    alice = await login(server, "alice", tls=True, mech="PLAIN")
    assert "starttls" in alice.features
    await close(alice)


@pytest.mark.server_options(plain_without_tls="never")
async def test_plain_not_offered_without_tls_when_configured(server) -> None:
    raw = await Raw.connect(server)
    features = await raw.open_stream()
    assert "SCRAM-SHA-1" in features and "PLAIN" not in features
    raw.close()


@pytest.mark.server_options(no_tls=True)
async def test_no_tls_offers_no_starttls(server) -> None:
    raw = await Raw.connect(server)
    features = await raw.open_stream()
    assert "starttls" not in features
    raw.send("<starttls xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>")
    assert "<failure xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>" in await raw.read_to_close()


@pytest.mark.parametrize("stanza", [
    "<message to='bob@localhost'><body>hi</body></message>",
    "<iq type='get' id='1'><query xmlns='jabber:iq:roster'/></iq>",
    "<presence/>",
])
async def test_stanza_before_auth_is_not_authorized(server, stanza: str) -> None:
    raw = await Raw.connect(server)
    await raw.open_stream()
    raw.send(stanza)
    text = await raw.read_to_close()
    assert "<not-authorized xmlns='urn:ietf:params:xml:ns:xmpp-streams'/>" in text


async def test_stanza_before_bind_is_not_authorized(server) -> None:
    raw, features = await raw_authenticated(server, "alice")
    assert "urn:ietf:params:xml:ns:xmpp-bind" in features
    raw.send("<message to='bob@localhost'><body>hi</body></message>")
    assert "<not-authorized xmlns='urn:ietf:params:xml:ns:xmpp-streams'/>" in (
        await raw.read_to_close())


async def test_bind_generates_a_resource_and_legacy_session_is_accepted(server) -> None:
    raw, _ = await raw_authenticated(server, "alice")
    raw.send("<iq type='set' id='b'><bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'/></iq>")
    text = await raw.read_until("</iq>")
    assert "<jid>alice@localhost/" in text
    raw.send("<iq type='set' id='s'><session xmlns='urn:ietf:params:xml:ns:xmpp-session'/></iq>")
    assert "id='s'" in await raw.read_until("id='s'[^>]*/>|id='s'.*</iq>")
    raw.send("  \n ")  # whitespace keepalive
    raw.send("<iq type='get' id='p' to='localhost'><ping xmlns='urn:xmpp:ping'/></iq>")
    reply = await raw.read_until("<iq[^>]*id='p'[^>]*>")
    pong = re.search("<iq[^>]*id='p'[^>]*>", reply)
    assert pong is not None and "type='result'" in pong.group(0), reply
    raw.close()


async def test_second_login_same_resource_gets_conflict(server) -> None:
    first = await login(server, "alice", resource="phone")
    second = await login(server, "alice", resource="phone")
    await eventually(lambda: first.stream_errors == ["conflict"])
    session = server.sessions.get(JID("alice@localhost/phone"))
    assert session is not None and len(server.sessions.of("alice")) == 1
    # The new session works: it gets a message.
    bob = await login(server, "bob")
    bob.send_message(mto="alice@localhost/phone", mbody="still there?", mtype="chat")
    assert (await second.next_message())["body"] == "still there?"
    await close(bob)
    await close(second)
