"""SASL (RFC 6120 §6) with every mechanism, over plain TCP and STARTTLS: logins with slixmpp,
failures and their conditions on raw streams, PLAIN only where allowed."""

from __future__ import annotations

import pytest
from twisted.words.protocols.jabber.jid import JID

from tests.helpers import (
    Raw,
    close,
    login,
    plain,
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


@pytest.mark.server_options(plain_without_tls="never")
async def test_plain_not_offered_without_tls_when_configured(server) -> None:
    raw = await Raw.connect(server)
    features = await raw.open_stream()
    assert "SCRAM-SHA-1" in features and "PLAIN" not in features
    raw.close()
