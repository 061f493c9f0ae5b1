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

#: a start tag's name (``_root_end``)
_TAG = re.compile(rb"<([^\s/>]+)")


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
    raw_element: bytearray | None = None
    _root_close = b"</stream:stream"

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
            if stream.currElem is None:
                if stream.documentStarted:  # a top-level element begins
                    self._stanza_start = parser.CurrentByteIndex
                elif self.keep_raw:  # the stream's root: how its end tag will look
                    self._root_close = self._root_end(parser.CurrentByteIndex)
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
            if self.keep_raw:
                self._trim_raw(stream is None or stream.currElem is None)
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

    def _trim_raw(self, idle: bool) -> None:
        """After a chunk: keep only what an element still arriving needs: from its start
        tag, or with none in progress from the last ``<`` (a start tag still arriving;
        none may stand inside an attribute value). Once per chunk, not per element."""
        raw = self._raw
        if idle:
            cut = raw.rfind(b"<")
            cut = len(raw) if cut < 0 else cut
        else:
            cut = max(self._stanza_start - self._raw_base, 0)
        if cut:
            del raw[:cut]
            self._raw_base += cut

    def _root_end(self, at: int) -> bytes:
        """``</stream:stream`` as this stream's root spells it (its prefix may vary)."""
        tag = _TAG.match(self._raw, at - self._raw_base)
        return b"</" + tag[1] if tag is not None else b"</stream:stream"

    def _take_raw(self, end: int) -> bytearray | None:
        """The bytes of the top-level element that ended at ``end``: expat's index at its
        end event is the start of ``</name>``, or just past an empty ``<name/>`` (after
        which only the stream's own end tag may follow at once)."""
        raw, base = self._raw, self._raw_base
        start, stop = self._stanza_start - base, end - base
        if start < 0 or stop > len(raw):
            return None  # the parser was reset under it: no bytes to show
        if raw.startswith(b"</", stop) and not raw.startswith(self._root_close, stop):
            stop = raw.index(b">", stop) + 1
        return raw[start:stop]
