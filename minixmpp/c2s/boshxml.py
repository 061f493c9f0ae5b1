"""The XML of a BOSH request (XEP-0124 §4, XEP-0206): the ``<body/>`` parsed with the
same restrictions as a c2s stream (no DOCTYPE, entities, comments or processing
instructions; stanzas at most ``--max-stanza-depth`` deep), and its children read as
``jabber:client`` stanzas."""

from __future__ import annotations

from typing import Any

from twisted.words.xish import domish

from minixmpp import ns
from minixmpp.c2s.parser import RestrictedXML


class BadRequest(Exception):
    """Not a BOSH body (HTTP 400, §17.1 ``bad-request``)."""


class TooDeep(BadRequest):
    """A child of ``<body/>`` nests deeper than ``--max-stanza-depth``: as over TCP, a
    ``policy-violation`` (the session named by ``sid``, if any, ends)."""

    def __init__(self, sid: str | None) -> None:
        super().__init__("too deep")
        self.sid = sid


def parse_body(data: bytes, max_depth: int = 100) -> domish.Element:
    """The ``<body/>`` of a request, with its children; restricted XML (no DOCTYPE,
    entities, comments or processing instructions), stanzas at most ``max_depth``
    deep (:class:`TooDeep`: the tree is never built, nor serialized again)."""
    stream = domish.elementStream()
    root: list[domish.Element] = []
    done: list[bool] = []
    stream.DocumentStartEvent = root.append
    stream.ElementEvent = lambda e: root[0].addChild(e)
    stream.DocumentEndEvent = lambda: done.append(True)

    def restricted(*_: Any) -> None:
        raise RestrictedXML()

    parser = stream.parser
    parser.StartDoctypeDeclHandler = restricted
    parser.EntityDeclHandler = restricted
    parser.ProcessingInstructionHandler = restricted
    parser.CommentHandler = restricted
    start, end = parser.StartElementHandler, parser.EndElementHandler
    depth = [0]

    def on_start(name: str, attrs: dict) -> None:
        depth[0] += 1
        if depth[0] > max_depth + 1:  # <body/>, then a stanza of max_depth levels
            raise TooDeep(root[0].getAttribute("sid") if root else None)
        start(name, attrs)

    def on_end(name: str) -> None:
        depth[0] -= 1
        end(name)

    parser.StartElementHandler, parser.EndElementHandler = on_start, on_end
    try:
        stream.parse(data.lstrip().removeprefix(b"<?xml version='1.0'?>")
                     .removeprefix(b'<?xml version="1.0"?>'))
    except (domish.ParserError, RestrictedXML):
        raise BadRequest("not well-formed") from None
    if not done or not root or root[0].name != "body" or root[0].uri != ns.HTTPBIND:
        raise BadRequest(f"expected one <body xmlns='{ns.HTTPBIND}'/>")
    return root[0]


def client_qualified(element: domish.Element) -> domish.Element:
    """A child of ``<body/>`` as the stream reads it: a stanza the client left
    unqualified inherits the ``httpbind`` namespace, and is taken as ``jabber:client``
    (XEP-0206 asks clients to qualify it; Prosody's mod_bosh accepts either)."""
    if element.uri == ns.HTTPBIND:
        pending = [element]
        while pending:
            e = pending.pop()
            if e.uri == ns.HTTPBIND:
                e.uri = ns.CLIENT
            if e.defaultUri == ns.HTTPBIND:
                e.defaultUri = ns.CLIENT
            pending.extend(e.elements())
    return element
