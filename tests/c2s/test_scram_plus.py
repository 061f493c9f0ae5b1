"""SCRAM-SHA-512 and the SCRAM ``-PLUS`` mechanisms with channel binding (RFC 5802 §6,
RFC 5929, RFC 9266), advertised per XEP-0440: a pyOpenSSL client (which can compute every
binding type) does the STARTTLS and SCRAM exchange over a real socket."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import socket
import struct

import pytest
from cryptography.hazmat.primitives.serialization import Encoding
from OpenSSL import SSL
from scramp import ScramClient
from twisted.words.xish import domish

from tests.helpers import close, login
from tests.raw import HEADER, SASL, TLS, BlockingStream, Raw
from tests.xmlassert import assert_xml, descendants

SASL_CB = "urn:xmpp:sasl-cb:0"
SUCCESS, FAILURE = f"<success xmlns='{SASL}'/>", f"<failure xmlns='{SASL}'/>"


class SyncStream(BlockingStream):
    """A blocking XMPP client over a socket, upgraded with pyOpenSSL on STARTTLS."""

    def __init__(self, port: int, version: int) -> None:
        self.sock = socket.create_connection(("127.0.0.1", port))
        # a kernel receive timeout: the socket stays blocking, as pyOpenSSL wants it
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVTIMEO,
                             struct.pack("ll", 10, 0))
        self.io: socket.socket | SSL.Connection = self.sock
        self.version = version
        self.restart()

    def recv(self, timeout: float) -> bytes | None:
        return self.io.recv(65536)

    def send(self, text: str) -> None:
        self.io.sendall(text.encode())

    def open_stream(self) -> domish.Element:
        self.restart()
        self.send(HEADER.format(to="localhost"))
        return self.next("<stream:features/>")

    def starttls(self) -> SSL.Connection:
        self.open_stream()
        self.send(f"<starttls xmlns='{TLS}'/>")
        self.next(f"<proceed xmlns='{TLS}'/>")
        ctx = SSL.Context(SSL.TLS_CLIENT_METHOD)
        ctx.set_min_proto_version(self.version)
        ctx.set_max_proto_version(self.version)
        conn = SSL.Connection(ctx, self.sock)
        conn.set_tlsext_host_name(b"localhost")
        conn.set_connect_state()
        conn.do_handshake()
        self.io = conn
        return conn

    def close(self) -> None:
        self.sock.close()


def bindings(conn: SSL.Connection) -> dict[str, bytes]:
    """The client's own computation of every binding type (RFC 5929, RFC 9266)."""
    der = conn.get_peer_certificate().to_cryptography().public_bytes(Encoding.DER)
    out = {"tls-server-end-point": hashlib.sha256(der).digest()}  # sha256WithRSA cert
    if conn.get_protocol_version_name() == "TLSv1.3":
        out["tls-exporter"] = conn.export_keying_material(b"EXPORTER-Channel-Binding", 32)
    else:
        out["tls-unique"] = conn.get_finished()
    return out


def scram_over_tls(port: int, version: int, mech: str, cb_type: str | None,
                   *, corrupt: bool = False, flag_y: bool = False
                   ) -> tuple[domish.Element, domish.Element]:
    """STARTTLS, then one SCRAM exchange; returns (features, the server's last answer)."""
    s = SyncStream(port, version)
    try:
        conn = s.starttls()
        features = s.open_stream()
        cb = None
        if cb_type is not None:
            data = bindings(conn)[cb_type]
            cb = (cb_type, bytes(b ^ 1 for b in data) if corrupt else data)
        client = ScramClient([mech], "alice", "alice", channel_binding=cb)
        first = client.get_client_first()
        if flag_y:
            first = "y" + first[1:]
        s.send(f"<auth xmlns='{SASL}' mechanism='{mech}'>"
               f"{base64.b64encode(first.encode()).decode()}</auth>")
        answer = s.next(f"<challenge xmlns='{SASL}'/>", f"<failure xmlns='{SASL}'/>")
        if answer.name != "challenge":
            return features, answer
        client.set_server_first(base64.b64decode(str(answer)).decode())
        final = client.get_client_final()
        s.send(f"<response xmlns='{SASL}'>{base64.b64encode(final.encode()).decode()}"
               "</response>")
        answer = s.next(f"<success xmlns='{SASL}'/>", f"<failure xmlns='{SASL}'/>")
        if answer.name == "success":
            client.set_server_final(base64.b64decode(str(answer)).decode())  # verifies server
        return features, answer
    finally:
        s.close()


