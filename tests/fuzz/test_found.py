"""What the grammar fuzzing found, one regression test each (issue 22), against the real
``twistd`` with the same per-example checks (no traceback in the log, bystanders talk)."""

from __future__ import annotations

import pytest

from tests.fuzz.clients import BoshStream, WebSocketStream
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
        assert "<iq xmlns='jabber:client' type='result' id='reg'" in bosh.since(mark), \
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
