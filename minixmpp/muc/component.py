"""The MUC service as a wokkel internal component on the router (like the push App
Server): the router is its only way in and out."""

from __future__ import annotations

from typing import Any

from minixmpp.muc.service import MucService


def build_component(router: Any, jid: str, service: MucService) -> Any:
    """``service`` behind an ``InternalComponent`` for ``jid`` on ``router``."""
    from wokkel.component import InternalComponent  # imports the reactor: not at import

    component = InternalComponent(router, jid)
    service.setHandlerParent(component)
    return component
