"""Node configuration (XEP-0060 §16.4.4 ``pubsub#node_config``) and publish-options
preconditions (§7.1.5), for PEP and the pubsub service alike: a :class:`Schema` is the
fields a service supports, their defaults and the limit behind ``pubsub#max_items``
``max`` (§16.4.4, ``config-node-max``).

Values are kept as normalized strings ("true"/"false" for booleans, a number or "max"
for ``pubsub#max_items``, list-multi values one per line). :data:`SERVICE` is the pubsub
service's: ``open`` access and the ``publishers`` publish model by default (XEP-0060
§4.5: "open" SHOULD be the default of a generic service), the last item never sent on
subscription unless a node asks (as Prosody's mod_pubsub).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from minixmpp.pubsub.errors import PubSubRefusal, refuse

#: var → (XEP-0004 field type, allowed values or None)
Fields = dict[str, tuple[str, tuple[str, ...] | None]]


def _boolean(value: str) -> str | None:
    v = value.strip().lower()
    return "true" if v in ("1", "true") else "false" if v in ("0", "false") else None


@dataclass(frozen=True)
class Schema:
    """The node options one kind of service supports (``option``: the command-line option
    that bounds ``pubsub#max_items``, for error texts)."""

    fields: Fields
    defaults: dict[str, str]
    option: str

    def normalize(self, var: str, values: list[str], max_items: int) -> str:
        """One submitted field as a stored value; ``not-acceptable`` for a value this
        service does not support (XEP-0060 §8.2.5)."""
        kind, allowed = self.fields[var]
        if kind == "list-multi":
            return "\n".join(v.strip() for v in values if v.strip())
        value = values[0].strip() if values else ""
        if kind == "boolean":
            b = _boolean(value)
            if b is None:
                raise PubSubRefusal("not-acceptable", text=f"{var} must be a boolean")
            return b
        if var == "pubsub#max_items":
            if value == "max":
                return "max"
            if not value.isdigit() or int(value) < 1:
                raise PubSubRefusal("not-acceptable", text="pubsub#max_items must be a "
                                                           "positive integer or 'max'")
            if int(value) > max_items:
                raise PubSubRefusal("not-acceptable", text=f"pubsub#max_items is at most "
                                                           f"{max_items} here ({self.option})")
            return str(int(value))
        if allowed is not None and value not in allowed:
            if var == "pubsub#access_model":
                raise refuse("unsupported-access-model", f"access model {value!r} is not "
                                                         f"supported: {', '.join(allowed)}")
            raise PubSubRefusal("not-acceptable",
                                text=f"{var} must be one of {', '.join(allowed)}")
        return value

    def parse(self, fields: dict[str, list[str]], max_items: int, *, strict: bool = False
              ) -> dict[str, str]:
        """Submitted fields (var → values) as configuration changes. Unknown fields are
        ignored, or with ``strict`` (publish-options) cannot be met."""
        out: dict[str, str] = {}
        for var, values in fields.items():
            if var == "FORM_TYPE":
                continue
            if var not in self.fields:
                if strict:
                    raise refuse("precondition-not-met", f"{var} is not a node option here")
                continue
            out[var] = self.normalize(var, values, max_items)
        return out

    def effective(self, config: dict[str, str]) -> dict[str, str]:
        return {**self.defaults, **config}

    def keep(self, config: dict[str, str], limit: int) -> int:
        """How many items a node keeps (``max`` and everything above the limit: the
        limit; not persistent: none)."""
        c = self.effective(config)
        if c["pubsub#persist_items"] == "false":
            return 0
        if c["pubsub#max_items"] == "max":
            return limit
        return min(int(c["pubsub#max_items"]), limit)

    def check_preconditions(self, config: dict[str, str], wanted: dict[str, str]) -> None:
        """XEP-0060 §7.1.5: every publish-option must equal the node's configuration."""
        current = self.effective(config)
        for var, value in wanted.items():
            if current.get(var) != value:
                raise refuse("precondition-not-met",
                             f"{var} is {current.get(var)!r}, not {value!r}")

    def form_values(self, config: dict[str, str]) -> dict[str, Any]:
        """The configuration as typed values for a form (wokkel ``makeFields``)."""
        out: dict[str, Any] = {}
        for var, value in self.effective(config).items():
            kind, _ = self.fields[var]
            if kind == "boolean":
                out[var] = value == "true"
            elif kind == "list-multi":
                out[var] = [v for v in value.split("\n") if v]
            else:
                out[var] = value
        return out

    def field_definitions(self) -> dict[str, dict[str, Any]]:
        """wokkel's ``getConfigurationOptions`` shape."""
        defs: dict[str, dict[str, Any]] = {}
        for var, (kind, allowed) in self.fields.items():
            d: dict[str, Any] = {"type": kind,
                                 "label": var.split("#", 1)[1].replace("_", " ")}
            if allowed:
                d["options"] = {v: v for v in allowed}
            defs[var] = d
        return defs


#: the pubsub service's access and publish models (XEP-0060 §4.5, §16.4.4)
ACCESS_MODELS = ("open", "authorize", "whitelist")
PUBLISH_MODELS = ("publishers", "subscribers", "open")

SERVICE = Schema(
    fields={
        "pubsub#title": ("text-single", None),
        "pubsub#description": ("text-single", None),
        "pubsub#type": ("text-single", None),
        "pubsub#access_model": ("list-single", ACCESS_MODELS),
        "pubsub#publish_model": ("list-single", PUBLISH_MODELS),
        "pubsub#max_items": ("text-single", None),
        "pubsub#persist_items": ("boolean", None),
        "pubsub#send_last_published_item": ("list-single", ("never", "on_sub")),
        "pubsub#deliver_notifications": ("boolean", None),
        "pubsub#deliver_payloads": ("boolean", None),
        "pubsub#notify_config": ("boolean", None),
        "pubsub#notify_delete": ("boolean", None),
        "pubsub#notify_retract": ("boolean", None),
        "pubsub#notification_type": ("list-single", ("headline", "normal")),
    },
    defaults={
        "pubsub#title": "",
        "pubsub#description": "",
        "pubsub#type": "",
        "pubsub#access_model": "open",
        "pubsub#publish_model": "publishers",
        "pubsub#max_items": "10",
        "pubsub#persist_items": "true",
        "pubsub#send_last_published_item": "never",
        "pubsub#deliver_notifications": "true",
        "pubsub#deliver_payloads": "true",
        "pubsub#notify_config": "false",
        "pubsub#notify_delete": "true",
        "pubsub#notify_retract": "true",
        "pubsub#notification_type": "headline",
    },
    option="--pubsub-max-items")
