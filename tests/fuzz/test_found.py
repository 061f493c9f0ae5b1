"""What the grammar fuzzing found, one regression test each (issue 22), against the real
``twistd`` with the same per-example checks (no traceback in the log, bystanders talk)."""

from __future__ import annotations

import re

import pytest

from tests.fuzz.clients import SASL, SASL2, BoshStream, WebSocketStream, plain
from tests.fuzz.conftest import Fuzz

pytestmark = pytest.mark.launch


def test_bosh_stanzas_left_in_the_body_namespace_are_client_stanzas(fuzz: Fuzz) -> None:
    """A stanza a BOSH client did not qualify inherits ``httpbind`` from ``<body/>``;
    it is read as ``jabber:client`` (as Prosody's mod_bosh does), not refused with
    ``unsupported-stanza-type``."""
    bosh = BoshStream(fuzz.server)
    try:
        bosh.open()
        mark = bosh.mark()
        bosh.qualify = False
        bosh.send("<iq type='get' id='reg'><query xmlns='jabber:iq:register'/></iq>")
        assert bosh.read_until("id='reg'"), bosh.since(mark)
        assert "<stream:error" not in bosh.since(mark)
        assert re.search("<iq xmlns='jabber:client'[^>]* type='result'", bosh.since(mark)), \
            bosh.since(mark)
    finally:
        bosh.close()
    fuzz.server_checks()


def test_invalid_utf8_over_websocket_is_a_stream_error(fuzz: Fuzz) -> None:
    """A text frame that is not UTF-8 gets ``not-well-formed`` and ``<close/>``, as the
    same bytes get over TCP, not a bare WebSocket close an XMPP client cannot read."""
    ws = WebSocketStream(fuzz.server)
    try:
        ws.open()
        mark = ws.mark()
        ws.send(b"\x80<iq type='get' id='x'><ping xmlns='urn:xmpp:ping'/></iq>")
        assert ws.read_until("<close "), ws.since(mark)
        assert "<not-well-formed xmlns='urn:ietf:params:xml:ns:xmpp-streams'/>" in \
            ws.since(mark), ws.since(mark)
    finally:
        ws.close()
    fuzz.server_checks()


#: a password SASLprep refuses (RFC 4013 §5: an unassigned code point, U+0221)
UNPREPARABLE = "\u0221"


def test_a_password_saslprep_refuses_is_refused_never_a_traceback(fuzz: Fuzz) -> None:
    """In-band registration and password change with such a password are
    ``not-acceptable``; a PLAIN login with one is ``not-authorized`` (legacy SASL and
    SASL2, every transport); before, SCRAM key derivation raised in the handler."""
    for transport in ("tcp", "websocket", "bosh"):
        stream = fuzz.stream(transport)
        try:
            stream.open()
            user = fuzz.unique()
            stream.send(f"<iq type='set' id='r1'><query xmlns='jabber:iq:register'>"
                        f"<username>{user}</username><password>{UNPREPARABLE}</password>"
                        "</query></iq>")
            assert stream.read_until("id='r1'.*?</iq>"), stream.text[-500:]
            assert "<not-acceptable" in stream.text[-600:], stream.text[-600:]
            stream.send(f"<auth xmlns='{SASL}' mechanism='PLAIN'>"
                        f"{plain('fuzz1', UNPREPARABLE)}</auth>")
            assert stream.read_until("</failure>"), stream.text[-500:]
            assert "<not-authorized/>" in stream.text[-300:], stream.text[-300:]
            stream.send(f"<authenticate xmlns='{SASL2}' mechanism='PLAIN'><initial-response>"
                        f"{plain('fuzz1', UNPREPARABLE)}</initial-response></authenticate>")
            assert stream.read_until(f"<failure xmlns='{SASL2}'>.*?</failure>"), \
                stream.text[-500:]
            assert "<not-authorized" in stream.text[-300:], stream.text[-300:]
        finally:
            stream.close()
        with fuzz.session(transport, "fuzz1") as stream:
            stream.send(f"<iq type='set' id='pw'><query xmlns='jabber:iq:register'>"
                        f"<username>fuzz1</username><password>{UNPREPARABLE}</password>"
                        "</query></iq>")
            assert stream.read_until("id='pw'.*?</iq>"), stream.text[-500:]
            assert "type='error'" in stream.text[-600:] and "<not-acceptable" in \
                stream.text[-600:], stream.text[-600:]
    fuzz.server_checks()


def test_the_api_and_the_command_line_refuse_such_a_password(fuzz: Fuzz) -> None:
    import json
    import urllib.error
    import urllib.request

    from minixmpp.config import ConfigError, Settings

    for method, path, body in (("POST", "/api/accounts", {"name": fuzz.unique(),
                                                          "password": UNPREPARABLE}),
                               ("PUT", "/api/accounts/fuzz1/password",
                                {"password": UNPREPARABLE})):
        request = urllib.request.Request(
            fuzz.server.http_url + path, method=method, data=json.dumps(body).encode(),
            headers={"Content-Type": "application/json"})
        with pytest.raises(urllib.error.HTTPError) as refused:
            urllib.request.urlopen(request, timeout=10)
        assert refused.value.code == 400
        assert "password is not valid" in refused.value.read().decode()
    with pytest.raises(ConfigError, match="password is not valid"):
        Settings.build({"user": (f"x:{UNPREPARABLE}",)})
    fuzz.server_checks()


def test_a_deeply_nested_bosh_stanza_is_a_policy_violation_not_a_traceback(fuzz: Fuzz) -> None:
    """Over TCP a stanza nested deeper than ``--max-stanza-depth`` is
    ``policy-violation``; in a BOSH body it was built into a tree and serialized again,
    recursively (``RecursionError``, a traceback and HTTP 500). Now the body parser
    counts depth: the session ends with ``policy-violation``."""
    deep = "<message to='by1@localhost'>" + "<a>" * 3000 + "</a>" * 3000 + "</message>"
    bosh = BoshStream(fuzz.server)
    try:
        bosh.login("fuzz1", "fuzz1", "deep")
        mark = bosh.mark()
        bosh.send(deep)
        assert bosh.ended and "condition='policy-violation'" in bosh.since(mark), \
            bosh.since(mark)
    finally:
        bosh.close()
    bosh = BoshStream(fuzz.server)  # no session at all
    text = bosh.post(f"<body xmlns='http://jabber.org/protocol/httpbind' rid='1' "
                     f"to='localhost'>{deep}</body>".encode())
    assert "condition='policy-violation'" in text, text
    fuzz.server_checks()
