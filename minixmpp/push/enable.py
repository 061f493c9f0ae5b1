"""Enabling and disabling push (XEP-0357 §5, §6; AWAY/XA extension §4.2).

Rules: ``shared/specs/push-rules.md`` ("Enable", "Disable").
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from twisted.logger import Logger
from twisted.words.protocols.jabber import error, jid
from twisted.words.protocols.jabber.jid import JID
from twisted.words.xish import domish
from wokkel import disco
from wokkel.subprotocols import IQHandlerMixin, XMPPHandler

from minixmpp import addressing, forms, ns
from minixmpp.discovery import SELF, Discoverable
from minixmpp.push import extensions as ext
from minixmpp.push.profiles import PROFILES, Profile
from minixmpp.storage.interfaces import IPushStore, PushRegistration

ENABLE = f"/iq/enable[@xmlns='{ns.PUSH}']"
DISABLE = f"/iq/disable[@xmlns='{ns.PUSH}']"


def _bool(value: str | None) -> bool:
    return (value or "").strip().lower() in ("true", "1")


class PushEnableHandler(Discoverable, XMPPHandler, IQHandlerMixin):
    """``<enable/>`` and ``<disable/>`` IQs to the account's own bare JID."""

    disco_on = frozenset({SELF})
    log = Logger()
    iqHandlers = {
        f"/iq[@type='set']/enable[@xmlns='{ns.PUSH}']": "onEnable",
        f"/iq[@type='set']/disable[@xmlns='{ns.PUSH}']": "onDisable",
        f"/iq[@type='get']/enable[@xmlns='{ns.PUSH}']": "onGet",
        f"/iq[@type='get']/disable[@xmlns='{ns.PUSH}']": "onGet",
    }

    def __init__(self, store: IPushStore, *, strict: bool = False, limit: int = 5,
                 clock: Callable[[], float],
                 profile: Profile = PROFILES["minixmpp"],
                 on_event: Callable[[str, str, PushRegistration, str], None] | None = None
                 ) -> None:
        super().__init__()
        self.store = store
        self.profile = profile
        self.strict = strict or profile.node_required
        self.limit = limit
        self.clock = clock
        #: called as (event, user, registration, detail) for every change (inspection)
        self.on_event = on_event

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
        """XEP-0357 §5 (+ ``away``, tigase:push:away:0 §4.2, and Tigase's extensions
        when the profile has them)."""
        user, sender = self._account(iq)
        enable = iq.enable
        service = _jid(enable.getAttribute("jid"))
        node = enable.getAttribute("node") or None
        if node is None and self.strict:
            raise error.StanzaError(self.profile.node_missing_condition,
                                    text="node is required (--push-strict or the "
                                    f"{self.profile.name} profile)")
        options = None
        for form in enable.elements(ns.X_DATA, "x"):
            if (form.getAttribute("type") != "submit"
                    or forms.form_type(form) != ns.PUBLISH_OPTIONS):
                raise error.StanzaError("bad-request", text="publish options must be a "
                                        f"submit form of {ns.PUBLISH_OPTIONS}")
            options = form.toXml()
        extensions = ext.parse(enable) if self.profile.extensions else ext.Extensions()
        registration = PushRegistration(
            jid=service, node=node,
            away=self.profile.away_extension and _bool(enable.getAttribute("away")),
            publish_options=options, resource=sender.resource, created=self.clock(),
            extensions=extensions.to_dict())
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
        registrations = self.store.registrations(user)
        matched = [r for r in registrations
                   if r.jid == service and (node is None or r.node == node)]
        if not matched and self.profile.disable_no_match != "result":
            raise error.StanzaError(self.profile.disable_no_match,
                                    text="no such push registration")
        if node is None:
            self.store.remove_service(user, service)  # every node, node-less included
        else:
            if self.profile.disable_same_resource:  # ejabberd: the session's every node
                by = {r.resource for r in matched}
                matched = [r for r in registrations if r.jid == service and r.resource in by]
            for registration in matched:
                self.store.remove(user, registration.jid, registration.node)
        for registration in matched:
            self.log_event("disabled", user, registration, f"by {sender.full()}")

    def log_event(self, event: str, user: str, registration: PushRegistration,
               detail: str) -> None:
        self.log.info("push {event}: {user} → {service} node={node} away={away} "
                      "extensions={extensions} ({detail})",
                      event=event, user=user, service=registration.jid,
                      node=registration.node, away=registration.away,
                      extensions=ext.Extensions.from_dict(registration.extensions).summary(),
                      detail=detail)
        if self.on_event is not None:
            self.on_event(event, user, registration, detail)

    # -- XEP-0030: what the account itself sees on its bare JID (push-rules "Discovery")

    def disco_info(self, requestor: JID, target: JID) -> list[Any]:
        features = [ns.PUSH]
        if self.profile.away_extension:
            features.append(ns.PUSH_AWAY)
        if self.profile.extensions:
            features.extend(ext.FEATURES)
        return [disco.DiscoFeature(f) for f in features]


def _jid(value: str | None) -> str:
    """The App Server's JID (XEP-0357 §5, §6): missing is ``bad-request``, invalid is
    ``jid-malformed`` (RFC 6120 §8.3.3.8)."""
    if not value:
        raise error.StanzaError("bad-request", text="the jid attribute is required")
    try:
        return addressing.parse(value).full()
    except jid.InvalidFormat:
        raise error.StanzaError("jid-malformed", text=f"{value!r} is not a valid JID"
                                ) from None