TLS12, TLS13 = SSL.TLS1_2_VERSION, SSL.TLS1_3_VERSION
CASES = [(TLS13, "tls-exporter"), (TLS13, "tls-server-end-point"),
         (TLS12, "tls-unique"), (TLS12, "tls-server-end-point")]


@pytest.mark.parametrize("hash_name", ["SCRAM-SHA-512", "SCRAM-SHA-256", "SCRAM-SHA-1"])
@pytest.mark.parametrize("version,cb_type", CASES,
                         ids=[f"{'1.3' if v == TLS13 else '1.2'}-{t}" for v, t in CASES])
async def test_scram_plus_binds_to_the_tls_channel(server, version, cb_type, hash_name
                                                   ) -> None:
    features, answer = await asyncio.to_thread(
        scram_over_tls, server.port, version, f"{hash_name}-PLUS", cb_type)
    assert_xml(answer, SUCCESS)
    assert_xml(features, f"""
        <stream:features>
          <mechanisms xmlns='{SASL}'><mechanism>{hash_name}-PLUS</mechanism></mechanisms>
          <sasl-channel-binding xmlns='{SASL_CB}'><channel-binding type='{cb_type}'/>
          </sasl-channel-binding>
        </stream:features>""")
    other = "tls-unique" if version == TLS13 else "tls-exporter"
    offered = [e["type"] for e in descendants(features) if e.name == "channel-binding"]
    assert other not in offered  # never offered on that TLS version


@pytest.mark.parametrize("version,cb_type", CASES[:1] + CASES[2:3],
                         ids=["1.3-tls-exporter", "1.2-tls-unique"])
async def test_wrong_channel_binding_data_is_not_authorized(server, version, cb_type
                                                            ) -> None:
    _, answer = await asyncio.to_thread(
        scram_over_tls, server.port, version, "SCRAM-SHA-256-PLUS", cb_type, corrupt=True)
    assert_xml(answer, FAILURE)


async def test_y_flag_while_plus_is_offered_is_a_downgrade(server) -> None:
    _, answer = await asyncio.to_thread(
        scram_over_tls, server.port, TLS13, "SCRAM-SHA-256", None, flag_y=True)
    assert_xml(answer, f"<failure xmlns='{SASL}'><not-authorized/></failure>")
    # positive control: the same without the y flag logs in
    _, answer = await asyncio.to_thread(
        scram_over_tls, server.port, TLS13, "SCRAM-SHA-256", None)
    assert_xml(answer, SUCCESS)


async def test_no_plus_mechanisms_without_tls(server) -> None:
    raw = await Raw.connect(server)
    features = await raw.open_stream()
    raw.close()
    assert_xml(features, f"<stream:features><mechanisms xmlns='{SASL}'>"
                         "<mechanism>SCRAM-SHA-512</mechanism></mechanisms></stream:features>")
    mechanisms = [str(e) for e in descendants(features) if e.name == "mechanism"]
    assert not [m for m in mechanisms if m.endswith("-PLUS")]
    assert "sasl-channel-binding" not in [e.name for e in descendants(features)]


@pytest.mark.parametrize("tls", [False, True])
async def test_slixmpp_logs_in_with_scram_sha_512(server, tls) -> None:
    alice = await login(server, "alice", mech="SCRAM-SHA-512", tls=tls)
    try:
        assert alice["feature_mechanisms"].mech.name == "SCRAM-SHA-512"
    finally:
        await close(alice)
