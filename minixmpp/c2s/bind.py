"""Resource binding (RFC 6120 §7) and the legacy session IQ (RFC 3921 §3, RFC 6121 App. E)."""

from __future__ import annotations

import secrets

from twisted.logger import Logger
from twisted.words.protocols.jabber import error, jid, xmlstream
from twisted.words.xish import domish

from minixmpp import addressing, ns
from minixmpp.c2s.stage import AUTHENTICATED, Stage
from minixmpp.sessions import Session
from minixmpp.stanza import only_child


class BadResource(Exception):
    """The requested resource is not a valid resourcepart (RFC 6120 §7.7.2.1)."""


def resourcepart(requested: str | None, user: str, domain: str) -> str:
    """The resource to bind: the client's (prepared) or a generated one (§7.6)."""
    requested = (requested or "").strip()
    if not requested:
        return "minixmpp-" + secrets.token_hex(4)
    try:
        full = addressing.make(user, domain, requested)
    except jid.InvalidFormat as e:
        raise BadResource(str(e)) from None
    if len((full.resource or "").encode()) > 1023:
        raise BadResource("resourcepart longer than 1023 bytes")
    return full.resource or ""


class BindStage(Stage):
    """``<bind/>`` (§7.2) and the no-op ``<session/>`` IQ, after SASL."""

    phases = frozenset({AUTHENTICATED})
    order = 50
    log = Logger()

    def features(self) -> list[domish.Element]:
        session = domish.Element((ns.SESSION, "session"))
        session.addElement("optional")
        return [domish.Element((ns.BIND, "bind")), session]

    def receive(self, element: domish.Element) -> bool:
        if element.uri != ns.CLIENT or element.name != "iq":
            return False
        child = only_child(element)
        if child is not None and child.uri == ns.BIND and element.getAttribute("type") == "set":
            self._bind(element, child)
            return True
        if child is not None and child.uri == ns.SESSION:
            self.auth.send(xmlstream.toResponse(element, "result"))
            return True
        return False

    def _bind(self, iq: domish.Element, bind: domish.Element) -> None:
        auth = self.auth
        requested = None
        for child in bind.elements():
            if child.name == "resource":
                requested = str(child)
        assert auth.user is not None
        domain = self.context.settings.domain
        try:
            resource = resourcepart(requested, auth.user, domain)
        except BadResource as e:
            return auth.send(error.StanzaError("bad-request", text=str(e)).toResponse(iq))
        full = addressing.make(auth.user, domain, resource)
        session = Session(full, auth, tls=auth.tls, peer=auth.peer,
                          since=self.context.reactor.seconds())
        self.context.sessions.bind(session)
        auth.bound(session)
        reply = xmlstream.toResponse(iq, "result")
        reply.addElement((ns.BIND, "bind")).addElement("jid", content=full.full())
        auth.send(reply)
        if not self.context.settings.session_quiet:
            self.log.info("{jid} bound ({peer}, {mech}, {tls})", jid=full.full(),
                          peer=auth.peer, mech=auth.mechanism_name,
                          tls="TLS" if auth.tls else "no TLS")
