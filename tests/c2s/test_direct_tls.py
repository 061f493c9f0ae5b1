"""Direct TLS (XEP-0368): TLS on connect with ALPN ``xmpp-client`` and SNI, then the same
stream as after STARTTLS; real clients (slixmpp, Python's ssl) over a real socket."""

from __future__ import annotations

import asyncio
import ssl

import pytest
from twisted.words.protocols.jabber.jid import JID

from tests.helpers import Client, client_ssl_context, close
from tests.raw import BIND, SASL, TLS, Raw, plain
from tests.xmlassert import assert_xml, find


@pytest.mark.parametrize("version", [ssl.TLSVersion.TLSv1_2, ssl.TLSVersion.TLSv1_3],
                         ids=["tls1.2", "tls1.3"])
async def test_direct_tls_selects_xmpp_client_and_offers_no_starttls(server, version) -> None:
    context = client_ssl_context(server)
    context.minimum_version = context.maximum_version = version
    context.set_alpn_protocols(["xmpp-client"])
    reader, writer = await asyncio.open_connection(
        "127.0.0.1", server.ports().c2s_tls, ssl=context, server_hostname="localhost")
    raw = Raw(reader, writer)
    try:
        tls = writer.get_extra_info("ssl_object")
        assert tls.selected_alpn_protocol() == "xmpp-client"
        features = await raw.open_stream()
        assert find(features, f"<starttls xmlns='{TLS}'/>") is None  # already encrypted
        assert_xml(features, f"<stream:features><mechanisms xmlns='{SASL}'>"
                             "<mechanism>PLAIN</mechanism></mechanisms></stream:features>")
        raw.send(f"<auth xmlns='{SASL}' mechanism='PLAIN'>{plain('alice', 'alice')}</auth>")
        await raw.next(f"<success xmlns='{SASL}'/>")
        await raw.open_stream()
        raw.send(f"<iq type='set' id='b'><bind xmlns='{BIND}'>"
                 "<resource>direct</resource></bind></iq>")
        assert_xml(await raw.next("<iq id='b'/>"), f"<iq type='result'><bind xmlns='{BIND}'>"
                                                   "<jid>alice@localhost/direct</jid></bind></iq>")
        session = server.sessions.get(JID("alice@localhost/direct"))
        assert session is not None and session.tls
    finally:
        raw.close()


async def test_slixmpp_enable_direct_tls_logs_in_and_chats(server) -> None:
    c = Client("alice@localhost/direct", "alice", ssl_context=client_ssl_context(server))
    c.enable_direct_tls = True
    c.enable_starttls = False
    c.enable_plaintext = False
    started: asyncio.Future = asyncio.get_event_loop().create_future()
    c.add_event_handler("session_start", lambda _: started.done() or started.set_result(1))
    c.connect("127.0.0.1", server.ports().c2s_tls)
    await asyncio.wait_for(started, 10)
    try:
        assert "starttls" not in c.features
        session = server.sessions.get(JID("alice@localhost/direct"))
        assert session is not None and session.tls
        c.send_message(mto="alice@localhost/direct", mbody="over direct tls", mtype="chat")
        assert (await c.next_message())["body"] == "over direct tls"
    finally:
        await close(c)


@pytest.mark.server_options(c2s_tls="off")
async def test_c2s_tls_off_listens_on_no_second_port(server) -> None:
    assert server.ports().c2s_tls is None
    assert server.port  # STARTTLS listener still there (positive control)
