"""When to push (``shared/specs/push-rules.md``, "When to push"; the filters of
``tigase-push-extensions.md``), and why not.

Plain functions over plain values: a :class:`~minixmpp.push.message.PushMessage`, the
account's sessions, its registrations and the :class:`~minixmpp.push.profiles.Profile`.
No XML here. Every answer is a :class:`Verdict` per registration: pushed or not, with
the rule's name (``RULES``, docs/push.md "Decisions") and a line saying why.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import NamedTuple

from minixmpp.push import extensions as ext
from minixmpp.push.message import PushMessage
from minixmpp.push.profiles import PROFILES, Profile
from minixmpp.sessions import Session
from minixmpp.storage.interfaces import PushRegistration

__all__ = ["RULES", "Context", "Verdict", "decide", "plainly_available", "push_worthy",
           "stopped", "unworthy"]

#: Jingle Message Initiation actions that push with tigase:push:jingle:0: a call
#: (high priority) and its retraction, so that the phone stops ringing (low).
CALL_ACTIONS = ("propose", "retract")

# -- the rules that push (push-rules "When to push") ---------------------------------------
OFFLINE = "offline"
HIBERNATED = "hibernated"
AWAY = "away"
ARCHIVED = "archived"
GENERATED = "generated"
ACK_DELAYED = "ack-delayed"
UNIMPORTANT = "unimportant"
CALL = "call"
WAKE = "wake"
START = "start"
PING = "ping"
COUNT_RESET = "count-reset"
ACCOUNT_REMOVED = "account-removed"
# -- the rules that stop a push --------------------------------------------------------------
NOT_PUSH_WORTHY = "not-push-worthy"
ONLINE = "online"
PLAINLY_AVAILABLE = "plainly-available"
ALREADY_PUSHED = "already-pushed"
BATCHED = "batched"
PROFILE = "profile"
MUTED = "muted"
IGNORE_UNKNOWN = "ignore-unknown"
GROUPCHAT = "groupchat"
JINGLE = "jingle"
BLOCKED = "blocked"
BOUNCED = "bounced"

#: Every rule a decision names, and what it means (docs/push.md "Decisions").
RULES = {
    OFFLINE: "rule 1: no resource took the message, it went to offline storage",
    HIBERNATED: "rule 2: queued for a hibernated stream-management session",
    AWAY: "rule 3: away='true' and no connected resource is plainly available",
    ARCHIVED: "--push-on-archive: archived while the registration's own session is not live",
    GENERATED: "POST /api/push/generate: a synthetic message for App Server load tests",
    ACK_DELAYED: "rule 2 for a connection still open: its client left stanzas "
                 "unacknowledged for --push-ack-delay seconds (once per such episode)",
    UNIMPORTANT: "a sleeping session queued a stanza that is not an important message "
                 "(presence, chat state, receipt): a body-less or empty push",
    CALL: "a XEP-0353 call proposal: pushed to every registration at once",
    WAKE: "a hibernated push session is about to expire: a push so that it resumes",
    START: "the server started (--push-wake-on-start): every registration is woken",
    PING: "a push for no message, asked for (POST /api/push/ping, cloud-notify-ping)",
    COUNT_RESET: "the account fetched its offline messages: message-count 0",
    ACCOUNT_REMOVED: "the account was deleted (--push-account-removed)",
    NOT_PUSH_WORTHY: "not a chat or normal message with a body or an encrypted payload "
                     "from someone else (or a carbon copy)",
    ONLINE: "delivered to a live session; without away='true' only rules 1 and 2 push",
    PLAINLY_AVAILABLE: "away='true', but a resource is plainly available",
    ALREADY_PUSHED: "rule 2 pushes once per hibernation: this one already pushed",
    BATCHED: "rule 2 under a batching profile: one push for the latest when the timer fires",
    PROFILE: "the push profile does not push in this case",
    MUTED: "the registration's muted filter (Tigase) lists the sender",
    IGNORE_UNKNOWN: "the registration ignores unknown senders (Tigase) and the sender has "
                    "no subscription",
    GROUPCHAT: "a group chat message the groupchat filter or --push-groupchat does not allow",
    JINGLE: "a call (XEP-0353) without tigase:push:jingle:0",
    BLOCKED: "the account blocks the sender (XEP-0191): bounced, never delivered",
    BOUNCED: "answered with an error: no resource took it and offline storage did not",
}


class Verdict(NamedTuple):
    """One registration's answer for one message."""

    registration: PushRegistration
    pushed: bool
    rule: str
    detail: str


def unworthy(message: PushMessage) -> str | None:
    """Why this message can push for no registration (None: it may, as push-worthy, or
    as a group chat or Jingle call message an extension or ``--push-groupchat`` may
    allow). Never errors, headlines, chat states, receipts or carbon copies alone."""
    if message.carbon:
        return "a carbon copy (XEP-0280)"
    if message.own:
        return "sent by the account itself"
    if message.type == "groupchat":
        return None if message.body is not None or message.encrypted else \
            "a group chat message without a body"
    if message.call is not None and message.call.action in CALL_ACTIONS \
            and message.type != "error":
        return None
    if message.type not in ("chat", "normal"):
        return f"type {message.type}"
    if message.body is None and not message.encrypted:
        return "no body and no encrypted payload"
    return None


def push_worthy(message: PushMessage) -> bool:
    """A chat/normal message from someone else with a body or an encrypted payload;
    never errors, headlines, chat states, receipts or carbon copies alone. Group chat
    and Jingle calls are push-worthy only through their extension (:func:`stopped`)."""
    if message.own or message.carbon:
        return False
    if message.type not in ("chat", "normal"):
        return False
    return message.body is not None or message.encrypted


