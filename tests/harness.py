"""Handlers fed stanzas without sockets (wokkel's ``XmlStreamStub``), for fast unit tests of
rules beside the end-to-end tests: a room, PEP access, push policy.

    harness = Harness(MucService(...))
    out = harness.feed("<presence from='alice@localhost/a' to='room@conference.localhost/A'>"
                       "<x xmlns='http://jabber.org/protocol/muc'/></presence>")
    assert_xml(out[-1], "<presence from='room@conference.localhost/A' ...>")

What the handlers send is recorded in order (``harness.output``); :class:`Recorder` is a
route for the real :class:`~minixmpp.router.Router` that records what reaches a domain.
"""

from __future__ import annotations

from typing import Any

from twisted.words.protocols.jabber.xmlstream import XMPPHandlerCollection
from twisted.words.xish import domish
from wokkel.test.helpers import XmlStreamStub

from minixmpp.stanza import parse


def element(xml: str | domish.Element) -> domish.Element:
    """A stanza from its XML text (namespace-neutral, as the router carries it)."""
    return parse(xml) if isinstance(xml, str) else xml


class Harness(XMPPHandlerCollection):
    """The parent of some wokkel handlers, on a stub stream: ``feed`` dispatches a stanza
    to them as the router would, and returns what they sent in answer."""

    def __init__(self, *handlers: Any) -> None:
        super().__init__()
        self.stub = XmlStreamStub()
        self.xmlstream = self.stub.xmlstream
        for handler in handlers:
            handler.setHandlerParent(self)

    def addHandler(self, handler: Any) -> None:
        super().addHandler(handler)
        handler.makeConnection(self.xmlstream)
        handler.connectionInitialized()

    def send(self, obj: Any) -> None:
        self.xmlstream.send(obj)

    @property
    def output(self) -> list[domish.Element]:
        return self.stub.output

    def feed(self, *stanzas: str | domish.Element) -> list[domish.Element]:
        """Dispatch each stanza in turn; everything the handlers sent meanwhile."""
        start = len(self.stub.output)
        for stanza in stanzas:
            self.stub.send(element(stanza))
        return self.stub.output[start:]


class Recorder:
    """A route that keeps what the router gives it: ``router.routes[domain] = Recorder()``."""

    def __init__(self) -> None:
        self.stanzas: list[domish.Element] = []

    def send(self, stanza: domish.Element) -> None:
        self.stanzas.append(stanza)
