"""STARTTLS that every client accepts (RFC 6120 §5, RFC 7301 ALPN, XEP-0368 §3): real TLS
clients (Python's ssl, OpenSSL's s_client) over real sockets; --require-tls and --no-tls."""

from __future__ import annotations

import asyncio
import shutil
import ssl

import pytest

from tests.helpers import client_ssl_context, close, login
from tests.raw import BIND, SASL, TLS, Raw, plain
from tests.xmlassert import assert_xml, find

VERSIONS = {"tls1.2": ssl.TLSVersion.TLSv1_2, "tls1.3": ssl.TLSVersion.TLSv1_3}
OFFERS = {"xmpp-client": ["xmpp-client"], "h2": ["h2"], "no-alpn": None,
          "h2-and-xmpp": ["h2", "xmpp-client"]}
SELECTED = {"xmpp-client": "xmpp-client", "h2": None, "no-alpn": None,
            "h2-and-xmpp": "xmpp-client"}


async def starttls(server, *, version: ssl.TLSVersion, alpn: list[str] | None
                   ) -> tuple[Raw, ssl.SSLObject]:
    """Open a stream, negotiate STARTTLS and upgrade the socket with Python's ssl."""
    raw = await Raw.connect(server)
    features = await raw.open_stream()
    assert_xml(features, f"<stream:features><starttls xmlns='{TLS}'/></stream:features>")
    raw.send(f"<starttls xmlns='{TLS}'/>")
    await raw.next(f"<proceed xmlns='{TLS}'/>")
    context = client_ssl_context(server)
    context.minimum_version = context.maximum_version = version
    if alpn:
        context.set_alpn_protocols(alpn)
    await raw.writer.start_tls(context, server_hostname="localhost")
    return raw, raw.writer.get_extra_info("ssl_object")


@pytest.mark.parametrize("version", VERSIONS)
@pytest.mark.parametrize("offer", OFFERS)
async def test_starttls_accepts_any_alpn_offer(server, offer: str, version: str) -> None:
    raw, tls = await starttls(server, version=VERSIONS[version], alpn=OFFERS[offer])
    try:
        assert tls.version() == {"tls1.2": "TLSv1.2", "tls1.3": "TLSv1.3"}[version]
        assert tls.selected_alpn_protocol() == SELECTED[offer]
        # the stream goes on over TLS: authenticate, bind, and get an IQ answered
        await raw.open_stream()
        raw.send(f"<auth xmlns='{SASL}' mechanism='PLAIN'>{plain('alice', 'alice')}</auth>")
        await raw.next(f"<success xmlns='{SASL}'/>")
        await raw.open_stream()
        raw.send(f"<iq type='set' id='b'><bind xmlns='{BIND}'/></iq>")
        raw.send("<iq type='get' id='p'><ping xmlns='urn:xmpp:ping'/></iq>")
        assert_xml(await raw.next("<iq id='p'/>"), "<iq type='result' id='p'/>")
    finally:
        raw.close()


async def s_client(server, *args: str) -> str:
    """``openssl s_client -starttls xmpp`` against the server; its whole output."""
    proc = await asyncio.create_subprocess_exec(
        "openssl", "s_client", "-starttls", "xmpp", "-xmpphost", "localhost",
        "-connect", f"127.0.0.1:{server.port}", *args,
        stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT)
    out, _ = await asyncio.wait_for(proc.communicate(b""), 10)
    return out.decode(errors="replace")


@pytest.mark.skipif(shutil.which("openssl") is None, reason="needs the openssl command")
@pytest.mark.parametrize("version", ["-tls1_2", "-tls1_3"])
@pytest.mark.parametrize("group", ["X25519", "P-256", "P-384"])
async def test_ecdhe_groups_on_tls12_and_tls13(server, group: str, version: str) -> None:
    out = await s_client(server, version, "-groups", group)
    name = {"X25519": "X25519", "P-256": "prime256v1", "P-384": "secp384r1"}[group]
    assert f"Server Temp Key: {'' if group == 'X25519' else 'ECDH, '}{name}" in out, out


@pytest.mark.skipif(shutil.which("openssl") is None, reason="needs the openssl command")
async def test_tls11_is_refused(server) -> None:
    """TLS 1.2 is the floor: an older client gets no session (positive control above)."""
    out = await s_client(server, "-tls1_1")
    assert "Server Temp Key" not in out and "Cipher is (NONE)" in out, out


@pytest.mark.server_options(require_tls=True)
async def test_require_tls_offers_only_starttls_and_refuses_auth(server) -> None:
    raw = await Raw.connect(server)
    features = await raw.open_stream()
    assert_xml(features, f"<stream:features><starttls xmlns='{TLS}'><required/></starttls>"
                         "</stream:features>")
    assert find(features, f"<mechanisms xmlns='{SASL}'/>") is None
    raw.send(f"<auth xmlns='{SASL}' mechanism='PLAIN'>{plain('alice', 'alice')}</auth>")
    assert_xml(await raw.next(f"<failure xmlns='{SASL}'/>"),
               f"<failure xmlns='{SASL}'><encryption-required/></failure>")
    raw.close()
    alice = await login(server, "alice", tls=True, mech="PLAIN")
    assert "starttls" in alice.features
    await close(alice)


@pytest.mark.server_options(no_tls=True)
async def test_no_tls_offers_no_starttls(server) -> None:
    raw = await Raw.connect(server)
    features = await raw.open_stream()
    assert find(features, f"<starttls xmlns='{TLS}'/>") is None
    raw.send(f"<starttls xmlns='{TLS}'/>")
    assert find(await raw.closed(), f"<failure xmlns='{TLS}'/>") is not None  # then closed
