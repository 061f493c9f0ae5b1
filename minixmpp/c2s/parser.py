"""A hardened XML stream parser (RFC 6120 §11.1 restricted XML, size and depth limits).

:class:`HardenedStream` is an ``XmlStream`` whose expat parser refuses DOCTYPEs,
entities, comments and processing instructions, counts nesting depth and stanza bytes,
and maps every parser failure to the stream error of RFC 6120 §4.9.3. Any transport
that feeds bytes into an ``XmlStream`` gets the same protection by using it.
"""

from __future__ import annotations

import pyexpat
import re
from typing import Any

from twisted.logger import Logger
from twisted.words.protocols.jabber import error, xmlstream
from twisted.words.xish import domish

#: an element's start tag name, and what may follow a name in an end tag (``_take_raw``)
_TAG = re.compile(rb"<([^\s/>]+)")
_AFTER_NAME = (b">", b" ", b"\t", b"\r", b"\n")


class RestrictedXML(Exception):
    """A DOCTYPE, entity, comment or processing instruction (RFC 6120 §11.1)."""


class TooDeep(Exception):
    """A stanza nests deeper than ``--max-stanza-depth``."""


class HardenedStream(xmlstream.XmlStream):
    """An ``XmlStream`` with a restricted parser and per-stanza limits."""

    log = Logger()
    max_stanza_size = 262144
    max_depth = 100
    _closing = False
    #: keep each top-level element's bytes as they came (traffic capture, ``traffic.py``):
    #: ``raw_element`` is the one ``onElement`` is handing on, else None
    keep_raw = False
    raw_element: bytes | None = None

    def _initializeStream(self) -> None:
        super()._initializeStream()
        stream, parser = self.stream, self.stream.parser
        # Our own per-stanza byte count (below) replaces Twisted's per-chunk heuristic.
        stream.maxStanzaSize = 1 << 62
        self._fed = 0
        self._stanza_start = 0
        self._raw = bytearray()  # what was fed since _raw_base (keep_raw)
        self._raw_base = 0

        def restricted(*_: Any) -> None:
            raise RestrictedXML()

        parser.StartDoctypeDeclHandler = restricted
        parser.EntityDeclHandler = restricted
        parser.ProcessingInstructionHandler = restricted
        parser.CommentHandler = restricted
        parser.SetParamEntityParsing(pyexpat.XML_PARAM_ENTITY_PARSING_NEVER)
        start, end = parser.StartElementHandler, parser.EndElementHandler
        depth = [0]
        limit = self.max_depth + 1  # the stream element itself is depth 1

        def on_start(name: str, attrs: dict) -> None:
            if stream.documentStarted and stream.currElem is None:
                self._stanza_start = parser.CurrentByteIndex  # a top-level element begins
            depth[0] += 1
            if depth[0] > limit:
                raise TooDeep()
            start(name, attrs)

        def on_end(name: str) -> None:
            depth[0] -= 1
            end(name)

        parser.StartElementHandler = on_start
        parser.EndElementHandler = on_end

    def dataReceived(self, data: bytes) -> None:
        """Parse; map parser failures to the stream errors of RFC 6120 §4.9.3."""
        if self.stream is None or self._closing:
            return  # after a stream error nothing more is processed
        self._fed += len(data)
        self.authenticator.activity()
        if self.keep_raw:
            self._raw += data
        try:
            self.stream.parse(data)
            stream = self.stream
            if self.keep_raw and (stream is None or stream.currElem is None):
                self._trim_raw()
            if (stream is not None and stream.currElem is not None
                    and self._fed - self._stanza_start > self.max_stanza_size):
                self._too_big()  # an unfinished stanza already over the limit
        except RestrictedXML:
            self.sendStreamError(error.StreamError("restricted-xml"))
        except TooDeep:
            self.sendStreamError(error.StreamError(
                "policy-violation", f"elements nested deeper than {self.max_depth}"))
        except domish.ParserError:
            self.sendStreamError(error.StreamError("not-well-formed"))
        except Exception:  # noqa: BLE001  (a bug must cost one stream, never the server)
            self.log.failure("unexpected error on c2s stream")
            self.sendStreamError(error.StreamError("internal-server-error"))

    def _too_big(self) -> None:
        self.sendStreamError(error.StreamError(
            "policy-violation", f"stanza larger than {self.max_stanza_size} bytes"))

    def onElement(self, element: domish.Element) -> None:
        if self._closing or self.stream is None:  # closed, or lost within this chunk
            return
        end = self.stream.parser.CurrentByteIndex
        if end - self._stanza_start > self.max_stanza_size:
            return self._too_big()
        if self.keep_raw:
            self.raw_element = self._take_raw(end)
        try:
            self.authenticator.elementReceived(element)
        finally:
            self.raw_element = None

    def _trim_raw(self) -> None:
        """No element in progress: keep only a start tag still arriving (from the last
        ``<``: none may stand inside an attribute value), not whitespace or headers."""
        raw = self._raw
        cut = raw.rfind(b"<")
        cut = len(raw) if cut < 0 else cut
        del raw[:cut]
        self._raw_base += cut

    def _take_raw(self, end: int) -> bytes | None:
        """The bytes of the top-level element that ended at ``end`` (expat's index at
        its end event: the start of ``</name>``, or just past an empty ``<name/>``)."""
        raw, base = self._raw, self._raw_base
        start = self._stanza_start - base
        if start < 0 or end - base > len(raw):
            return None  # the parser was reset under it: no bytes to show
        stop = end - base
        tag = _TAG.match(raw, start)
        if tag is not None:
            close = stop + 2 + len(tag[1])
            if raw.startswith(b"</" + tag[1], stop) and raw[close:close + 1] in _AFTER_NAME:
                stop = raw.index(b">", close) + 1  # </name>, not an empty <name/>
        element = bytes(raw[start:stop])
        del raw[:stop]
        self._raw_base = base + stop
        return element
