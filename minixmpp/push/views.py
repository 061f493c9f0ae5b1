"""Push registrations and notifications as JSON (the status page, the control API)."""

from __future__ import annotations

from typing import Any

from minixmpp import forms
from minixmpp.stanza import parse
from minixmpp.storage.interfaces import PushRegistration
from minixmpp.timestamps import iso


def registration(user: str, r: PushRegistration) -> dict[str, Any]:
    options = forms.values(parse(r.publish_options, neutral=False)) if r.publish_options else {}
    return {"account": user, "jid": r.jid, "node": r.node, "away": r.away,
            "publish_options": options, "resource": r.resource, "created": iso(r.created),
            "errors": r.errors, "last_error": r.last_error, "notifications": r.notifications,
            "extensions": public_extensions(r.extensions)}


def public_extensions(extensions: dict[str, Any]) -> dict[str, Any]:
    """Tigase push extensions as enabled; the encryption key itself is not shown."""
    out = dict(extensions)
    if out.get("encrypt"):
        out["encrypt"] = {k: v for k, v in out["encrypt"].items() if k != "key"}
    return out


def notification(n: Any) -> dict[str, Any]:
    """One notification the in-process App Server received (times to the microsecond:
    a push's latency is well under a millisecond, benchmarks/)."""
    return {"seq": n.seq, "time": iso(n.time, "microseconds"), "node": n.node,
            "account": n.account, "fields": n.fields, "publish_options": n.publish_options,
            "from": n.sender, "via": n.via, "xml": n.xml}
