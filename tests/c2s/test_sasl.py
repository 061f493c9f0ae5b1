"""SASL (RFC 6120 §6) with every mechanism, over plain TCP and STARTTLS: logins with slixmpp,
failures and their conditions on raw streams, PLAIN only where allowed."""

from __future__ import annotations

import pytest
from twisted.words.protocols.jabber.jid import JID

from tests.helpers import close, login
from tests.raw import SASL, Raw, plain, scram_login
from tests.xmlassert import assert_xml, descendants

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
            raw.send(f"<auth xmlns='{SASL}' mechanism='{mech}'>{auth}</auth>")
            outcome = await raw.next(f"<failure xmlns='{SASL}'/>", f"<success xmlns='{SASL}'/>")
        else:
            *_, outcome = await scram_login(raw, mech, "alice", "wrong")
        assert_xml(outcome, f"<failure xmlns='{SASL}'><not-authorized/></failure>")
        raw.close()


async def test_slixmpp_wrong_password_fails_auth(server) -> None:
    with pytest.raises(AssertionError, match="authentication failed"):
        await login(server, "alice", "not-the-password", timeout=5)


async def test_unknown_user_fails_like_a_wrong_password(server) -> None:
    raw = await Raw.connect(server)
    await raw.open_stream()
    answers = await scram_login(raw, "SCRAM-SHA-256", "nobody", "x")
    assert [a.name for a in answers] == ["challenge", "failure"], \
        "an unknown user must get a challenge, like anyone else"
    assert_xml(answers[-1], f"<failure xmlns='{SASL}'><not-authorized/></failure>")


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
    failure = await raw.next(f"<failure xmlns='{SASL}'/>")
    assert_xml(failure, f"<failure xmlns='{SASL}'><{condition}/></failure>")
    # The stream stays usable: a correct PLAIN login still works afterwards (RFC 6120 §6.4.5).
    raw.send(f"<auth xmlns='{SASL}' mechanism='PLAIN'>{plain('alice', 'alice')}</auth>")
    await raw.next(f"<success xmlns='{SASL}'/>")
    raw.close()


@pytest.mark.server_options(plain_without_tls="never")
async def test_plain_not_offered_without_tls_when_configured(server) -> None:
    raw = await Raw.connect(server)
    features = await raw.open_stream()
    offered = [str(e) for e in descendants(features) if e.name == "mechanism"]
    assert "SCRAM-SHA-1" in offered and "PLAIN" not in offered  # in SASL nor SASL2
    raw.close()
