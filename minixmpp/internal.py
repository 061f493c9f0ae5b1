"""In-process services with JIDs of their own (the push App Server, group chat, upload):
wokkel's ``InternalComponent`` on the router, which is their only way in and out, so an
external component (XEP-0114) could replace each one.

Every such component answers disco itself (wokkel's ``DiscoHandler`` collects from its
handlers, ``disco#info`` and ``disco#items`` included) and answers IQs nobody handles with
``service-unavailable`` (RFC 6120 §8.4).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from twisted.words.xish import domish
from wokkel import disco
from wokkel.iwokkel import IDisco
from wokkel.subprotocols import XMPPHandler
from zope.interface import implementer

from minixmpp import ns
from minixmpp.fallback import IQFallback


@implementer(IDisco)
class DiscoSelf(XMPPHandler):
    """``disco#info`` and ``disco#items`` on the component's own JID (XEP-0030 §3.1: every
    entity that answers disco#info lists ``disco#info``); entities under it (rooms) are
    their handlers' to describe."""

    def getDiscoInfo(self, requestor: Any, target: Any, nodeIdentifier: str = "") -> list[Any]:
        if nodeIdentifier or target.user is not None or target.resource is not None:
            return []
        return [disco.DiscoFeature(ns.DISCO_INFO), disco.DiscoFeature(ns.DISCO_ITEMS)]

    def getDiscoItems(self, requestor: Any, target: Any, nodeIdentifier: str = "") -> list[Any]:
        return []


def component_class() -> type:
    """The ``InternalComponent`` subclass (wokkel's module imports the reactor: not at
    import time)."""
    from wokkel.component import InternalComponent

    class Component(InternalComponent):
        """Stops cleanly even if it never started (a server stopped before it listened),
        and drops stanzas that arrive once stopped (an answer still on its way): the route
        is gone and there is no stream to write them to. ``before``, when given, sees
        every stanza the router hands over before any handler does, and may take it
        (True)."""

        before: Callable[[domish.Element], bool] | None = None

        def startService(self) -> None:
            super().startService()
            before = self.before
            if before is not None:
                dispatch = self._pipe.source.dispatch

                def arrived(stanza: domish.Element) -> None:
                    if not before(stanza):
                        dispatch(stanza)

                self._pipe.sink.send = arrived  # what the router calls: our route

        def stopService(self) -> None:
            if not self.running:
                return
            super().stopService()

        def send(self, obj: Any) -> None:
            if self.xmlstream is not None:
                super().send(obj)

    return Component


def internal_component(router: Any, jid: str, *handlers: Any,
                       before: Callable[[domish.Element], bool] | None = None) -> Any:
    """``handlers`` behind one internal component for ``jid`` on ``router``, with disco and
    the IQ fallback; ``before`` sees each stanza first (see ``component_class``)."""
    component = component_class()(router, jid)
    component.before = before
    for handler in (*handlers, DiscoSelf(), disco.DiscoHandler(), IQFallback()):
        handler.setHandlerParent(component)
    return component
