"""App Servers' answers to a publish (XEP-0357 §7.1), per profile.

A ``result`` resets the registration's error count. An error (or no answer within
``--push-timeout``) is kept, counted or disabling as the profile's error policy says
(``Profile.errors``; docs/push.md "Profiles" cites each server's code):

- ``transient`` (minixmpp): ``type='wait'``, ``remote-server-timeout``,
  ``service-unavailable``, ``internal-server-error`` and timeouts count, and
  ``--push-max-errors`` in a row disable; any other error disables at once;
- ``tigase`` (``AbstractPushNotifications.shouldDisablePush``): those three conditions and
  ``bad-request`` never disable, any other disables at once; nothing is counted;
- ``non-wait`` (Prosody's ``handle_push_error``): every error whose type is not ``wait``
  counts, none disables at once;
- ``type`` (ejabberd's ``mod_push:notify``): ``type='wait'`` is kept ("rejected
  temporarily"), any other type disables at once;
- ``cancel`` (MongooseIM's ``handle_publish_response``): ``type='cancel'`` disables at
  once, any other is kept.

Under every policy but ``transient`` a timeout is only logged.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from twisted.internet import defer
from twisted.logger import Logger
from twisted.python.failure import Failure

from minixmpp.push.profiles import Profile
from minixmpp.storage.interfaces import IPushStore, PushRegistration

#: Conditions that count as transient (push-rules "App Server replies").
TRANSIENT = frozenset({"remote-server-timeout", "service-unavailable", "internal-server-error"})
#: Conditions Tigase never disables for.
TIGASE_KEPT = TRANSIENT | {"bad-request"}

Key = tuple[str, str, "str | None"]  # (user, App Server JID, node)


def counts(policy: str, condition: str, kind: str) -> tuple[bool, bool]:
    """(counted, disables at once) for an error ``condition`` of type ``kind`` under the
    error ``policy``; a timeout is condition ``timeout`` of type ``wait``."""
    if policy == "transient":
        transient = kind == "wait" or condition in TRANSIENT or condition == "timeout"
        return True, not transient
    if policy == "non-wait":
        return kind != "wait", False
    if condition == "timeout":
        return False, False
    if policy == "tigase":
        return False, condition not in TIGASE_KEPT
    if policy == "type":
        return False, kind != "wait"
    return False, kind == "cancel"  # "cancel"


class Replies:
    """Applies the profile's error policy to each App Server answer."""

    log = Logger()

    def __init__(self, store: IPushStore, profile: Profile, max_errors: int,
                 on_event: Callable[[str, str, PushRegistration, str], None] | None) -> None:
        self.store = store
        self.profile = profile
        self.max_errors = max_errors
        self.on_event = on_event

    def answered(self, iq: Any, key: Key) -> str:
        self._update(key, lambda r: (setattr(r, "errors", 0),
                                     setattr(r, "notifications", r.notifications + 1)))
        return "result"

    def failed(self, failure: Failure, key: Key) -> str | None:
        """An error reply, or none in time (``timeout``): kept, counted or disabling per
        the profile; returns the condition (None at shutdown)."""
        if failure.check(defer.CancelledError):
            return None  # shutdown
        if failure.check(defer.TimeoutError):
            condition, kind = "timeout", "wait"
        else:
            condition = getattr(failure.value, "condition", "undefined-condition")
            kind = getattr(failure.value, "type", None) or "cancel"
        self.error(key, condition, kind)
        return condition

    def error(self, key: Key, condition: str, kind: str, *,
              policy: str | None = None) -> None:
        """Apply ``policy`` (the profile's unless given) to one error."""
        user, service, node = key
        registration = self.find(key)
        if registration is None:
            return
        registration.last_error = condition
        policy = policy or self.profile.errors
        counted, at_once = counts(policy, condition, kind)
        if not at_once:
            if counted:
                registration.errors += 1
            if not counted or registration.errors < self.max_errors:
                self.store.put(user, registration)
                self.log.info("push error from {service} node={node} for {user}: {condition} "
                              "({how}, {n} of {max})", service=service,
                              node=node, user=user, condition=condition,
                              how="counted" if counted else "kept, not counted",
                              n=registration.errors, max=self.max_errors)
                return
            why = f"{registration.errors} errors, last {condition}"
        elif policy == "transient":
            why = f"permanent error {condition}"
        else:
            why = f"error {condition} (type {kind})"
        self.store.remove(user, registration.jid, registration.node)
        self.log.info("push auto-disabled: {user} → {service} node={node} ({why})",
                      user=user, service=service, node=node, why=why)
        if self.on_event is not None:
            self.on_event("auto-disabled", user, registration, why)

    def find(self, key: Key) -> PushRegistration | None:
        user, service, node = key
        for registration in self.store.registrations(user):
            if (registration.jid, registration.node) == (service, node):
                return registration
        return None

    def _update(self, key: Key, change: Callable[[PushRegistration], Any]) -> None:
        registration = self.find(key)
        if registration is not None:
            change(registration)
            self.store.put(key[0], registration)

