"""XEP-0474 SASL SCRAM downgrade protection, as a client checks it: the server-first
message of every SCRAM exchange (legacy SASL and SASL2) carries the hash of the
mechanisms and channel-binding types this stream advertised (``h``, v0.4+ encoding; ``d``,
v0.3), inside the signed SCRAM exchange, so a man in the middle who trims the lists is
found out. scramp is the client; the attributes are checked here by hand."""

from __future__ import annotations

import base64
import hashlib
import re
import ssl
import xml.etree.ElementTree as ET

import pytest
from scramp import ScramClient

from tests.helpers import client_ssl_context
from tests.rawtext import Raw

SASL = "urn:ietf:params:xml:ns:xmpp-sasl"
SASL2 = "urn:xmpp:sasl:2"
SASL_CB = "urn:xmpp:sasl-cb:0"
DIGESTS = {"SCRAM-SHA-1": hashlib.sha1, "SCRAM-SHA-256": hashlib.sha256,
           "SCRAM-SHA-512": hashlib.sha512}


def b64(data: bytes | str) -> str:
    return base64.b64encode(data.encode() if isinstance(data, str) else data).decode()


def offered(features: str, sasl2: bool) -> tuple[list[str], list[str] | None]:
    """What the features advertise: the mechanisms of the profile in use (XEP-0474 §4.1:
    only that one; SASL2's direct ``<mechanism/>`` children, not FAST's), and the XEP-0440
    channel-binding types (None: not advertised)."""
    inner = re.search(r"<stream:features>(.*)</stream:features>", features, re.S).group(1)
    root = ET.fromstring(f"<features>{inner}</features>")
    ns = SASL2 if sasl2 else SASL
    block = root.find(f"{{{ns}}}{'authentication' if sasl2 else 'mechanisms'}")
    mechanisms = [m.text or "" for m in block.findall(f"{{{ns}}}mechanism")]
    cb = root.find(f"{{{SASL_CB}}}sasl-channel-binding")
    return mechanisms, (None if cb is None else
                        [c.get("type", "") for c in cb.findall(f"{{{SASL_CB}}}channel-binding")])


def expected(mechanism: str, mechanisms: list[str], cb_types: list[str] | None,
             v03: bool = False) -> str:
    """§4.2: the client's own hash of what it saw."""
    item, group = (",", "|") if v03 else ("\x1e", "\x1f")
    text = item.join(sorted(mechanisms))
    if cb_types is not None:
        text += group + item.join(sorted(cb_types))
    digest = DIGESTS[mechanism.removesuffix("-PLUS")]
    return b64(digest(text.encode()).digest())


def attributes(message: str) -> dict[str, str]:
    return dict(part.split("=", 1) for part in message.split(","))


async def connect(server, tls: bool) -> tuple[Raw, str]:
    raw = await Raw.connect(server)
    features = await raw.open_stream()
    if tls:
        raw.send("<starttls xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>")
        await raw.read_until("<proceed")
        context = client_ssl_context(server)
        context.minimum_version = ssl.TLSVersion.TLSv1_3
        await raw.writer.start_tls(context, server_hostname="localhost")
        features = await raw.open_stream()
    raw.buffer = b""
    return raw, features


async def scram(raw: Raw, mechanism: str, sasl2: bool, cb=None) -> tuple[str, str]:
    """A whole SCRAM exchange as alice; (server-first-message, outcome)."""
    client = ScramClient([mechanism], "alice", "alice", channel_binding=cb)
    first = b64(client.get_client_first())
    if sasl2:
        raw.send(f"<authenticate xmlns='{SASL2}' mechanism='{mechanism}'><initial-response>"
                 f"{first}</initial-response></authenticate>")
    else:
        raw.send(f"<auth xmlns='{SASL}' mechanism='{mechanism}'>{first}</auth>")
    text = await raw.read_until("</challenge>|</failure>")
    server_first = base64.b64decode(re.search(r"<challenge[^>]*>([^<]+)</challenge>",
                                              text).group(1)).decode()
    client.set_server_first(server_first)
    raw.buffer = b""
    ns = SASL2 if sasl2 else SASL
    raw.send(f"<response xmlns='{ns}'>{b64(client.get_client_final())}</response>")
    outcome = await raw.read_until("</success>|</failure>|<success[^>]*/>")
    data = re.search(r"<additional-data>([^<]+)</additional-data>" if sasl2
                     else r"<success[^>]*>([^<]+)</success>", outcome)
    assert data, outcome
    client.set_server_final(base64.b64decode(data.group(1)).decode())  # server verified
    return server_first, outcome


@pytest.mark.parametrize("mechanism", ["SCRAM-SHA-512", "SCRAM-SHA-256", "SCRAM-SHA-1"])
@pytest.mark.parametrize("sasl2", [False, True], ids=["sasl", "sasl2"])
async def test_scram_signs_the_mechanisms_the_stream_offered(server, mechanism, sasl2
                                                             ) -> None:
    raw, features = await connect(server, tls=False)
    mechanisms, cb_types = offered(features, sasl2)
    assert "PLAIN" in mechanisms and cb_types is None  # loopback, no TLS: no -PLUS
    server_first, outcome = await scram(raw, mechanism, sasl2)
    raw.close()
    got = attributes(server_first)
    assert got["h"] == expected(mechanism, mechanisms, None)
    assert got["d"] == expected(mechanism, mechanisms, None, v03=True)
    assert "<success" in outcome


async def test_sasl2_over_tls_signs_the_channel_binding_types_too(server) -> None:
    raw, features = await connect(server, tls=True)
    mechanisms, cb_types = offered(features, sasl2=True)
    assert "SCRAM-SHA-256-PLUS" in mechanisms
    assert cb_types is not None and "tls-server-end-point" in cb_types
    ssl_object = raw.writer.get_extra_info("ssl_object")
    cb = ("tls-server-end-point", ssl_object)  # scramp computes the data itself
    server_first, outcome = await scram(raw, "SCRAM-SHA-256-PLUS", True, cb)
    raw.close()
    got = attributes(server_first)
    assert got["h"] == expected("SCRAM-SHA-256", mechanisms, cb_types)
    assert got["d"] == expected("SCRAM-SHA-256", mechanisms, cb_types, v03=True)
    # what a MITM would have shown the client: no channel binding at all
    trimmed = [m for m in mechanisms if not m.endswith("-PLUS")]
    assert got["h"] != expected("SCRAM-SHA-256", trimmed, None)
    assert "<success" in outcome


async def test_legacy_sasl_over_tls_without_binding_still_signs_the_types(server) -> None:
    raw, features = await connect(server, tls=True)
    mechanisms, cb_types = offered(features, sasl2=False)
    server_first, outcome = await scram(raw, "SCRAM-SHA-512", False)  # 'n' GS2 flag
    raw.close()
    assert attributes(server_first)["h"] == expected("SCRAM-SHA-512", mechanisms, cb_types)
    assert cb_types is not None and "<success" in outcome


@pytest.mark.server_options(disable=["scram-sha-1", "plain"])
async def test_a_legitimate_configuration_change_is_what_gets_signed(server) -> None:
    raw, features = await connect(server, tls=False)
    mechanisms, _ = offered(features, sasl2=False)
    assert mechanisms == ["SCRAM-SHA-512", "SCRAM-SHA-256"]
    server_first, _ = await scram(raw, "SCRAM-SHA-256", False)
    raw.close()
    got = attributes(server_first)["h"]
    assert got == expected("SCRAM-SHA-256", mechanisms, None)
    assert got != expected("SCRAM-SHA-256", [*mechanisms, "SCRAM-SHA-1", "PLAIN"], None)
