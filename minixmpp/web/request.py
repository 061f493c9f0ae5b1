"""Reading a control API request: its JSON body and query arguments, and the error
answer (``HTTPError``) every route raises for bad input (``docs/api.md``)."""

from __future__ import annotations

import json
from typing import Any

from twisted.web import server


class HTTPError(Exception):
    """An error answer: status code and message."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


def json_body(request: server.Request) -> dict[str, Any]:
    """The body as a JSON object (empty: ``{}``), read once per request."""
    cached = getattr(request, "_minixmpp_json", None)
    if cached is not None:
        return cached
    raw = request.content.read() if request.content else b""
    try:
        body = json.loads(raw or b"{}")
    except (ValueError, UnicodeDecodeError):
        raise HTTPError(400, "the body is not valid JSON") from None
    if not isinstance(body, dict):
        raise HTTPError(400, "the body must be a JSON object")
    request._minixmpp_json = body  # type: ignore[attr-defined]
    return body


def arg(request: server.Request, name: str) -> str | None:
    """The query argument ``name`` (the first if repeated)."""
    values = request.args.get(name.encode())
    return values[0].decode("utf-8", "replace") if values else None


def number_arg(request: server.Request, name: str, default: float) -> float:
    """A numeric query argument, ``default`` when absent."""
    value = arg(request, name)
    if value is None:
        return default
    try:
        number = float(value)
    except ValueError:
        raise HTTPError(400, f"{name} must be a number") from None
    if number != number or number in (float("inf"), float("-inf")):
        raise HTTPError(400, f"{name} must be a finite number")
    return number


def timeout_arg(request: server.Request, default: float = 10) -> float:
    """A long poll's ``timeout``: more than 0, at most 300 seconds."""
    timeout = number_arg(request, "timeout", default)
    if not 0 < timeout <= 300:
        raise HTTPError(400, "timeout must be between 0 and 300 seconds")
    return timeout


def number_field(request: server.Request, name: str, low: float, high: float,
                 *, integer: bool = False) -> float:
    """The JSON body's number ``name``, between ``low`` and ``high``."""
    value = json_body(request).get(name)
    kinds = int if integer else int | float
    if isinstance(value, bool) or not isinstance(value, kinds) or value != value \
            or not low <= value <= high:
        kind = "an integer" if integer else "a number"
        raise HTTPError(400, f"give {name} as {kind} from {low:g} to {high:g}")
    return value
