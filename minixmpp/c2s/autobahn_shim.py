"""Two costs autobahn puts on every WebSocket stanza, taken off in place (as
``minixmpp._compat`` does for wokkel: names replaced, no code copied).

- Debug-log arguments formatted before the logger drops the line.
- A cffi allocation per frame to unmask it.

Measured with py-spy under the benchmarks (docs/benchmarks.md).
"""

from __future__ import annotations

import functools
import pprint
from collections.abc import Callable
from typing import Any

import txaio
from autobahn import util
from autobahn.twisted import websocket as twisted_websocket
from autobahn.websocket import protocol, xormasker


def _debug_only(format: Callable[..., str]) -> Callable[..., str]:
    """autobahn formats the arguments of its ``log.debug`` lines before the logger can
    drop them: on every connection its whole configuration (``pformat``), on every read
    and write the function and peer (``hltype``, ``hlval``). That was a quarter of a
    WebSocket login's server CPU and a twentieth of each stanza's (py-spy,
    benchmarks/). Format only when autobahn logs at debug level (txaio's global level;
    ``trackTimings``' text, the one other use, follows it)."""
    @functools.wraps(format)
    def maybe(*args: Any, **kwargs: Any) -> str:
        if txaio.get_global_log_level() in ("debug", "trace"):
            return format(*args, **kwargs)
        return "-"
    return maybe


#: frames up to this size are unmasked in Python (bigger ones by autobahn's NVX)
SMALL_FRAME = 4096


class _SmallMasker:
    """RFC 6455 §5.3 unmasking of one small frame (the XMPP stanzas that make up
    nearly every frame), fed in pieces as they arrive. autobahn's NVX masker costs an
    allocation through cffi per frame: two and a half times as long for a stanza."""

    __slots__ = ("_mask", "_ptr")

    def __init__(self, mask: bytes) -> None:
        self._mask = mask
        self._ptr = 0

    def pointer(self) -> int:
        return self._ptr

    def reset(self) -> None:
        self._ptr = 0

    def process(self, data: bytes) -> bytes:
        n = len(data)
        if not n:
            return b""
        k = self._ptr % 4
        key = (self._mask[k:] + self._mask[:k]) * (n // 4 + 1)
        self._ptr += n
        return (int.from_bytes(data, "big") ^ int.from_bytes(key[:n], "big")).to_bytes(
            n, "big")


def _create_xor_masker(mask: bytes, length: int | None = None) -> Any:
    if length is not None and length <= SMALL_FRAME and len(mask) == 4:
        return _SmallMasker(mask)
    return xormasker.create_xor_masker(mask, length)


def install() -> None:
    """Replace the names in autobahn's own modules (idempotent); nothing is copied."""
    protocol.pformat = _debug_only(pprint.pformat)
    for module in (protocol, twisted_websocket):
        module.hltype = _debug_only(util.hltype)
        module.hlval = _debug_only(util.hlval)
    protocol.create_xor_masker = _create_xor_masker
