"""Time as text: XEP-0082 DateTime stamps and ISO 8601 for the JSON API, in one place."""

from __future__ import annotations

import datetime
import functools
import math


@functools.lru_cache(maxsize=4)
def _second(second: int) -> str:
    return datetime.datetime.fromtimestamp(second, datetime.UTC).strftime(
        "%Y-%m-%dT%H:%M:%S.")


def utc_stamp(t: float, *, microseconds: bool = False) -> str:
    """XEP-0082 §3.2 DateTime in UTC (``2026-01-02T03:04:05.678Z``), to the millisecond
    or, for archive ordering, the microsecond. (Every offline message is stamped: the
    date and time of the current second are formatted once.)"""
    second = math.floor(t)
    micro = round((t - second) * 1e6)
    if micro == 1_000_000:  # rounds up into the next second, as datetime does
        second, micro = second + 1, 0
    fraction = f"{micro:06d}" if microseconds else f"{micro // 1000:03d}"
    return _second(second) + fraction + "Z"


def parse_datetime(value: str) -> float:
    """A XEP-0082 DateTime as seconds since the epoch (UTC when no offset is given);
    raises ``ValueError``."""
    moment = datetime.datetime.fromisoformat(value.strip())
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=datetime.UTC)
    return moment.timestamp()


def iso(t: float | None, timespec: str = "milliseconds") -> str | None:
    """ISO 8601 with milliseconds (or ``timespec``) and offset, for JSON (None stays
    None)."""
    if t is None:
        return None
    return datetime.datetime.fromtimestamp(t, datetime.UTC).isoformat(timespec=timespec)
