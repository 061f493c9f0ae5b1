"""TLS for STARTTLS (RFC 6120 §5) and Direct TLS (XEP-0368): certificate material, the
server context every client accepts (ALPN, TLS 1.2/1.3, groups) and channel-binding data
(RFC 5929 ``tls-server-end-point``, RFC 9266 ``tls-exporter``)."""

from __future__ import annotations

import datetime
import functools
import ipaddress
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID
from OpenSSL import SSL
from OpenSSL._util import lib as _lib
from twisted.internet import ssl
from twisted.protocols.tls import TLSMemoryBIOFactory

from minixmpp.config import ConfigError
from minixmpp.feature import Context, Feature

#: XEP-0368 §3: the ALPN protocol of client-to-server XMPP.
ALPN_XMPP_CLIENT = b"xmpp-client"
#: ECDHE groups offered on TLS 1.2 and 1.3 (in order of preference).
GROUPS = b"X25519:P-256:P-384"


@dataclass(frozen=True)
class TLSMaterial:
    """Certificate and key (PEM), and the Twisted context factory built from them."""

    cert_pem: bytes
    key_pem: bytes
    options: ssl.CertificateOptions
    fingerprint: str  # SHA-256, colon-separated hex
    self_signed: bool


def _persisted(domains: tuple[str, ...], data_dir: Path) -> tuple[str, str]:
    name = "+".join(domains)
    cert, key = data_dir / f"{name}.crt", data_dir / f"{name}.key"
    if not (cert.exists() and key.exists()):
        data_dir.mkdir(parents=True, exist_ok=True)
        cert_pem, key_pem = self_signed(domains)
        key.touch(mode=0o600)
        key.write_bytes(key_pem)
        cert.write_bytes(cert_pem)
    return str(cert), str(key)


_generated: dict[tuple[str, ...], tuple[bytes, bytes]] = {}


def self_signed(domains: str | tuple[str, ...]) -> tuple[bytes, bytes]:
    """A self-signed RSA-2048 certificate naming every one of ``domains`` (kept in memory
    only; one per set of domains and process, since generating the key costs tens of
    milliseconds).

    RSA rather than ECDSA: in TLS 1.2 OpenSSL signs with an ECDSA key only when the
    client's supported_groups names the key's curve, so a P-256 certificate refuses a TLS
    1.2 client offering only X25519 (``openssl s_client -tls1_2 -groups X25519``).
    """
    if isinstance(domains, str):
        domains = (domains,)
    if domains in _generated:
        return _generated[domains]
    _generated[domains] = pair = _new_self_signed(domains)
    return pair


def _new_self_signed(domains: tuple[str, ...]) -> tuple[bytes, bytes]:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, domains[0])])
    now = datetime.datetime.now(datetime.UTC)
    alt: list[x509.GeneralName] = [x509.DNSName(domain) for domain in domains]
    if "localhost" in domains:
        alt += [x509.IPAddress(ipaddress.ip_address("127.0.0.1")),
                x509.IPAddress(ipaddress.ip_address("::1"))]
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=365))
        .add_extension(x509.SubjectAlternativeName(alt), critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    return (
        cert.public_bytes(serialization.Encoding.PEM),
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                          serialization.NoEncryption()),
    )


def load(domains: str | tuple[str, ...], cert_file: str | None, key_file: str | None,
         data_dir: str | None = None) -> TLSMaterial:
    """Load ``--tls-cert``/``--tls-key`` or generate a self-signed pair naming every one
    of ``domains`` (kept in ``data_dir`` when there is one, so clients that accepted it
    keep working)."""
    if isinstance(domains, str):
        domains = (domains,)
    if not cert_file and data_dir:
        cert_file, key_file = _persisted(domains, Path(data_dir))
    if cert_file and key_file:
        try:
            with open(cert_file, "rb") as f:
                cert_pem = f.read()
            with open(key_file, "rb") as f:
                key_pem = f.read()
        except OSError as e:
            raise ConfigError(f"cannot read TLS file {e.filename}: {e.strerror}") from None
        generated = cert_file.startswith(str(data_dir)) if data_dir else False
    else:
        cert_pem, key_pem = self_signed(domains)
        generated = True
    try:
        options = server_options(key_pem, cert_pem)  # fails now on a key/cert mismatch
        der = x509.load_pem_x509_certificate(cert_pem).fingerprint(hashes.SHA256())
    except Exception as e:  # noqa: BLE001  (any parse error is a configuration error)
        raise ConfigError(f"--tls-cert/--tls-key: not a usable PEM certificate and key ({e})"
                          ) from None
    return TLSMaterial(cert_pem, key_pem, options, ":".join(f"{b:02X}" for b in der), generated)


