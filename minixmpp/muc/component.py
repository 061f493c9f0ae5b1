"""The MUC service as an internal component on the router (like the push App Server):
the router is its only way in and out, so an external MUC component could replace it."""

from __future__ import annotations

from typing import Any

from minixmpp import internal
from minixmpp.muc.service import MucService


def build_component(router: Any, jid: str, service: MucService) -> Any:
    """``service`` and its disco behind an internal component for ``jid`` on ``router``
    (with wokkel's ``DiscoHandler`` and the IQ fallback, :func:`internal_component`).

    IQs to an occupant JID go to the service before the other handlers see them: they
    are the occupant's to answer (forwarded, as Prosody does), disco queries included,
    which the component's ``DiscoHandler`` would otherwise answer itself, as the local
    domain hands IQs to a full JID to its session before its handlers (router.py)."""
    return internal.internal_component(router, jid, service, service.disco,
                                       before=service.takes_first)
