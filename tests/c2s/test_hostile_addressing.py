"""Hostile addresses (issue 22, finding 1): a domainpart with an empty label
(``.localhost``, ``local..host``), a label over 63 octets, or a JID part that stringprep
maps to nothing is invalid (RFC 7622 §3.2–§3.4) wherever it comes in: a stream header
over TCP or WebSocket is ``host-unknown`` (RFC 6120 §4.9.3.6), a stanza's ``to``, a push
``<enable/>``/``<disable/>`` ``jid`` and a pubsub ``jid`` are stanza errors, the control
API answers 400 and ``--domain`` is a one-line error. Never a traceback in the log."""

from __future__ import annotations

from typing import Any

import pytest
from twisted.words.xish import domish

from minixmpp.config import ConfigError, Settings
from minixmpp.stanza import parse
from tests.helpers import http
from tests.rawtext import Raw, raw_barrier, raw_login
from tests.xmlassert import assert_xml

STREAMS = "http://etherx.jabber.org/streams"
STREAM_ERRORS = "urn:ietf:params:xml:ns:xmpp-streams"
STANZA_ERRORS = "urn:ietf:params:xml:ns:xmpp-stanzas"
FRAMING = "urn:ietf:params:xml:ns:xmpp-framing"
EMPTY_LABELS = (".localhost", "local..host", "localhost..", ".")


pytestmark = pytest.mark.usefixtures("no_tracebacks")  # conftest.py


def element(text: str) -> domish.Element:
    """One serialized element (or a whole stream document), namespaces kept."""
    return parse(text.replace("<?xml version='1.0'?>", ""), neutral=False)


async def stream_to(server: Any, to: str) -> str:
    """Open a TCP stream to ``to``; what the server sends until features or the end."""
    raw = await Raw.connect(server)
    raw.send(f"<?xml version='1.0'?><stream:stream xmlns='jabber:client' "
             f"xmlns:stream='{STREAMS}' to='{to}' version='1.0'>")
    text = await raw.read_until("</stream:features>|</stream:stream>")
    raw.close()
    return text


@pytest.mark.parametrize("to", EMPTY_LABELS)
async def test_a_tcp_stream_to_a_domain_with_an_empty_label_is_host_unknown(server, to):
    text = await stream_to(server, to)
    assert_xml(element(text), element(f"<stream:stream xmlns:stream='{STREAMS}'>"
                                      f"<stream:error><host-unknown xmlns='{STREAM_ERRORS}'/>"
                                      "</stream:error></stream:stream>"))


async def test_a_final_dot_is_stripped_from_the_stream_header_domain(server):
    """RFC 7622 §3.2.1: ``localhost.`` is ``localhost`` (as Prosody strips it)."""
    text = await stream_to(server, "localhost.")
    assert "</stream:features>" in text and "<stream:error" not in text


async def test_a_websocket_open_to_a_domain_with_an_empty_label_is_host_unknown(server):
    import aiohttp

    async with aiohttp.ClientSession() as session:
        async with session.ws_connect(f"ws://127.0.0.1:{server.ports().http}/xmpp-websocket",
                                      protocols=("xmpp",)) as ws:
            await ws.send_str(f"<open xmlns='{FRAMING}' to='.localhost' version='1.0'/>")
            messages = []
            while not messages or "<close" not in messages[-1]:
                message = await ws.receive(timeout=5)
                assert message.type == aiohttp.WSMsgType.TEXT, message
                messages.append(message.data)
    errors = [m for m in messages if m.startswith("<stream:error")]
    assert len(errors) == 1, messages
    assert_xml(element(errors[0]), element(f"<stream:error xmlns:stream='{STREAMS}'><host-"
                                           f"unknown xmlns='{STREAM_ERRORS}'/></stream:error>"))


async def iq_answer(raw: Raw, iq_id: str, payload: str, to: str | None = None) -> str:
    """Send an IQ set on a bound raw stream; its answer."""
    address = f" to='{to}'" if to else ""
    raw.buffer = b""
    raw.send(f"<iq type='set' id='{iq_id}'{address}>{payload}</iq>")
    text = await raw.read_until(f"id='{iq_id}'.*?</iq>")
    return text[text.rindex("<iq "):text.rindex("</iq>") + 5]


@pytest.mark.parametrize("verb", ["enable", "disable"])
async def test_push_with_an_app_server_jid_with_an_empty_label_is_jid_malformed(server, verb):
    """XEP-0357 §5/§6 and RFC 6120 §8.3.3.8: ``jid-malformed``; nothing is registered."""
    raw = await raw_login(server, "alice")
    answer = await iq_answer(raw, "p1", f"<{verb} xmlns='urn:xmpp:push:0' "
                                        "jid='alice@.localhost' node='n'/>")
    assert_xml(element(answer), "<iq type='error' id='p1'><error type='modify'>"
                                f"<jid-malformed xmlns='{STANZA_ERRORS}'/></error></iq>")
    assert server.storage.push.registrations("alice") == []
    await raw_barrier(raw)  # the stream goes on
    raw.close()


@pytest.mark.parametrize("to", ["bob@.localhost", "bob@local..host", "localhost..",
                                "bob@" + "x" * 64 + ".example", "\u00ad@localhost",
                                "bob@localhost/\u00ad"])
async def test_a_stanza_to_an_invalid_jid_is_jid_malformed_and_the_stream_goes_on(server, to):
    """RFC 6120 §8.3.3.8 (an empty label, a label over 63 octets, a part that stringprep
    maps to nothing): the sender gets the error, its stream stays up."""
    raw = await raw_login(server, "alice")
    raw.send(f"<message type='chat' id='m1' to='{to}'><body>hi</body></message>")
    text = await raw.read_until("id='m1'.*?</message>")
    answer = text[text.index("<message"):text.rindex("</message>") + 10]
    assert_xml(element(answer), "<message type='error' id='m1'><error type='modify'>"
                                f"<jid-malformed xmlns='{STANZA_ERRORS}'/></error></message>")
    await raw_barrier(raw)
    raw.close()


@pytest.mark.parametrize("to", ["alice@localhost", "push.localhost"])
async def test_a_pubsub_jid_with_an_empty_label_is_bad_request_invalid_jid(server, to):
    """PEP and the in-process App Server (wokkel's pubsub): XEP-0060 §6.1.3.1."""
    raw = await raw_login(server, "alice")
    answer = await iq_answer(raw, "s1", "<pubsub xmlns='http://jabber.org/protocol/pubsub'>"
                                        "<subscribe node='n' jid='alice@.localhost'/>"
                                        "</pubsub>", to=to)
    assert_xml(element(answer), "<iq type='error' id='s1'><error type='modify'>"
                                f"<bad-request xmlns='{STANZA_ERRORS}'/><invalid-jid "
                                "xmlns='http://jabber.org/protocol/pubsub#errors'/>"
                                "</error></iq>")
    raw.close()


async def test_the_api_answers_400_for_a_session_jid_with_an_empty_label(server):
    status, body = await http("DELETE", f"http://127.0.0.1:{server.ports().http}"
                                        "/api/sessions/alice@.localhost/x")
    assert status == 400 and "not a JID" in body["error"]


@pytest.mark.parametrize("domain", EMPTY_LABELS + ("x" * 64 + ".example",))
def test_a_domain_option_with_an_empty_or_long_label_is_a_one_line_error(domain):
    with pytest.raises(ConfigError) as raised:
        Settings.build({"domain": domain})
    assert str(raised.value).startswith(f"--domain {domain!r} is not a valid domain")