def plainly_available(session: Session) -> bool:
    """Available with no ``<show/>`` or ``<show>chat</show>`` (push-rules rule 3)."""
    return session.available and session.show in (None, "chat")


NONE = ext.Extensions()


@dataclass(frozen=True)
class Context:
    """What the filters need besides the message: the account, the profile and the
    lookups into other features (asked through interfaces, never their tables)."""

    user: str
    profile: Profile = PROFILES["minixmpp"]
    #: roster subscription of a bare JID ("none", "to", "from", "both"; None: not there)
    subscription: Callable[[str], str | None] = lambda _jid: None
    groupchat: str = "never"  # --push-groupchat
    nick: ext.NickLookup = lambda _user, _room: None


def filtered(registration: PushRegistration, message: PushMessage) -> bool:
    """Does :func:`stopped` have anything to check (else it needs no context)?"""
    return bool(registration.extensions) or message.type == "groupchat" or \
        message.call is not None


def stopped(registration: PushRegistration, message: PushMessage, context: Context
            ) -> tuple[str, str] | None:
    """The filter (rule, detail) that stops this registration's push, None if the
    registration's extensions (and ``--push-groupchat``) let the message push."""
    if not registration.extensions or not context.profile.extensions:
        e = NONE  # the common case: nothing to parse
    else:
        e = ext.Extensions.from_dict(registration.extensions)
    if message.call is not None and message.call.action in CALL_ACTIONS \
            and not push_worthy(message):
        if not e.jingle and context.profile.calls == "jingle":
            return JINGLE, f"a call {message.call.action} and the registration has no " \
                           "tigase:push:jingle:0"
    elif message.type == "groupchat":
        if not ext.groupchat_allowed(e, message, context.user, context.groupchat,
                                     context.nick):
            how = "the registration's groupchat filter" if e.groupchat is not None \
                else f"--push-groupchat {context.groupchat}"
            return GROUPCHAT, f"{how} does not allow this message from " \
                              f"{message.sender_bare}"
    if e.muted and ext.muted(e, message):
        return MUTED, f"{message.sender_bare} is muted"
    if e.ignore_unknown and message.type != "groupchat":
        subscription = context.subscription(message.sender_bare)
        if subscription in (None, "none"):
            return IGNORE_UNKNOWN, f"{message.sender_bare} is " + (
                "not in the roster" if subscription is None else "in the roster with "
                "subscription none")
    return None


def decide(registrations: Iterable[PushRegistration], sessions: list[Session], *,
           offline: bool, hibernated: str | None = None, archived: bool = False,
           again: str | None = None, profile: Profile = PROFILES["minixmpp"],
           sleep: str = HIBERNATED, call: bool = False) -> list[Verdict]:
    """Per registration: push or not, and by which rule (at most once each).

    ``offline``: the message went to offline storage (rule 1); ``hibernated``: the full
    JID of the sleeping stream-management session it was queued for (rule 2);
    ``again``: the sleeping session that already pushed this sleep (so rule 2 does not
    push twice); ``sessions``: the account's sessions, for rule 3. A hibernated session
    keeps its presence, so it still counts as plainly available: while it sleeps, rule
    2 alone decides. ``archived``: the message was archived, which notifies a
    registration whose own session is not live (Prosody and ejabberd do this;
    ``--push-on-archive``). ``sleep``: the rule that pushes for ``hibernated``
    (``ack-delayed`` for a connection still open); ``call``: a call proposal the
    profile pushes to every registration.
    """
    if call:
        return [Verdict(r, True, CALL, "a call proposal (XEP-0353): every registration, "
                                       "live sessions or not") for r in registrations]
    available: Session | None = None
    checked = False
    live: set[str | None] | None = None
    out = []
    for r in registrations:
        if offline and profile.offline:
            out.append(Verdict(r, True, OFFLINE, "no resource took the message: stored "
                                                 "offline"))
            continue
        if hibernated is not None and profile.hibernated:
            out.append(Verdict(r, True, sleep, f"queued for {hibernated}, hibernated"
                               if sleep == HIBERNATED else hibernated))
            continue
        if r.away and profile.away_extension:
            if not checked:
                available = next((s for s in sessions if plainly_available(s)), None)
                checked = True
            if available is None:
                out.append(Verdict(r, True, AWAY, "away='true' and no resource is plainly "
                                                  "available"))
                continue
        if archived:
            if live is None:
                live = {s.resource for s in sessions if not s.hibernated}
            if r.resource not in live:
                out.append(Verdict(r, True, ARCHIVED, f"archived while the registration's "
                                                      f"own session ({r.resource}) is not "
                                                      f"live"))
                continue
        out.append(_not_pushed(r, profile, offline, hibernated, again, available))
    return out


def _not_pushed(r: PushRegistration, profile: Profile, offline: bool,
                hibernated: str | None, again: str | None, available: Session | None
                ) -> Verdict:
    if offline or hibernated is not None:
        case = "offline messages" if offline else "hibernated sessions"
        return Verdict(r, False, PROFILE, f"the {profile.name} profile does not push for "
                                          f"{case}")
    if again is not None:
        return Verdict(r, False, ALREADY_PUSHED, f"{again} already pushed in this "
                                                 "hibernation")
    if r.away and available is not None:
        return Verdict(r, False, PLAINLY_AVAILABLE, f"away='true', but "
                                                    f"{available.jid.full()} is plainly "
                                                    "available")
    if r.away:
        return Verdict(r, False, PROFILE, f"the {profile.name} profile ignores away='true'")
    return Verdict(r, False, ONLINE, "delivered to a live session, and the registration "
                                     "has no away='true'")


def nothing(registrations: Iterable[PushRegistration], rule: str, detail: str
            ) -> list[Verdict]:
    """The same no for every registration."""
    return [Verdict(r, False, rule, detail) for r in registrations]
