"""Time as text: XEP-0082 DateTime stamps and ISO 8601 for the JSON API, in one place."""

from __future__ import annotations

import datetime


def utc_stamp(t: float, *, microseconds: bool = False) -> str:
    """XEP-0082 §3.2 DateTime in UTC (``2026-01-02T03:04:05.678Z``), to the millisecond
    or, for archive ordering, the microsecond."""
    moment = datetime.datetime.fromtimestamp(t, datetime.UTC)
    fraction = f"{moment.microsecond:06d}" if microseconds else f"{moment.microsecond // 1000:03d}"
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + fraction + "Z"


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
