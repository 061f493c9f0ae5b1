"""RFC 6120 streams, with raw bytes and a real client (slixmpp): stream headers and
errors, the features offered, nothing before authentication and binding, resource binding
and conflicts."""

from __future__ import annotations

from xml.sax.saxutils import escape

import pytest
from twisted.words.protocols.jabber.jid import JID

from tests.helpers import close, eventually, login
from tests.raw import BIND, SASL, TLS, Raw, raw_authenticated
from tests.xmlassert import assert_xml


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
    await raw.stream_error(condition)  # ... and </stream:stream>
    assert raw.header is not None, "a stream error is preceded by our stream header"


async def test_features_offer_starttls_and_scram_first(server) -> None:
    raw = await Raw.connect(server)
    features = await raw.open_stream()
    assert_xml(raw.header, "<stream:stream version='1.0' from='localhost' id='*'/>")
    assert_xml(features, f"""
        <stream:features>
          <starttls xmlns='{TLS}'/>
          <mechanisms xmlns='{SASL}'>
            <mechanism>SCRAM-SHA-256</mechanism>
            <mechanism>SCRAM-SHA-1</mechanism>
            <mechanism>PLAIN</mechanism>
          </mechanisms>
        </stream:features>""")  # SCRAM first; loopback allows PLAIN without TLS
    raw.close()


@pytest.mark.parametrize("stanza", [
    "<message to='bob@localhost'><body>hi</body></message>",
    "<iq type='get' id='1'><query xmlns='jabber:iq:roster'/></iq>",
    "<presence/>",
])
async def test_stanza_before_auth_is_not_authorized(server, stanza: str) -> None:
    raw = await Raw.connect(server)
    await raw.open_stream()
    raw.send(stanza)
    await raw.stream_error("not-authorized")


async def test_stanza_before_bind_is_not_authorized(server) -> None:
    raw, features = await raw_authenticated(server, "alice")
    assert_xml(features, f"<stream:features><bind xmlns='{BIND}'/></stream:features>")
    raw.send("<message to='bob@localhost'><body>hi</body></message>")
    await raw.stream_error("not-authorized")


@pytest.mark.parametrize(("asked", "bound"), [
    ("Desk 2 ~!#$%^&*()_+{}|:\"?", "Desk 2 ~!#$%^&*()_+{}|:\"?"),  # ASCII: as sent, case kept
    ("Ｐhone\u00ad", "Phone"),  # Resourceprep: NFKC, soft hyphen mapped to nothing
    ("Ünïcode", "Ünïcode"),
])
async def test_bound_resource_is_resourceprepped(server, asked: str, bound: str) -> None:
    """RFC 6120 §7.7.2.1 / RFC 7622 §3.4: the server binds the prepared resourcepart."""
    raw, _ = await raw_authenticated(server, "alice")
    raw.send(f"<iq type='set' id='b'><bind xmlns='{BIND}'>"
             f"<resource>{escape(asked)}</resource></bind></iq>")
    result = await raw.next("<iq id='b'/>")
    assert str(result.bind.jid) == f"alice@localhost/{bound}"
    raw.close()


@pytest.mark.parametrize("asked", ["tab\there", "del\x7f"])
async def test_a_control_character_in_a_resource_is_bad_request(server, asked: str) -> None:
    """RFC 6120 §7.7.2.1: a resourcepart Resourceprep forbids (ASCII controls, C.2.1)."""
    raw, _ = await raw_authenticated(server, "alice")
    raw.send(f"<iq type='set' id='b'><bind xmlns='{BIND}'>"
             f"<resource>{asked}</resource></bind></iq>")
    result = await raw.next("<iq id='b'/>")
    assert result["type"] == "error" and result.error.firstChildElement().name == "bad-request"
    raw.close()


async def test_bind_generates_a_resource_and_legacy_session_is_accepted(server) -> None:
    raw, _ = await raw_authenticated(server, "alice")
    raw.send(f"<iq type='set' id='b'><bind xmlns='{BIND}'/></iq>")
    bound = await raw.next("<iq id='b'/>")
    assert_xml(bound, f"<iq type='result' id='b'><bind xmlns='{BIND}'><jid/></bind></iq>")
    assert str(bound.bind.jid).startswith("alice@localhost/")
    raw.send("<iq type='set' id='s'><session xmlns='urn:ietf:params:xml:ns:xmpp-session'/></iq>")
    assert_xml(await raw.next("<iq id='s'/>"), "<iq type='result' id='s'/>")
    raw.send("  \n ")  # whitespace keepalive
    raw.send("<iq type='get' id='p' to='localhost'><ping xmlns='urn:xmpp:ping'/></iq>")
    assert_xml(await raw.next("<iq id='p'/>"), "<iq type='result' id='p' from='localhost'/>")
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
