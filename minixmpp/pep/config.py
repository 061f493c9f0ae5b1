"""PEP node configuration (XEP-0060 §16.4.4 ``pubsub#node_config``; XEP-0163 §5 defaults)
and publish-options preconditions (XEP-0060 §7.1.5), on the pubsub family's
:class:`~minixmpp.pubsub.config.Schema`.

Defaults are Prosody's for PEP: access model ``presence``, one item, persistent, last
item sent on subscription and presence.
"""

from __future__ import annotations

from minixmpp.pubsub.config import Schema

ACCESS_MODELS = ("open", "presence", "roster", "whitelist")
SEND_LAST = ("never", "on_sub", "on_sub_and_presence")

SCHEMA = Schema(
    fields={
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
    },
    defaults={
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
    },
    option="--pep-max-items")

FIELDS = SCHEMA.fields
DEFAULTS = SCHEMA.defaults
normalize = SCHEMA.normalize
parse = SCHEMA.parse
effective = SCHEMA.effective
keep = SCHEMA.keep
check_preconditions = SCHEMA.check_preconditions
form_values = SCHEMA.form_values
field_definitions = SCHEMA.field_definitions
