"""SASL2 and FAST exchanges on a raw stream, as the XEPs' examples write them."""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import ssl

from scramp import ScramClient

from tests.helpers import Raw, client_ssl_context

SASL2 = "urn:xmpp:sasl:2"


UA = ("<user-agent id='d4565fa7-4d72-4749-b3d3-740edbf87770'><software>AwesomeXMPP"
      "</software><device>Kiva's Phone</device></user-agent>")


BIND = ("<bind xmlns='urn:xmpp:bind:0'><tag>AwesomeXMPP</tag>"
        "<enable xmlns='urn:xmpp:carbons:2'/><enable xmlns='urn:xmpp:sm:3' resume='true'/>"
        "<inactive xmlns='urn:xmpp:csi:0'/></bind>")


def b64(data: bytes | str) -> str:
    return base64.b64encode(data.encode() if isinstance(data, str) else data).decode()


async def connect(server, tls: bool = False) -> tuple[Raw, str]:
    raw = await Raw.connect(server)
    features = await raw.open_stream()
    if tls:
        raw.send("<starttls xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>")
        await raw.read_until("<proceed")
        context = client_ssl_context(server)
        context.maximum_version = ssl.TLSVersion.TLSv1_3
        await raw.writer.start_tls(context, server_hostname="localhost")
        features = await raw.open_stream()
    raw.buffer = b""
    return raw, features


async def scram_authenticate(raw: Raw, user: str, extra: str) -> str:
    """SCRAM-SHA-256 over SASL2 with ``extra`` inline requests; the <success/>."""
    client = ScramClient(["SCRAM-SHA-256"], user, user)
    raw.send(f"<authenticate xmlns='{SASL2}' mechanism='SCRAM-SHA-256'><initial-response>"
             f"{b64(client.get_client_first())}</initial-response>{UA}{extra}</authenticate>")
    text = await raw.read_until("</challenge>|</failure>")
    challenge = re.search(r"<challenge xmlns='urn:xmpp:sasl:2'>([^<]+)</challenge>", text)
    client.set_server_first(base64.b64decode(challenge.group(1)).decode())
    raw.buffer = b""
    raw.send(f"<response xmlns='{SASL2}'>{b64(client.get_client_final())}</response>")
    text = await raw.read_until("</success>|</failure>")
    keep_after(raw, text)
    data = re.search(r"<additional-data>([^<]+)</additional-data>", text)
    assert data, text
    client.set_server_final(base64.b64decode(data.group(1)).decode())  # server verified
    return text


def keep_after(raw: Raw, text: str) -> None:
    """Leave in the buffer only what came after the SASL2 outcome (stanzas that follow)."""
    end = max(text.find("</success>") + len("</success>") if "</success>" in text else -1,
              text.find("</failure>") + len("</failure>") if "</failure>" in text else -1)
    raw.buffer = text[end:].encode() if end > 0 else b""


def ht(token: str, label: bytes, cb: bytes = b"") -> bytes:
    return hmac.new(token.encode(), label + cb, hashlib.sha256).digest()


async def fast_authenticate(raw: Raw, user: str, token: str, extra: str = "", *,
                            mech: str = "HT-SHA-256-NONE", cb: bytes = b"",
                            count: int | None = None) -> str:
    fast = f"<fast xmlns='urn:xmpp:fast:0' count='{count}'/>" if count is not None else ""
    first = user.encode() + b"\0" + ht(token, b"Initiator", cb)
    raw.send(f"<authenticate xmlns='{SASL2}' mechanism='{mech}'><initial-response>"
             f"{b64(first)}</initial-response>{UA}{fast}{extra}</authenticate>")
    text = await raw.read_until("</success>|</failure>")
    keep_after(raw, text)
    if "<success" in text:
        data = re.search(r"<additional-data>([^<]+)</additional-data>", text).group(1)
        assert base64.b64decode(data) == ht(token, b"Responder", cb)  # mutual auth
    return text


def token_of(success: str) -> str:
    return re.search(r"<token xmlns='urn:xmpp:fast:0' [^>]*token='([^']+)'", success).group(1)


REQUEST_TOKEN = "<request-token xmlns='urn:xmpp:fast:0' mechanism='HT-SHA-256-NONE'/>"
