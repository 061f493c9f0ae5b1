"""BOSH (XEP-0124/0206) fed what real networks and broken clients send (issue 22,
findings 2 and 3): a restart whose request reuses the SASL request's ``rid`` (answered
from the cache, §14.3) and a bind after it; a resent restart; session requests without
a ``to`` or to a domain we do not serve. Never a traceback in the log."""

from __future__ import annotations

from typing import Any

import pytest
from twisted.words.xish import domish

from tests.c2s.bosh import HTTPBIND, SESSION, Bosh
from tests.helpers import close, login
from tests.raw import BIND, SASL, element, plain
from tests.xmlassert import assert_xml

pytestmark = pytest.mark.usefixtures("no_tracebacks")  # conftest.py


def bound(answer: domish.Element, full: str) -> None:
    """``answer`` is a BOSH body carrying the bind result for ``full`` (RFC 6120 §7.6.1)."""
    assert_xml(answer, f"<body xmlns='{HTTPBIND}'><iq xmlns='jabber:client' type='result' "
                       f"id='b1'><bind xmlns='{BIND}'><jid>{full}</jid></bind></iq></body>")
    assert answer.getAttribute("type") != "terminate"


async def messages_flow(server: Any, bosh: Bosh) -> None:
    """The BOSH session is a working c2s session: a message from a TCP client reaches it."""
    bob = await login(server, "bob")
    await bosh.send("<presence xmlns='jabber:client'/>")
    bob.send_message(mto="alice@localhost/bosh", mbody="still there?", mtype="chat")
    await bosh.receive("still there?")
    await close(bob)


async def test_a_restart_reusing_the_sasl_rid_gets_the_cached_success_and_bind_works(server):
    """XEP-0124 §14.3: the restart request (rid of the SASL request) is a resend and gets
    the ``<success/>`` again, without being processed; the bind with the next rid binds
    (the stream restarts with it, as Prosody does) instead of ending the session."""
    bosh = Bosh(server)
    await bosh.create()
    success = await bosh.send_text(f"<auth xmlns='{SASL}' mechanism='PLAIN'>"
                                   f"{plain('alice', 'alice')}</auth>")
    assert_xml(element(success), f"<body xmlns='{HTTPBIND}'><success xmlns='{SASL}'/></body>")
    sasl_rid = bosh.rid
    assert await bosh.send_text(rid=sasl_rid, xmpp_restart="true", to="localhost") == success
    bound(await bosh.bind(), "alice@localhost/bosh")
    assert bosh.sid in server.service("bosh").sessions
    await messages_flow(server, bosh)


async def test_a_resent_restart_is_answered_from_the_cache_and_not_run_again(server):
    bosh = Bosh(server)
    await bosh.create()
    await bosh.auth("alice")
    restarted = await bosh.send_text(xmpp_restart="true", to="localhost")
    assert_xml(element(restarted), f"<body xmlns='{HTTPBIND}'><stream:features>"
                                   f"<bind xmlns='{BIND}'/></stream:features></body>")
    assert await bosh.send_text(rid=bosh.rid, xmpp_restart="true", to="localhost") == restarted
    bound(await bosh.bind(), "alice@localhost/bosh")
    await messages_flow(server, bosh)


@pytest.mark.parametrize("to, condition", [
    (None, "improper-addressing"), ("", "improper-addressing"),
    ("example.com", "host-unknown"), (".localhost", "host-unknown"),
    ("alice@localhost", "host-unknown")])
async def test_a_session_request_without_our_domain_is_terminated_without_a_session(
        server, to, condition):
    """XEP-0124 §7.1 / XEP-0206 §3: ``<body type='terminate' condition=…/>`` and no
    ``sid``; nothing is kept (no session, no stream)."""
    answer = await Bosh(server).send(**{**SESSION, "to": to})
    assert_xml(answer, f"<body xmlns='{HTTPBIND}' type='terminate' condition='{condition}'/>")
    assert answer.getAttribute("sid") is None
    manager = server.service("bosh")
    assert manager.sessions == {} and not getattr(manager.factory, "open_streams", {})


async def test_a_websocket_bind_without_the_restart_is_a_stream_error_not_a_crash(server):
    """The same client mistake over WebSocket (RFC 7395 §3.5 wants a new ``<open/>``
    after SASL): a stream error and ``<close/>``, nothing in the log."""
    import aiohttp

    framing = "urn:ietf:params:xml:ns:xmpp-framing"
    async with aiohttp.ClientSession() as session:
        async with session.ws_connect(f"ws://127.0.0.1:{server.ports().http}/xmpp-websocket",
                                      protocols=("xmpp",)) as ws:
            await ws.send_str(f"<open xmlns='{framing}' to='localhost' version='1.0'/>")
            await ws.send_str(f"<auth xmlns='{SASL}' mechanism='PLAIN'>"
                              f"{plain('alice', 'alice')}</auth>")
            got = []
            while not any("<success" in m for m in got):
                got.append((await ws.receive(timeout=5)).data)
            await ws.send_str(f"<iq xmlns='jabber:client' type='set' id='b1'><bind xmlns="
                              f"'{BIND}'><resource>ws</resource></bind></iq>")
            got = []
            while not got or "<close" not in str(got[-1]):
                message = await ws.receive(timeout=5)
                if message.type != aiohttp.WSMsgType.TEXT:
                    break
                got.append(message.data)
    errors = [m for m in got if m.startswith("<stream:error")]
    assert len(errors) == 1 and "<close" in got[-1], got
    assert_xml(element(errors[0]), element(
        "<stream:error xmlns:stream='http://etherx.jabber.org/streams'><invalid-namespace "
        "xmlns='urn:ietf:params:xml:ns:xmpp-streams'/></stream:error>"))
