"""Stanzas from a bound resource (RFC 6120 §8): checked, ``from`` stamped, delivered."""

from __future__ import annotations

from twisted.words.protocols.jabber import error, jid, xmlstream
from twisted.words.xish import domish

from minixmpp import addressing, ns
from minixmpp.c2s.stage import BOUND, Stage
from minixmpp.stanza import only_child, strip_namespace

STANZAS = ("message", "presence", "iq")
IQ_TYPES = ("get", "set", "result", "error")


class StanzaChecks(Stage):
    """RFC 6120 §8.1.2.1 ``from`` (never trusted: stamped with the bound JID), §8.1.1
    ``to`` (prepared, or ``jid-malformed``), §8.2.3 IQ type/id/one child."""

    phases = frozenset({BOUND})
    order = 100

    def receive(self, element: domish.Element) -> bool:
        if element.uri != ns.CLIENT or element.name not in STANZAS:
            return False
        auth, session = self.auth, self.auth.session
        assert session is not None
        if session.sm is not None:
            session.sm.received()
        claimed = element.getAttribute("from")
        if claimed is not None:
            try:
                ok = addressing.parse(claimed) in (session.jid, session.jid.userhostJID())
            except jid.InvalidFormat:
                ok = False
            if not ok:
                auth.xmlstream.sendStreamError(error.StreamError(
                    "invalid-from", f"you are {session.jid.full()}"))
                return True
        strip_namespace(element)
        attributes = element.attributes
        attributes["from"] = session.jid.full()
        stype = attributes.get("type")
        to = attributes.get("to")
        if to is not None:
            try:
                attributes["to"] = addressing.prepared(to)
            except jid.InvalidFormat:
                if stype != "error":
                    session.send(error.StanzaError("jid-malformed").toResponse(element))
                return True
        if element.name == "iq" and self._iq_refused(element, stype, to):
            return True
        self.context.deliver(session, element)
        return True

    def _iq_refused(self, iq: domish.Element, stype: str | None, to: str | None) -> bool:
        """Answered here: a malformed IQ, or a session/bind IQ after binding. (Through
        the session, like every stanza to a bound client: stream management counts
        it, XEP-0198 §4.)"""
        assert self.auth.session is not None
        send = self.auth.session.send
        if stype not in IQ_TYPES or not iq.getAttribute("id"):
            send(error.StanzaError("bad-request").toResponse(iq))
            return True
        if stype in ("get", "set"):
            child = only_child(iq)
            if child is None:
                send(error.StanzaError(
                    "bad-request", text="an IQ get/set has exactly one child").toResponse(iq))
                return True
            if to is None and child.uri == ns.SESSION:
                send(xmlstream.toResponse(iq, "result"))
                return True
            if to is None and child.uri == ns.BIND:
                send(error.StanzaError("not-allowed").toResponse(iq))
                return True
        return False
