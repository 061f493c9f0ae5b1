"""TLS material for STARTTLS (RFC 6120 §5): a given PEM pair or a generated self-signed one."""

from __future__ import annotations

import datetime
import ipaddress
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from twisted.internet import ssl

from minixmpp.config import ConfigError


@dataclass(frozen=True)
class TLSMaterial:
    """Certificate and key (PEM), and the Twisted context factory built from them."""

    cert_pem: bytes
    key_pem: bytes
    options: ssl.CertificateOptions
    fingerprint: str  # SHA-256, colon-separated hex
    self_signed: bool


def _persisted(domain: str, data_dir: Path) -> tuple[str, str]:
    cert, key = data_dir / f"{domain}.crt", data_dir / f"{domain}.key"
    if not (cert.exists() and key.exists()):
        data_dir.mkdir(parents=True, exist_ok=True)
        cert_pem, key_pem = self_signed(domain)
        key.touch(mode=0o600)
        key.write_bytes(key_pem)
        cert.write_bytes(cert_pem)
    return str(cert), str(key)


def self_signed(domain: str) -> tuple[bytes, bytes]:
    """A fresh EC P-256 self-signed certificate for ``domain`` (kept in memory only)."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, domain)])
    now = datetime.datetime.now(datetime.UTC)
    alt: list[x509.GeneralName] = [x509.DNSName(domain)]
    if domain == "localhost":
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


def load(domain: str, cert_file: str | None, key_file: str | None,
         data_dir: str | None = None) -> TLSMaterial:
    """Load ``--tls-cert``/``--tls-key`` or generate a self-signed pair for ``domain``
    (kept in ``data_dir`` when there is one, so clients that accepted it keep working)."""
    if not cert_file and data_dir:
        cert_file, key_file = _persisted(domain, Path(data_dir))
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
        cert_pem, key_pem = self_signed(domain)
        generated = True
    try:
        # cryptography objects, not pyOpenSSL's X509/PKey (deprecated: every context
        # built from those warns)
        certificate = x509.load_pem_x509_certificate(cert_pem)
        options = ssl.CertificateOptions(
            privateKey=serialization.load_pem_private_key(key_pem, password=None),
            certificate=certificate)
        options.getContext()  # fail now, not at the first STARTTLS, on a key/cert mismatch
        der = certificate.fingerprint(hashes.SHA256())
    except Exception as e:  # noqa: BLE001  (any parse error is a configuration error)
        raise ConfigError(f"--tls-cert/--tls-key: not a usable PEM certificate and key ({e})"
                          ) from None
    return TLSMaterial(cert_pem, key_pem, options, ":".join(f"{b:02X}" for b in der), generated)
