"""The ``urn:xmpp:push:summary`` form of a notification (XEP-0357 §7), per profile.

``fields`` gives the values in order; ``form`` builds the ``<x/>``. Prosody's layout
(``Profile.all_fields``) has every field of its ``push_form`` in every push, typed, empty
when there is no value (util.dataforms); the others carry only the fields that have one.
A push for no message (a wake, the server's start, a ping, the count reset) has no
sender and no body: a summary with the count only, or, where the profile says so
(``bare_form``), no form at all.
"""

from __future__ import annotations

from collections.abc import Mapping

from twisted.words.xish import domish

from minixmpp import forms, ns
from minixmpp.push.message import PushMessage
from minixmpp.push.profiles import Profile

LABELS = {"message-count": "Message count", "pending-subscription-count":
          "Pending subscription requests", "last-message-sender": "Last message sender",
          "last-message-body": "Last message body"}
#: XEP-0357 §11.3: the summary fields and their types, in Prosody's order
TYPES = {"message-count": "text-single", "pending-subscription-count": "text-single",
         "last-message-sender": "jid-single", "last-message-body": "text-single"}


def fields(profile: Profile, m: PushMessage | None, *, unseen: int, pending: int,
           privacy: bool, important: bool = True) -> dict[str, str]:
    """The summary's values, in order (an empty value: a field without ``<value/>``).

    ``m`` is None for a push for no message; ``important`` is Prosody's is_important
    (an unimportant stanza never gets the placeholder body)."""
    if profile.all_fields:
        return _prosody(profile, m, privacy, important)
    out: dict[str, str] = {}
    if profile.message_count == "unseen":
        out["message-count"] = str(unseen)
    elif profile.message_count == "one":
        out["message-count"] = "1"
    if pending:
        out["pending-subscription-count"] = str(pending)
    if m is None:
        return out
    if privacy:
        if important:
            out["last-message-body"] = profile.placeholder
        return out
    out["last-message-sender"] = m.sender
    body = m.body
    if body is None and m.encrypted:
        body = profile.placeholder
    if body is not None:
        out["last-message-body"] = body
    return out


def _prosody(profile: Profile, m: PushMessage | None, privacy: bool,
             important: bool) -> dict[str, str]:
    """mod_cloud_notify's handle_notify_request: message-count hard-coded to 1, the
    sender and body with push_notification_with_sender/_with_body (not ``privacy``),
    else the important body (``push_notification_important_body``) for an important
    stanza; pending-subscription-count is never computed."""
    out = {"message-count": "1", "pending-subscription-count": "",
           "last-message-sender": "", "last-message-body": ""}
    if m is None:
        return out
    if not privacy:
        out["last-message-sender"] = m.sender
        out["last-message-body"] = m.body or ""
    elif important:
        out["last-message-body"] = profile.placeholder
    return out


def form(profile: Profile, values: Mapping[str, str]) -> domish.Element:
    """The ``<x/>`` for ``values``: typed fields for Prosody's layout, labels where the
    profile has them."""
    if not profile.all_fields:
        return forms.submit(ns.PUSH_SUMMARY, values, profile.form_type,
                            LABELS if profile.labels else None)
    x = forms.form(ns.PUSH_SUMMARY, profile.form_type)
    for var, value in values.items():
        forms.field(x, var, TYPES.get(var), [value] if value else [])
    return x
