"""JSON shapes of the server's state, shared by the control API and the status page."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from minixmpp import forms
from minixmpp.stanza import parse
from minixmpp.storage.interfaces import PushRegistration
from minixmpp.timestamps import iso

if TYPE_CHECKING:
    from minixmpp.push.appserver import Notification
    from minixmpp.server import Server
    from minixmpp.sessions import Session


def account(server: Server, name: str) -> dict[str, Any]:
    return {"name": name, "jid": f"{name}@{server.settings.domain}",
            "sessions": [s.jid.full() for s in server.sessions.of(name)],
            "offline": server.offline_store.count(name), "pep_nodes": server.pep.nodes(name)}


def session(s: Session) -> dict[str, Any]:
    return {"jid": s.jid.full(), "available": s.available, "show": s.show,
            "priority": s.priority, "tls": s.tls, "peer": s.peer,
            "connected_since": iso(s.connected_since), "roster_requested": s.interested,
            "csi": s.csi, "carbons": s.carbons,
            "sm": None if s.sm is None else {
                "id": s.sm.id, "resume": s.sm.resume, "hibernated": s.hibernated,
                "unacknowledged": len(s.sm.queue), "max": s.sm.max}}


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


def notification(n: Notification) -> dict[str, Any]:
    # microseconds: a push's latency is well under a millisecond (benchmarks/)
    return {"seq": n.seq, "time": iso(n.time, "microseconds"), "node": n.node, "account": n.account,
            "fields": n.fields, "publish_options": n.publish_options, "from": n.sender,
            "xml": n.xml}


def state(server: Server) -> dict[str, Any]:
    """Everything the status page shows, newest first where it is a timeline."""
    appserver = server.appserver
    return {
        "domain": server.settings.domain,
        "c2s": f"{server.c2s_port.getHost().host}:{server.port}" if server.c2s_port else None,
        "push_jid": appserver.jid if appserver else None,
        "accounts": [account(server, u) for u in server.accounts.users()],
        "sessions": [session(s) for s in server.sessions],
        "registrations": [registration(u, r) for u in server.push_store.users()
                          for r in server.push_store.registrations(u)],
        "notifications": [notification(n) for n in
                          reversed(appserver.notifications[-100:])] if appserver else [],
        "push_events": list(reversed(server.push_events)),
        "muc_jid": server.muc.jid if server.muc else None,
        "rooms": server.muc.describe() if server.muc else [],
        "auth_failures": list(reversed(server.auth_failures)),
    }
