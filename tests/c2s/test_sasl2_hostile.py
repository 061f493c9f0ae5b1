"""Broken SASL2/FAST/registration input before authentication: a SASL2 failure, a stanza
error or a stream error, never an internal error; the stream keeps answering."""

from __future__ import annotations

import pytest

from tests.raw import SASL, STANZA_ERRORS, Raw
from tests.xmlassert import assert_any, assert_xml, descendants, find

S2 = "xmlns='urn:xmpp:sasl:2'"
PLAIN_ALICE = "<initial-response>AGFsaWNlAGFsaWNl</initial-response>"


def failure(condition: str) -> str:
    return f"<failure {S2}><{condition} xmlns='{SASL}'/></failure>"


CASES = {
    "no-mechanism": (f"<authenticate {S2}/>", failure("invalid-mechanism")),
    "bad-base64": (f"<authenticate {S2} mechanism='SCRAM-SHA-256'><initial-response>!!!"
                   "</initial-response></authenticate>", failure("incorrect-encoding")),
    "response-first": (f"<response {S2}>abc</response>", failure("malformed-request")),
    "abort": (f"<abort {S2}/>", failure("aborted")),
    "ht-without-nul": (f"<authenticate {S2} mechanism='HT-SHA-256-NONE'><initial-response>"
                       "YWxpY2U=</initial-response></authenticate>",
                       failure("malformed-request")),
    "endp-without-tls": (f"<authenticate {S2} mechanism='HT-SHA-256-ENDP'><initial-response>"
                         "YWxpY2UAAAA=</initial-response><user-agent id='x'/></authenticate>",
                         failure("malformed-request")),
    "plus-without-tls": (f"<authenticate {S2} mechanism='SCRAM-SHA-256-PLUS'>"
                         "<initial-response>cD10bHMtZXhwb3J0ZXIsLG49YWxpY2Uscj1hYmM="
                         "</initial-response></authenticate>", failure("invalid-mechanism")),
    "bogus-inline": (f"<authenticate {S2} mechanism='PLAIN'>{PLAIN_ALICE}<user-agent id='u'/>"
                     "<fast xmlns='urn:xmpp:fast:0' invalidate='true'/>"
                     "<request-token xmlns='urn:xmpp:fast:0' mechanism='BOGUS'/>"
                     "<resume xmlns='urn:xmpp:sm:3' previd='nope' h='x'/>"
                     "<bind xmlns='urn:xmpp:bind:0'/></authenticate>",
                     f"<success {S2}><failed xmlns='urn:xmpp:sm:3'><bad-request "
                     f"xmlns='{STANZA_ERRORS}'/></failed></success>"),
    "remove-unauthenticated": ("<iq type='set' id='r'><query xmlns='jabber:iq:register'>"
                               "<remove/></query></iq>",
                               f"<iq type='error' id='r'><error><not-authorized "
                               f"xmlns='{STANZA_ERRORS}'/></error></iq>"),
}


@pytest.mark.parametrize("case", CASES)
async def test_bad_input_gets_a_protocol_answer(server, case) -> None:
    data, expected = CASES[case]
    raw = await Raw.connect(server)
    await raw.open_stream()
    raw.send(data)
    raw.send("<iq type='get' id='zz'><query xmlns='jabber:iq:register'/></iq>")
    answered = await raw.next("<iq id='zz'/>")  # the stream still answers (positive control)
    raw.close()
    answer = assert_any(raw.pending, expected)
    names = [d.name for e in [*raw.pending, answered] for d in descendants(e)]
    assert "internal-server-error" not in names
    if case == "bogus-inline":  # resumption failed, so Bind2 bound; no token for BOGUS
        assert_xml(answer, f"<success {S2}><bound xmlns='urn:xmpp:bind:0'/></success>")
        assert find(answer, "<token xmlns='urn:xmpp:fast:0'/>") is None
