"""JSON shapes of the server's state, shared by the control API and the status page.

The state is the core (accounts, sessions, authentication failures) plus what each
feature describes of itself (``Feature.describe``), merged at the top level: push gives
``registrations``, ``push_events`` and ``push_decisions``, the App Server ``push_jid`` and
``notifications``, group chat ``muc_jid`` and ``rooms``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from minixmpp.timestamps import iso

if TYPE_CHECKING:
    from minixmpp.sessions import Session
    from minixmpp.view import ServerView


def account(view: ServerView, name: str) -> dict[str, Any]:
    out: dict[str, Any] = {"name": name, "jid": f"{name}@{view.settings.domain}",
                           "sessions": [s.jid.full() for s in view.sessions.of(name)]}
    for feature in view.features.values():
        if feature.describe_account is not None:
            out.update(feature.describe_account(name))
    return out


def session(s: Session) -> dict[str, Any]:
    return {"jid": s.jid.full(), "available": s.available, "show": s.show,
            "priority": s.priority, "tls": s.tls, "peer": s.peer,
            "connected_since": iso(s.connected_since), "roster_requested": s.interested,
            "csi": s.csi, "carbons": s.carbons,
            "sm": None if s.sm is None else {
                "id": s.sm.id, "resume": s.sm.resume, "hibernated": s.hibernated,
                "unacknowledged": len(s.sm.queue), "max": s.sm.max}}


#: what the status page expects even when the feature that fills it is off
EMPTY = {"push_jid": None, "registrations": [], "notifications": [], "push_events": [],
         "push_decisions": [], "muc_jid": None, "rooms": []}


def state(view: ServerView) -> dict[str, Any]:
    """Everything the status page shows, newest first where it is a timeline."""
    ports = view.ports()
    out: dict[str, Any] = {
        "domain": view.settings.domain,
        "domains": list(view.settings.domains),
        "auth": view.settings.auth_mode,
        "c2s": f"{ports.host}:{ports.c2s}" if ports.c2s is not None else None,
        "features": list(view.features),
        "disabled": sorted(view.settings.disabled),
        "accounts": [account(view, u) for u in view.accounts.users()],
        "sessions": [session(s) for s in view.sessions],
        **EMPTY,
        "auth_failures": list(reversed(view.auth_failures)),
    }
    for feature in view.features.values():
        if feature.describe is not None:
            out.update(feature.describe())
    return out
