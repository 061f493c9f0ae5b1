"""PEP node configuration (XEP-0060 §16.4.4 ``pubsub#node_config``; XEP-0163 §5 defaults)
and publish-options preconditions (XEP-0060 §7.1.5).

Values are kept as normalized strings ("true"/"false" for booleans, a number or "max"
for ``pubsub#max_items``). Defaults are Prosody's for PEP: access model ``presence``,
one item, persistent, last item sent on subscription and presence.
"""

from __future__ import annotations

from typing import Any

from minixmpp.pep.errors import PepError, refuse

ACCESS_MODELS = ("open", "presence", "roster", "whitelist")
SEND_LAST = ("never", "on_sub", "on_sub_and_presence")

#: var → (XEP-0004 field type, allowed values or None)
FIELDS: dict[str, tuple[str, tuple[str, ...] | None]] = {
    "pubsub#title": ("text-single", None),
    "pubsub#access_model": ("list-single", ACCESS_MODELS),
    "pubsub#roster_groups_allowed": ("list-multi", None),
    "pubsub#max_items": ("text-single", None),
    "pubsub#persist_items": ("boolean", None),
    "pubsub#send_last_published_item": ("list-single", SEND_LAST),
    "pubsub#notify_retract": ("boolean", None),
    "pubsub#notify_delete": ("boolean", None),
    "pubsub#deliver_notifications": ("boolean", None),
    "pubsub#deliver_payloads": ("boolean", None),
}

DEFAULTS: dict[str, str] = {
    "pubsub#title": "",
    "pubsub#access_model": "presence",
    "pubsub#roster_groups_allowed": "",
    "pubsub#max_items": "1",
    "pubsub#persist_items": "true",
    "pubsub#send_last_published_item": "on_sub_and_presence",
    "pubsub#notify_retract": "true",
    "pubsub#notify_delete": "true",
    "pubsub#deliver_notifications": "true",
    "pubsub#deliver_payloads": "true",
}


def _boolean(value: str) -> str | None:
    v = value.strip().lower()
    return "true" if v in ("1", "true") else "false" if v in ("0", "false") else None


def normalize(var: str, values: list[str], max_items: int) -> str:
    """One submitted field as a stored value; :class:`PepError` ``not-acceptable`` for
    a value this service does not support (XEP-0060 §8.2.5)."""
    kind, allowed = FIELDS[var]
    if kind == "list-multi":
        return "\n".join(v.strip() for v in values if v.strip())
    value = values[0].strip() if values else ""
    if kind == "boolean":
        b = _boolean(value)
        if b is None:
            raise PepError("not-acceptable", text=f"{var} must be a boolean")
        return b
    if var == "pubsub#max_items":
        if value == "max":
            return "max"
        if not value.isdigit() or int(value) < 1:
            raise PepError("not-acceptable", text="pubsub#max_items must be a positive "
                                                  "integer or 'max'")
        if int(value) > max_items:
            raise PepError("not-acceptable", text=f"pubsub#max_items is at most {max_items}"
                                                  " here (--pep-max-items)")
        return str(int(value))
    if allowed is not None and value not in allowed:
        if var == "pubsub#access_model":
            raise refuse("unsupported-access-model", f"access model {value!r} is not "
                                                     f"supported: {', '.join(allowed)}")
        raise PepError("not-acceptable", text=f"{var} must be one of {', '.join(allowed)}")
    return value


def parse(fields: dict[str, list[str]], max_items: int, *, strict: bool = False
          ) -> dict[str, str]:
    """Submitted fields (var → values) as configuration changes. Unknown fields are
    ignored, or with ``strict`` (publish-options) cannot be met."""
    out: dict[str, str] = {}
    for var, values in fields.items():
        if var == "FORM_TYPE":
            continue
        if var not in FIELDS:
            if strict:
                raise refuse("precondition-not-met", f"{var} is not a node option here")
            continue
        out[var] = normalize(var, values, max_items)
    return out


def effective(config: dict[str, str]) -> dict[str, str]:
    return {**DEFAULTS, **config}


def keep(config: dict[str, str], limit: int) -> int:
    """How many items a node keeps (``max`` and everything above the limit: the limit;
    not persistent: none)."""
    c = effective(config)
    if c["pubsub#persist_items"] == "false":
        return 0
    if c["pubsub#max_items"] == "max":
        return limit
    return min(int(c["pubsub#max_items"]), limit)


def check_preconditions(config: dict[str, str], wanted: dict[str, str]) -> None:
    """XEP-0060 §7.1.5: every publish-option must equal the node's configuration."""
    current = effective(config)
    for var, value in wanted.items():
        if current.get(var) != value:
            raise refuse("precondition-not-met",
                         f"{var} is {current.get(var)!r}, not {value!r}")


def form_values(config: dict[str, str]) -> dict[str, Any]:
    """The configuration as typed values for a ``form`` (wokkel ``makeFields``)."""
    out: dict[str, Any] = {}
    for var, value in effective(config).items():
        kind, _ = FIELDS[var]
        if kind == "boolean":
            out[var] = value == "true"
        elif kind == "list-multi":
            out[var] = [v for v in value.split("\n") if v]
        else:
            out[var] = value
    return out


def field_definitions() -> dict[str, dict[str, Any]]:
    """wokkel's ``getConfigurationOptions`` shape."""
    defs: dict[str, dict[str, Any]] = {}
    for var, (kind, allowed) in FIELDS.items():
        d: dict[str, Any] = {"type": kind, "label": var.split("#", 1)[1].replace("_", " ")}
        if allowed:
            d["options"] = {v: v for v in allowed}
        defs[var] = d
    return defs
