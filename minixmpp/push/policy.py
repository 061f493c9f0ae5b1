"""When to push (``shared/specs/push-rules.md``, "When to push"; the filters of
``tigase-push-extensions.md``).

Plain functions over plain values: a :class:`~minixmpp.push.message.PushMessage`, the
account's sessions, its registrations and the :class:`~minixmpp.push.profiles.Profile`.
No XML here.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass

from minixmpp.push import extensions as ext
from minixmpp.push.message import PushMessage
from minixmpp.push.profiles import PROFILES, Profile
from minixmpp.sessions import Session
from minixmpp.storage.interfaces import PushRegistration

__all__ = ["Context", "plainly_available", "push_worthy", "reasons"]

#: Jingle Message Initiation actions that push with tigase:push:jingle:0: a call
#: (high priority) and its retraction, so that the phone stops ringing (low).
CALL_ACTIONS = ("propose", "retract")

#: Why a registration is notified.
OFFLINE = "offline"
HIBERNATED = "hibernated"
AWAY = "away"
ARCHIVED = "archived"


def push_worthy(message: PushMessage) -> bool:
    """A chat/normal message from someone else with a body or an encrypted payload;
    never errors, headlines, chat states, receipts or carbon copies alone. Group chat
    and Jingle calls are push-worthy only through their extension (:func:`triggers`)."""
    if message.own or message.carbon:
        return False
    if message.type not in ("chat", "normal"):
        return False
    return message.body is not None or message.encrypted


def candidate(message: PushMessage) -> bool:
    """Could this message push for some registration (push-worthy, or a group chat
    or Jingle call message that an extension or ``--push-groupchat`` may allow)?"""
    if message.own or message.carbon:
        return False
    if message.type == "groupchat":
        return message.body is not None or message.encrypted
    if message.call is not None and message.call.action in CALL_ACTIONS \
            and message.type != "error":
        return True
    return push_worthy(message)


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


def wanted(registration: PushRegistration, message: PushMessage, context: Context
           ) -> bool:
    """The registration's extensions (and ``--push-groupchat``) let this message push."""
    if not registration.extensions or not context.profile.extensions:
        e = NONE  # the common case: nothing to parse
    else:
        e = ext.Extensions.from_dict(registration.extensions)
    if message.call is not None and message.call.action in CALL_ACTIONS \
            and not push_worthy(message):
        if not e.jingle:
            return False
    elif message.type == "groupchat":
        if not ext.groupchat_allowed(e, message, context.user, context.groupchat,
                                     context.nick):
            return False
    if e.muted and ext.muted(e, message):
        return False
    if e.ignore_unknown and message.type != "groupchat" \
            and context.subscription(message.sender_bare) in (None, "none"):
        return False
    return True


def reasons(registrations: Iterable[PushRegistration], sessions: list[Session], *,
            offline: bool, hibernated: bool = False, archived: bool = False,
            profile: Profile = PROFILES["minixmpp"]) -> list[tuple[PushRegistration, str]]:
    """Which registrations to notify, at most once each, and why.

    ``offline``: the message went to offline storage (rule 1); ``hibernated``: it was
    queued for a hibernated stream-management session (rule 2); ``sessions``: the
    account's sessions, for rule 3. A hibernated session keeps its presence, so it
    still counts as plainly available: while it sleeps, rule 2 alone decides.
    ``archived``: the message was archived, which notifies a registration whose own
    session is not live (Prosody and ejabberd do this; ``--push-on-archive``).
    """
    nobody_plainly_available = not any(plainly_available(s) for s in sessions)
    live = {s.resource for s in sessions if not s.hibernated}
    out = []
    for registration in registrations:
        if offline and profile.offline:
            out.append((registration, OFFLINE))
        elif hibernated and profile.hibernated:
            out.append((registration, HIBERNATED))
        elif profile.away_extension and registration.away and nobody_plainly_available:
            out.append((registration, AWAY))
        elif archived and registration.resource not in live:
            out.append((registration, ARCHIVED))
    return out
