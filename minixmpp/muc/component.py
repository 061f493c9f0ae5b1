"""The MUC service as an internal component on the router (like the push App Server):
the router is its only way in and out, so an external MUC component could replace it."""

from __future__ import annotations

from typing import Any

from twisted.words.xish import domish

from minixmpp import internal
from minixmpp.muc.service import MucService


def build_component(router: Any, jid: str, service: MucService) -> Any:
    """``service`` and its disco behind an internal component for ``jid`` on ``router``
    (with wokkel's ``DiscoHandler`` and the IQ fallback, :func:`internal_component`).

    IQs to an occupant JID go to the service before the other handlers see them: they
    are the occupant's to answer (forwarded, as Prosody does), disco queries included,
    which the component's ``DiscoHandler`` would otherwise answer itself, as the local
    domain hands IQs to a full JID to its session before its handlers (router.py)."""
    base: Any = internal.component_class()

    class MucComponent(base):
        def startService(self) -> None:
            super().startService()
            deliver = self._pipe.sink.send

            def send(stanza: domish.Element) -> None:
                if not service.takes_first(stanza):
                    deliver(stanza)

            self._pipe.sink.send = send

    return internal.internal_component(router, jid, service, service.disco, cls=MucComponent)
