"""Service Outage Status (XEP-0455): where clients find out about an outage, even when
they cannot connect.

The server's disco#info carries a ``urn:xmpp:sos:0`` form (XEP-0128) whose
``external-status-addresses`` (§2.1) name the status documents: the server's own, served
on the HTTP listener at ``/outage-status.json`` (another domain's at
``/outage-status-DOMAIN.json``), or the ``--outage-status-address`` URLs instead. The own
document is ``{}`` (§2.2: no outage) until the control API declares one
(``POST /api/outage``, ``DELETE /api/outage``; docs/api.md), so a client's outage handling
can be tested.
"""

from __future__ import annotations

import json
from typing import Any

from twisted.web import server
from twisted.words.protocols.jabber.jid import JID
from wokkel import data_form
from wokkel.subprotocols import XMPPHandler

from minixmpp import ns
from minixmpp.discovery import Discoverable
from minixmpp.feature import Context, Feature, Mount
from minixmpp.timestamps import parse_datetime
from minixmpp.web.cors import CORS, CORSResource


class OutageError(ValueError):
    """A declared outage that is not a §2.2 status document."""


def _datetime(fields: dict[str, Any], name: str) -> None:
    value = fields.get(name)
    if not isinstance(value, str):
        raise OutageError(f"{name} must be a date-time string (XEP-0082)")
    try:
        parse_datetime(value)
    except ValueError:
        raise OutageError(f"{name} {value!r} is not a date-time (XEP-0082)") from None


class OutageStatus:
    """The server's own status document (§2.2): ``{}``, or the declared outage."""

    def __init__(self) -> None:
        self.document: dict[str, Any] = {}

    def declare(self, fields: dict[str, Any]) -> dict[str, Any]:
        """An outage with §2.2's fields: ``beginning`` (required), ``expected_end``,
        ``planned``, ``message`` (``default`` and language tags); other fields are kept
        (clients ignore what they do not know)."""
        _datetime(fields, "beginning")
        if fields.get("expected_end") is not None:
            _datetime(fields, "expected_end")
        if "planned" in fields and not isinstance(fields["planned"], bool):
            raise OutageError("planned must be true or false")
        message = fields.get("message")
        if message is not None and not (
                isinstance(message, dict) and isinstance(message.get("default"), str)
                and all(isinstance(v, str) for v in message.values())):
            raise OutageError('message must map "default" and language tags to strings')
        self.document = {k: v for k, v in fields.items() if v is not None}
        return self.document

    def clear(self) -> None:
        """§2.2: the outage is over; the document is ``{}`` again."""
        self.document = {}


class OutageDocument(CORSResource):
    """The document as JSON, without authentication (§2.1), for any origin (CORS)."""

    def __init__(self, status: OutageStatus, cors: CORS) -> None:
        super().__init__(cors)
        self.status = status

    def render_GET(self, request: server.Request) -> bytes:
        self.allow(request)
        request.setHeader(b"content-type", b"application/json")
        request.setHeader(b"cache-control", b"no-cache")
        return json.dumps(self.status.document).encode() + b"\n"


class StatusAddresses(Discoverable, XMPPHandler):
    """§2.1: the ``urn:xmpp:sos:0`` form on the server's disco#info."""

    def __init__(self, addresses: Any) -> None:
        super().__init__()
        self.addresses = addresses

    def disco_info(self, requestor: JID, target: JID) -> list[Any]:
        form = data_form.Form("result", formNamespace=ns.SOS)
        form.addField(data_form.Field("list-multi", var="external-status-addresses",
                                      values=list(self.addresses())))
        return [form]


def build(ctx: Context) -> Feature | None:
    """The ``sos`` feature: the form, and the own document when there is an HTTP
    listener; off without either an HTTP listener or ``--outage-status-address``."""
    s = ctx.settings
    if not s.http and not s.outage_status_address:
        return None
    status = OutageStatus()
    path = "outage-status.json" if ctx.domain == s.domains[0] \
        else f"outage-status-{ctx.domain}.json"

    def addresses() -> tuple[str, ...]:
        return s.outage_status_address or (f"{ctx.http_base_url()}/{path}",)

    mounts = (Mount(path.encode(), lambda web: OutageDocument(status, web.cors)),) \
        if s.http else ()
    return Feature("sos", service=status, handlers=(StatusAddresses(addresses),),
                   mounts=mounts, clear=status.clear,
                   describe=lambda: {"outage": status.document or None})
