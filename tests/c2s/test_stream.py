"""RFC 6120 streams, with raw bytes and a real client (slixmpp): stream headers and
errors, the features offered, nothing before authentication and binding, resource binding
and conflicts."""

from __future__ import annotations

import re

import pytest
from twisted.words.protocols.jabber.jid import JID

from tests.helpers import (
    Raw,
    close,
    eventually,
    login,
    raw_authenticated,
)


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
