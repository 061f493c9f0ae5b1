"""Enabling and disabling push (XEP-0357 §5, §6; AWAY/XA extension §4.2).

Rules: ``shared/specs/push-rules.md`` ("Enable", "Disable").
"""

from __future__ import annotations

import time
from collections.abc import Callable

from twisted.logger import Logger
from twisted.words.protocols.jabber import error, jid
from twisted.words.xish import domish
from wokkel import disco
from wokkel.iwokkel import IDisco
from wokkel.subprotocols import IQHandlerMixin, XMPPHandler
from zope.interface import implementer

from minixmpp import addressing, forms
from minixmpp.push import NS_PUBLISH_OPTIONS, NS_PUSH, NS_PUSH_AWAY
from minixmpp.storage.interfaces import IPushStore, PushRegistration

ENABLE = f"/iq/enable[@xmlns='{NS_PUSH}']"
DISABLE = f"/iq/disable[@xmlns='{NS_PUSH}']"


def _bool(value: str | None) -> bool:
    return (value or "").strip().lower() in ("true", "1")


@implementer(IDisco)
class PushEnableHandler(XMPPHandler, IQHandlerMixin):
    """``<enable/>`` and ``<disable/>`` IQs to the account's own bare JID."""

    log = Logger()
    iqHandlers = {
        f"/iq[@type='set']/enable[@xmlns='{NS_PUSH}']": "onEnable",
        f"/iq[@type='set']/disable[@xmlns='{NS_PUSH}']": "onDisable",
        f"/iq[@type='get']/enable[@xmlns='{NS_PUSH}']": "onGet",
        f"/iq[@type='get']/disable[@xmlns='{NS_PUSH}']": "onGet",
    }

    def __init__(self, store: IPushStore, *, strict: bool = False, limit: int = 5,
                 clock: Callable[[], float] = time.time,
                 on_event: Callable[[str, str, PushRegistration, str], None] | None = None
                 ) -> None:
        super().__init__()
        self.store = store
        self.strict = strict
        self.limit = limit
        self.clock = clock
        #: called as (event, user, registration, detail) for every change (inspection)
        self.on_event: list[Callable[[str, str, PushRegistration, str], None]] = (
            [on_event] if on_event is not None else [])

    def connectionInitialized(self) -> None:
        self.xmlstream.addObserver(ENABLE, self.handleRequest)
        self.xmlstream.addObserver(DISABLE, self.handleRequest)

    def _account(self, iq: domish.Element) -> tuple[str, jid.JID]:
        sender, to = addressing.parse(iq["from"]), addressing.parse(iq["to"])
        if to.user is None or to.userhost() != sender.userhost():
            raise error.StanzaError("forbidden", text="push registrations are the account's own")
        return sender.user or "", sender

    def onGet(self, iq: domish.Element) -> None:
        raise error.StanzaError("bad-request", text="enable and disable are IQ set")

    def onEnable(self, iq: domish.Element) -> None:
        """XEP-0357 §5 (+ ``away``, tigase:push:away:0 §4.2)."""
        user, sender = self._account(iq)
        enable = iq.enable
        service = _jid(enable.getAttribute("jid"))
        node = enable.getAttribute("node") or None
        if node is None and self.strict:
            raise error.StanzaError("bad-request", text="node is required (--push-strict)")
        options = None
        for form in enable.elements(forms.NS_X_DATA, "x"):
            if (form.getAttribute("type") != "submit"
                    or forms.form_type(form) != NS_PUBLISH_OPTIONS):
                raise error.StanzaError("bad-request", text="publish options must be a "
                                        f"submit form of {NS_PUBLISH_OPTIONS}")
            options = form.toXml()
        registration = PushRegistration(
            jid=service, node=node, away=_bool(enable.getAttribute("away")),
            publish_options=options, resource=sender.resource, created=self.clock())
        existing = self.store.registrations(user)
        replaced = any((r.jid, r.node) == (service, node) for r in existing)
        self.store.put(user, registration)
        if not replaced:
            while len(existing) + 1 > self.limit:
                oldest = existing.pop(0)
                self.store.remove(user, oldest.jid, oldest.node)
                self.log_event("removed", user, oldest,
                            f"per-account limit of {self.limit} reached")
        self.log_event("re-enabled" if replaced else "enabled", user, registration,
                    f"by {sender.full()}")

    def onDisable(self, iq: domish.Element) -> None:
        """XEP-0357 §6: one node, or every node of that service; no match is fine."""
        user, sender = self._account(iq)
        disable = iq.disable
        service = _jid(disable.getAttribute("jid"))
        node = disable.getAttribute("node") or None
        for registration in self.store.registrations(user):
            if registration.jid == service and (node is None or registration.node == node):
                self.store.remove(user, registration.jid, registration.node)
                self.log_event("disabled", user, registration, f"by {sender.full()}")

    def log_event(self, event: str, user: str, registration: PushRegistration,
               detail: str) -> None:
        self.log.info("push {event}: {user} → {service} node={node} away={away} ({detail})",
                      event=event, user=user, service=registration.jid,
                      node=registration.node, away=registration.away, detail=detail)
        for callback in self.on_event:
            callback(event, user, registration, detail)

    # -- XEP-0030: what the account itself sees on its bare JID (push-rules "Discovery")

    def getDiscoInfo(self, requestor, target, nodeIdentifier=""):
        if (target.user is not None and not nodeIdentifier
                and requestor.userhost() == target.userhost()):
            return [disco.DiscoFeature(NS_PUSH), disco.DiscoFeature(NS_PUSH_AWAY)]
        return []

    def getDiscoItems(self, requestor, target, nodeIdentifier=""):
        return []


def _jid(value: str | None) -> str:
    if not value:
        raise error.StanzaError("bad-request", text="the jid attribute is required")
    try:
        return addressing.parse(value).full()
    except jid.InvalidFormat:
        raise error.StanzaError("bad-request", text=f"{value!r} is not a valid JID") from None
