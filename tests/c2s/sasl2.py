"""SASL2 and FAST exchanges on a raw stream, as the XEPs' examples write them."""

from __future__ import annotations

import base64
import hashlib
import hmac
import ssl

from scramp import ScramClient
from twisted.words.xish import domish

from tests.helpers import client_ssl_context
from tests.raw import SASL, TLS, Raw
from tests.xmlassert import child_text, find

SASL2 = "urn:xmpp:sasl:2"
FAST = "urn:xmpp:fast:0"
SUCCESS = f"<success xmlns='{SASL2}'/>"
FAILURE = f"<failure xmlns='{SASL2}'/>"
NOT_AUTHORIZED = f"<failure xmlns='{SASL2}'><not-authorized xmlns='{SASL}'/></failure>"
UA = ("<user-agent id='d4565fa7-4d72-4749-b3d3-740edbf87770'><software>AwesomeXMPP"
      "</software><device>Kiva's Phone</device></user-agent>")
BIND = ("<bind xmlns='urn:xmpp:bind:0'><tag>AwesomeXMPP</tag>"
        "<enable xmlns='urn:xmpp:carbons:2'/><enable xmlns='urn:xmpp:sm:3' resume='true'/>"
        "<inactive xmlns='urn:xmpp:csi:0'/></bind>")
REQUEST_TOKEN = f"<request-token xmlns='{FAST}' mechanism='HT-SHA-256-NONE'/>"


def b64(data: bytes | str) -> str:
    return base64.b64encode(data.encode() if isinstance(data, str) else data).decode()


async def connect(server, tls: bool = False) -> tuple[Raw, domish.Element]:
    """A raw client with a stream open (over STARTTLS with ``tls``); its features."""
    raw = await Raw.connect(server)
    features = await raw.open_stream()
    if tls:
        raw.send(f"<starttls xmlns='{TLS}'/>")
        await raw.next(f"<proceed xmlns='{TLS}'/>")
        context = client_ssl_context(server)
        context.maximum_version = ssl.TLSVersion.TLSv1_3
        await raw.writer.start_tls(context, server_hostname="localhost")
        features = await raw.open_stream()
    return raw, features


async def scram_authenticate(raw: Raw, user: str, extra: str) -> domish.Element:
    """SCRAM-SHA-256 over SASL2 with ``extra`` inline requests; the ``<success/>``, whose
    additional data the client verified. Stanzas that follow it stay in ``raw.pending``."""
    client = ScramClient(["SCRAM-SHA-256"], user, user)
    raw.send(f"<authenticate xmlns='{SASL2}' mechanism='SCRAM-SHA-256'><initial-response>"
             f"{b64(client.get_client_first())}</initial-response>{UA}{extra}</authenticate>")
    challenge = await raw.next(f"<challenge xmlns='{SASL2}'/>", FAILURE)
    client.set_server_first(base64.b64decode(str(challenge)).decode())
    raw.send(f"<response xmlns='{SASL2}'>{b64(client.get_client_final())}</response>")
    success = await raw.next(SUCCESS, FAILURE)
    data = child_text(success, f"<additional-data xmlns='{SASL2}'/>")
    client.set_server_final(base64.b64decode(data).decode())  # the server is verified
    return success


def ht(token: str, label: bytes, cb: bytes = b"") -> bytes:
    return hmac.new(token.encode(), label + cb, hashlib.sha256).digest()


async def fast_authenticate(raw: Raw, user: str, token: str, extra: str = "", *,
                            mech: str = "HT-SHA-256-NONE", cb: bytes = b"",
                            count: int | None = None) -> domish.Element:
    """A FAST login (XEP-0484 §4.3); the ``<success/>`` (its data checked: mutual
    authentication) or the ``<failure/>``."""
    fast = f"<fast xmlns='{FAST}' count='{count}'/>" if count is not None else ""
    first = user.encode() + b"\0" + ht(token, b"Initiator", cb)
    raw.send(f"<authenticate xmlns='{SASL2}' mechanism='{mech}'><initial-response>"
             f"{b64(first)}</initial-response>{UA}{fast}{extra}</authenticate>")
    outcome = await raw.next(SUCCESS, FAILURE)
    if outcome.name == "success":
        data = child_text(outcome, f"<additional-data xmlns='{SASL2}'/>")
        assert base64.b64decode(data) == ht(token, b"Responder", cb)  # mutual auth
    return outcome


def token_of(success: domish.Element) -> str:
    token = find(success, f"<token xmlns='{FAST}' token='*'/>")
    assert token is not None, "a FAST token in the <success/>"
    return token["token"]
