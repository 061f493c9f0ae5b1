"""Push behaviour profiles (``--push-profile``): one small table of choices per server.

The policy, the enable handler, the notifier and the keepalive read a :class:`Profile`;
nothing else differs between profiles. Each choice and its source is in docs/push.md
("Profiles").
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
    #: "jingle": a XEP-0353 call pushes only with tigase:push:jingle:0; "every": a
    #: ``propose`` pushes to every registration at once, live sessions or not (Prosody's
    #: is_urgent)
    calls: str = "jingle"
    # -- the summary form (XEP-0357 §7)
    form_type: str = "submit"  # the x:data form's type attribute
    message_count: str = "unseen"  # "unseen" (since last online) | "one" | "none"
    #: every summary field, typed, in every push, empty when it has no value; the
    #: pending-subscription-count never filled (Prosody's push_form, util.dataforms)
    all_fields: bool = False
    labels: bool = False  # label attributes on the summary fields
    #: the body of an important message in privacy mode (``--push-privacy``)
    placeholder: str = "New message"
    #: a push for no message (wake, start, ping, count reset): False is an empty
    #: ``<notification/>`` with no form (ejabberd's make_summary for ``none``)
    bare_form: bool = True
    # -- App Server errors (XEP-0357 §7.1)
    #: "transient": permanent conditions disable at once, transient ones count to the
    #: limit; "tigase": four conditions never disable, any other disables at once;
    #: "non-wait": every error but type='wait' counts, none disables at once;
    #: "type": type='wait' is kept, any other type disables at once; "cancel": type
    #: 'cancel' disables at once, any other is kept. Timeouts count only under
    #: "transient".
    errors: str = "transient"
    # -- disable (XEP-0357 §6, §8)
    disable_same_resource: bool = False  # a disable with node takes every node enabled
    #                                      by the same resource
    disable_no_match: str = "result"  # or the error condition, e.g. "item-not-found"
    #: an App Server's affiliation change to 'none' removes the registration (§8)
    remote_disable: bool = True
    # -- hibernated sessions (XEP-0198)
    #: "first": the first queued message pushes, the rest wait for the resumption;
    #: "timer": queued stanzas are batched for ``batch_seconds``; "every": each pushes
    hibernation: str = "first"
    batch_seconds: float = 1.0
    #: what a sleeping session's queue pushes: "messages" (push-worthy messages only),
    #: "important" (per batch, one push for the first important stanza and one
    #: body-less push for the first other one: Prosody's is_important), "every" (every
    #: stanza; one that is not a push-worthy message as an empty notification: ejabberd)
    queue: str = "messages"
    #: rule 2 notifies only the registration the sleeping session made (Prosody's
    #: push_identifier, ejabberd's push_session_id); the others push as archived
    own_registration: bool = False
    #: a connection still open whose client leaves stanzas unacknowledged for
    #: ``--push-ack-delay`` seconds pushes once per such episode (Prosody's
    #: smacks-ack-delayed)
    ack_delayed: bool = True
    #: "flat": ``--resume-timeout-push`` for the whole hibernation of an account with
    #: registrations; "until-push": for a session that enabled push, only until the first
    #: push for a message, then ``--resume-timeout`` from then on (ejabberd's
    #: mod_push_keepalive, Prosody's push_max_hibernation_timeout)
    resume: str = "flat"
    #: a push this many seconds before a hibernated push session would expire (0:
    #: none; ejabberd's wake_on_timeout)
    wake_before: float = 0
    # -- Tigase's notices
    #: ``message-count`` 0 when the account fetched its offline messages
    count_reset: bool = False
    # -- enable (XEP-0357 §5)
    node_required: bool = False  # enable without node: bad-request (or the condition below)
    node_missing_condition: str = "bad-request"
    enable_before_auth: str = "not-authorized"  # stream error; or an IQ error condition
    # -- Tigase's extensions (push/extensions.py)
    extensions: bool = True
    #: ``--push-virtual-pubsub`` may make the in-process App Server a virtual pubsub
    #: host (MongooseIM's virtual_pubsub_hosts)
    virtual_pubsub: bool = False


PROFILES: dict[str, Profile] = {p.name: p for p in (
    Profile("minixmpp"),
    Profile("tigase", node_required=True, errors="tigase", count_reset=True,
            ack_delayed=False),
    Profile("prosody", away_extension=False, on_archive=True, calls="every", form_type="form",
            message_count="one", all_fields=True, placeholder="New Message!",
            errors="non-wait", remote_disable=False, hibernation="timer", queue="important",
            own_registration=True, resume="until-push",
            enable_before_auth="service-unavailable", extensions=False),
    Profile("ejabberd", away_extension=False, on_archive=True, message_count="none",
            labels=True, bare_form=False, errors="type", disable_same_resource=True,
            disable_no_match="item-not-found", remote_disable=False, hibernation="every",
            queue="every", own_registration=True, ack_delayed=False, resume="until-push",
            wake_before=120, node_required=True,
            node_missing_condition="feature-not-implemented", extensions=False),
    Profile("mongooseim", away_extension=False, hibernated=False, errors="cancel",
            remote_disable=False, ack_delayed=False, node_required=True, extensions=False,
            virtual_pubsub=True),
)}

#: the values of the profile fields that take one of several words
CHOICES = {"calls": ("jingle", "every"), "message_count": ("unseen", "one", "none"),
           "form_type": ("submit", "form"),
           "errors": ("transient", "tigase", "non-wait", "type", "cancel"),
           "hibernation": ("first", "timer", "every"),
           "queue": ("messages", "important", "every"), "resume": ("flat", "until-push")}


def profile(name: str) -> Profile:
    """The named profile; KeyError for an unknown name."""
    return PROFILES[name]
