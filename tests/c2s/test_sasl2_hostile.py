"""Broken SASL2/FAST/registration input before authentication: a SASL2 failure, a stanza
error or a stream error, never an internal error; the stream keeps answering."""

from __future__ import annotations

import pytest

from tests.helpers import Raw

S2 = "xmlns='urn:xmpp:sasl:2'"
PLAIN_ALICE = "<initial-response>AGFsaWNlAGFsaWNl</initial-response>"
CASES = {
    "no-mechanism": (f"<authenticate {S2}/>", "<invalid-mechanism"),
    "bad-base64": (f"<authenticate {S2} mechanism='SCRAM-SHA-256'><initial-response>!!!"
                   "</initial-response></authenticate>", "<incorrect-encoding"),
    "response-first": (f"<response {S2}>abc</response>", "<malformed-request"),
    "abort": (f"<abort {S2}/>", "<aborted"),
    "ht-without-nul": (f"<authenticate {S2} mechanism='HT-SHA-256-NONE'><initial-response>"
                       "YWxpY2U=</initial-response></authenticate>", "<malformed-request"),
    "endp-without-tls": (f"<authenticate {S2} mechanism='HT-SHA-256-ENDP'><initial-response>"
                         "YWxpY2UAAAA=</initial-response><user-agent id='x'/></authenticate>",
                         "<malformed-request"),
    "plus-without-tls": (f"<authenticate {S2} mechanism='SCRAM-SHA-256-PLUS'>"
                         "<initial-response>cD10bHMtZXhwb3J0ZXIsLG49YWxpY2Uscj1hYmM="
                         "</initial-response></authenticate>", "<invalid-mechanism"),
    "bogus-inline": (f"<authenticate {S2} mechanism='PLAIN'>{PLAIN_ALICE}<user-agent id='u'/>"
                     "<fast xmlns='urn:xmpp:fast:0' invalidate='true'/>"
                     "<request-token xmlns='urn:xmpp:fast:0' mechanism='BOGUS'/>"
                     "<resume xmlns='urn:xmpp:sm:3' previd='nope' h='x'/>"
                     "<bind xmlns='urn:xmpp:bind:0'/></authenticate>",
                     "<failed xmlns='urn:xmpp:sm:3'><bad-request"),
    "remove-unauthenticated": ("<iq type='set' id='r'><query xmlns='jabber:iq:register'>"
                               "<remove/></query></iq>", "<not-authorized"),
}


@pytest.mark.parametrize("case", CASES)
async def test_bad_input_gets_a_protocol_answer(server, case) -> None:
    data, expected = CASES[case]
    raw = await Raw.connect(server)
    await raw.open_stream()
    raw.buffer = b""
    raw.send(data)
    raw.send("<iq type='get' id='zz'><query xmlns='jabber:iq:register'/></iq>")
    text = await raw.read_until("id='zz'|</stream:stream>")
    raw.close()
    assert expected in text, text
    assert "internal-server-error" not in text
    assert "id='zz'" in text  # the stream still answers (positive control)
    if case == "bogus-inline":  # resumption failed, so Bind2 bound; no token for BOGUS
        assert "<bound xmlns='urn:xmpp:bind:0'>" in text and "<token" not in text
