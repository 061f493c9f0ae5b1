"""STARTTLS (RFC 6120 §5.4), receiving side."""

from __future__ import annotations

from collections.abc import Hashable

from twisted.internet.interfaces import ITLSTransport
from twisted.words.xish import domish

from minixmpp import ns
from minixmpp.c2s.stage import UNAUTHENTICATED, Stage
from minixmpp.feature import Context, Feature


class StartTLS(Stage):
    """Offers ``<starttls/>`` (``<required/>`` with ``--require-tls``) and upgrades the
    connection on ``<starttls/>`` (§5.4.2)."""

    phases = frozenset({UNAUTHENTICATED})
    order = 10

    def offered(self) -> bool:
        return (not self.auth.tls and self.context.tls is not None
                and ITLSTransport.providedBy(self.auth.xmlstream.transport))

    def features(self) -> list[domish.Element]:
        if not self.offered():
            return []
        starttls = domish.Element((ns.TLS, "starttls"))
        if self.context.settings.require_tls:
            starttls.addElement("required")
        return [starttls]

    def feature_key(self) -> Hashable:
        return self.offered()

    def receive(self, element: domish.Element) -> bool:
        if element.uri != ns.TLS or element.name != "starttls":
            return False
        xs = self.auth.xmlstream
        if not self.offered():  # §5.4.2.2: failure, then close
            xs.send(domish.Element((ns.TLS, "failure")))
            xs.sendFooter()
            xs.transport.loseConnection()
            return True
        xs.send(domish.Element((ns.TLS, "proceed")))
        assert self.context.tls is not None
        xs.transport.startTLS(self.context.tls.options)
        self.auth.tls = True
        xs.reset()  # §5.4.3.3: a new stream over TLS
        return True


def build(ctx: Context) -> Feature:
    """The ``starttls`` feature. With ``--no-tls`` it is there but offers nothing and
    answers ``<starttls/>`` with ``<failure/>`` (§5.4.2.2), as a server without a
    certificate does; ``--disable starttls`` leaves it out (``unsupported-stanza-type``,
    as Prosody without mod_tls)."""
    return Feature("starttls", c2s_stages=(StartTLS,))
