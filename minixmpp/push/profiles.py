"""Push behaviour profiles (``--push-profile``): one small table of choices per server.

The policy, the enable handler and the notifier read a :class:`Profile`; nothing else
differs between profiles. Each choice and its source is in docs/push.md ("Profiles").
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Profile:
    """How one server family behaves on the push path."""

    name: str
    # -- which rules push (push-rules "When to push")
    offline: bool = True  # rule 1
    hibernated: bool = True  # rule 2
    away_extension: bool = True  # rule 3, tigase:push:away:0 (advertised and applied)
    on_archive: bool = False  # archived message, registration's own session not live
    csi_inactive: bool = False  # a CSI-inactive session counts as hibernated
    # -- the summary form (XEP-0357 §7)
    form_type: str = "submit"  # the x:data form's type attribute
    message_count: str = "unseen"  # "unseen" (since last online) | "one" | "none"
    empty_pending_count: bool = False  # pending-subscription-count always, empty if 0
    labels: bool = False  # label attributes on the summary fields
    # -- App Server errors (XEP-0357 §7.1)
    #: "transient": permanent conditions disable at once, transient ones count to the
    #: limit; "non-wait": every error but type='wait' counts, none disables at once;
    #: "first": the first error of any kind disables
    errors: str = "transient"
    # -- disable (XEP-0357 §6)
    disable_same_resource: bool = False  # a disable with node takes every node enabled
    #                                      by the same resource
    disable_no_match: str = "result"  # or the error condition, e.g. "item-not-found"
    # -- hibernated sessions (XEP-0198)
    #: "first": the first queued message pushes, the rest wait for the resumption;
    #: "timer": queued messages are batched for ``batch_seconds``; "every": each pushes
    hibernation: str = "first"
    batch_seconds: float = 1.0
    # -- enable (XEP-0357 §5)
    node_required: bool = False  # enable without node: bad-request (or the condition below)
    node_missing_condition: str = "bad-request"
    enable_before_auth: str = "not-authorized"  # stream error; or an IQ error condition
    # -- Tigase's extensions (push/extensions.py)
    extensions: bool = True


PROFILES: dict[str, Profile] = {p.name: p for p in (
    Profile("minixmpp"),
    Profile("tigase", node_required=True),
    Profile("prosody", away_extension=False, on_archive=True, form_type="form",
            message_count="one", empty_pending_count=True, errors="non-wait",
            hibernation="timer", enable_before_auth="service-unavailable",
            extensions=False),
    Profile("ejabberd", away_extension=False, on_archive=True, message_count="none",
            labels=True, errors="first", disable_same_resource=True,
            disable_no_match="item-not-found", hibernation="every", node_required=True,
            node_missing_condition="feature-not-implemented", extensions=False),
    Profile("mongooseim", away_extension=False, hibernated=False, errors="first",
            node_required=True, extensions=False),
)}


def profile(name: str) -> Profile:
    """The named profile; KeyError for an unknown name."""
    return PROFILES[name]