@functools.lru_cache(maxsize=16)
def server_options(key_pem: bytes, cert_pem: bytes) -> ssl.CertificateOptions:
    """The server-side TLS context: TLS 1.2 and 1.3, ECDHE over X25519/P-256/P-384, and
    ALPN that selects ``xmpp-client`` and accepts any other offer (XEP-0368 §3).

    Built once per key and certificate per process (loading an RSA key checks it, which
    took most of a fixture server's start); servers sharing a certificate share it."""
    # cryptography objects, not pyOpenSSL's X509/PKey (deprecated: every context built
    # from those warns)
    options = ssl.CertificateOptions(
        privateKey=serialization.load_pem_private_key(key_pem, password=None),
        certificate=x509.load_pem_x509_certificate(cert_pem),
        raiseMinimumTo=ssl.TLSVersion.TLSv1_2)
    # Twisted builds one context per CertificateOptions and hands it to every connection
    # (serverConnectionForTLS -> getContext), so configuring it here covers them all.
    ctx = options.getContext()
    if _lib.SSL_CTX_set1_curves_list(ctx._context, GROUPS) != 1:  # noqa: SLF001
        raise ConfigError(f"this OpenSSL does not offer the TLS groups {GROUPS.decode()}")
    # Workaround (Twisted 26.10 + pyOpenSSL 26.4, twisted.internet._sslverify.setupForALPN):
    # Twisted installs an ALPN select callback on every context, and when none of the
    # client's protocols is acceptable (always, for a server without acceptableProtocols)
    # it returns b"" instead of pyOpenSSL's NO_OVERLAPPING_PROTOCOLS. pyOpenSSL then
    # answers SSL_TLSEXT_ERR_OK with an empty protocol, which OpenSSL refuses with a fatal
    # "internal_error" alert: every client that offers ALPN (Go's crypto/tls, Direct TLS
    # clients) failed its handshake. Ours selects xmpp-client, or nothing (like Prosody).
    ctx.set_alpn_select_callback(select_alpn)
    return options


def direct_tls_factory(material: TLSMaterial, factory: Any) -> TLSMemoryBIOFactory:
    """XEP-0368 §3: TLS from the first byte (with ALPN and SNI), then the same c2s stream
    as after STARTTLS."""
    return TLSMemoryBIOFactory(material.options, False, factory)


def select_alpn(connection: SSL.Connection, offered: list[bytes]) -> bytes | object:
    """RFC 7301 §3.2 on the server: ``xmpp-client`` when offered, else no protocol."""
    if ALPN_XMPP_CLIENT in offered:
        return ALPN_XMPP_CLIENT
    return SSL.NO_OVERLAPPING_PROTOCOLS


def tls_connection(transport: object) -> SSL.Connection | None:
    """The pyOpenSSL connection under a transport after STARTTLS or on Direct TLS."""
    get = getattr(transport, "getHandle", None)
    handle = get() if get is not None else None
    return handle if isinstance(handle, SSL.Connection) else None


def channel_bindings(transport: object) -> dict[str, bytes]:
    """Channel-binding data by type for the TLS connection under ``transport``.

    ``tls-exporter`` (RFC 9266) only on TLS 1.3, where it is safe without extended
    master secret, ``tls-unique`` (RFC 5929 §3) only below it; ``tls-server-end-point``
    (RFC 5929 §4.1) always: the hash of our certificate, SHA-256 when its signature uses
    MD5 or SHA-1.
    """
    conn = tls_connection(transport)
    if conn is None:
        return {}
    bindings: dict[str, bytes] = {}
    cert = conn.get_certificate()
    if cert is not None:
        c = cert.to_cryptography()
        algorithm = c.signature_hash_algorithm
        if algorithm is None or algorithm.name in ("md5", "sha1"):
            algorithm = hashes.SHA256()
        digest = hashes.Hash(algorithm)
        digest.update(c.public_bytes(serialization.Encoding.DER))
        bindings["tls-server-end-point"] = digest.finalize()
    if conn.get_protocol_version_name() == "TLSv1.3":
        bindings["tls-exporter"] = conn.export_keying_material(
            b"EXPORTER-Channel-Binding", 32, None)
    else:
        # RFC 5929 §3.1: the first Finished of the latest handshake (the client's on a
        # full handshake, ours on a resumed one). Undefined on TLS 1.3 (RFC 9266 §3).
        reused = _lib.SSL_session_reused(conn._ssl) == 1  # noqa: SLF001
        first = conn.get_finished() if reused else conn.get_peer_finished()
        if first:
            bindings["tls-unique"] = first
    return bindings


def selected_alpn(transport: object) -> bytes | None:
    """The ALPN protocol negotiated on ``transport`` (None when there was none)."""
    conn = tls_connection(transport)
    return (conn.get_alpn_proto_negotiated() or None) if conn is not None else None


def build(ctx: Context) -> Feature:
    """The ``direct-tls`` feature: the ``--c2s-tls`` listener (XEP-0368), off with
    ``--c2s-tls off`` (or ``--no-tls``)."""
    return Feature("direct-tls")
