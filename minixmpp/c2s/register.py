"""In-band registration before authentication (XEP-0077 §3.1), receiving side: the
``<register/>`` stream feature and the ``jabber:iq:register`` IQs of an unauthenticated
stream. The rules are ``im.register.Registrar``'s."""

from __future__ import annotations

from collections.abc import Hashable

from twisted.logger import Logger
from twisted.words.protocols.jabber import error, xmlstream
from twisted.words.xish import domish

from minixmpp import ns
from minixmpp.c2s.stage import UNAUTHENTICATED, Stage
from minixmpp.im.register import RegistrationRefused, fields, instructions
from minixmpp.stanza import only_child


class RegisterStage(Stage):
    """``<register xmlns='http://jabber.org/features/iq-register'/>`` and the IQs."""

    phases = frozenset({UNAUTHENTICATED})
    order = 40
    log = Logger()

    def offered(self) -> bool:
        registrar = self.context.registrar
        return registrar is not None and registrar.offered_to(self.auth.ip)

    def features(self) -> list[domish.Element]:
        return [domish.Element((ns.REGISTER_FEATURE, "register"))] if self.offered() else []

    def feature_key(self) -> Hashable:
        return self.offered()

    def receive(self, element: domish.Element) -> bool:
        if element.uri != ns.CLIENT or element.name != "iq":
            return False
        query = only_child(element)
        if query is None or query.uri != ns.REGISTER:
            return False
        kind = element.getAttribute("type")
        if kind not in ("get", "set") or not element.getAttribute("id"):
            return False  # not a request: the stream error for pre-auth stanzas
        if not self.offered():
            self.auth.send(error.StanzaError("service-unavailable").toResponse(element))
            return True
        if kind == "get":
            reply = xmlstream.toResponse(element, "result")
            reply.addChild(instructions())
            self.auth.send(reply)
            return True
        if any(c.name == "remove" for c in query.elements()):
            self.auth.send(error.StanzaError("not-authorized", text="authenticate first"
                                             ).toResponse(element))
            return True
        try:
            user = self.context.registrar.register(self.auth.ip, fields(query))
        except RegistrationRefused as e:
            self.auth.send(e.stanza_error().toResponse(element))
            return True
        self.log.info("{peer} registered {user}@{domain} (XEP-0077)", peer=self.auth.peer,
                      user=user, domain=self.context.settings.domain)
        self.auth.send(xmlstream.toResponse(element, "result"))
        return True
