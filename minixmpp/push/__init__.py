"""Push notifications (XEP-0357) with the Tigase AWAY/XA extension (tigase:push:away:0).

:func:`build` assembles the ``push`` feature: the enable/disable IQs, the notifier (a
delivery listener, an available-presence listener, the App Servers' replies), the
keepalive (stream management events: ``push/keepalive.py``), remote disabling
(XEP-0357 §8, ``push/remote.py``) and the timeline of registration events. The
in-process App Server is a feature of its own (``push/appserver.py``), so an external
one can take its JID.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from minixmpp.feature import Context, Feature
    from minixmpp.push.decisions import Decisions
    from minixmpp.push.enable import PushEnableHandler
    from minixmpp.push.generate import Generator
    from minixmpp.push.keepalive import Keepalive
    from minixmpp.push.notifier import PushNotifier
    from minixmpp.storage.interfaces import IPushStore, PushRegistration


@dataclass
class Push:
    """The push feature's parts, for the control API and tests."""

    store: IPushStore
    enable: PushEnableHandler
    notifier: PushNotifier
    #: why each message pushed or not, per registration (``push/decisions.py``)
    decisions: Decisions
    #: synthetic pushes for App Server load tests (``push/generate.py``)
    generator: Generator
    #: stream management events for push (``push/keepalive.py``)
    keepalive: Keepalive
    #: why registrations came and went, newest last (the status page's "push events")
    events: deque[dict[str, Any]] = field(default_factory=lambda: deque(maxlen=200))

    def registrations(self, user: str | None = None) -> list[tuple[str, PushRegistration]]:
        users = [user] if user is not None else self.store.users()
        return [(u, r) for u in users for r in self.store.registrations(u)]

    def ping(self, user: str, node: str | None = None, *, any_node: bool = True) -> int:
        """A push for no message to the account's registrations (``node``: that one;
        ``any_node=False`` with ``node`` None: the one enabled without a node), as
        Prosody's ``cloud-notify-ping`` event sends it; how many were pushed."""
        from minixmpp.push.policy import PING

        registrations = [r for r in self.store.registrations(user)
                         if (node is None and any_node) or r.node == node]
        if registrations:
            self.notifier.notify(user, registrations, PING, "asked for: a push for no "
                                 "message (cloud-notify-ping)")
        return len(registrations)


def build(ctx: Context) -> Feature:
    """The ``push`` feature (``--push-*`` options, ``--push-profile``)."""
    from minixmpp.clock import real_reactor
    from minixmpp.feature import Feature
    from minixmpp.push.decisions import Decisions
    from minixmpp.push.enable import PushEnableHandler
    from minixmpp.push.generate import Generator
    from minixmpp.push.keepalive import Keepalive
    from minixmpp.push.notifier import PushNotifier
    from minixmpp.push.policy import ACCOUNT_REMOVED
    from minixmpp.push.preauth import before_auth_stage
    from minixmpp.push.profiles import profile
    from minixmpp.push.remote import RemoteDisable
    from minixmpp.push.views import registration
    from minixmpp.timestamps import iso

    s, store = ctx.settings, ctx.storage.push
    chosen = profile(s.push_profile)
    events: deque[dict[str, Any]] = deque(maxlen=200)
    decisions = Decisions(s.push_history, ctx.reactor.seconds, chosen.name)

    def event(kind: str, user: str, r: PushRegistration, detail: str) -> None:
        events.append({"time": iso(ctx.reactor.seconds()), "event": kind, "account": user,
                       "jid": r.jid, "node": r.node, "detail": detail})

    def nick(user: str, room: str) -> str | None:
        lookup = ctx.provided("nick")  # group chat, when it is on
        return lookup(user, room) if lookup is not None else None

    enable = PushEnableHandler(store, strict=s.push_strict, limit=s.push_max_registrations,
                               clock=ctx.reactor.seconds, profile=chosen, on_event=event)
    notifier = PushNotifier(
        ctx.domain, store, ctx.storage.rosters, ctx.sessions, ctx.reactor,
        privacy=s.push_privacy, max_errors=s.push_max_errors, timeout=s.push_timeout,
        csi_inactive=s.push_csi_inactive,
        on_archive=s.push_on_archive or (chosen.on_archive and "mam" not in s.disabled),
        profile=chosen, groupchat=s.push_groupchat, nick=nick,
        log_publishes=not s.push_quiet, on_event=event, decisions=decisions,
        ack_delay=s.push_ack_delay, count_reset=s.push_count_reset)
    if chosen.remote_disable:
        notifier.remote = RemoteDisable(store, ctx.domain, event)
    if s.push_virtual_pubsub:  # the in-process App Server's hook, looked up when used
        assert s.push_jid is not None
        notifier.virtual = (s.push_jid,
                            lambda user, r, fields: ctx.provided("push-hook")(user, r, fields))
    keepalive = Keepalive(notifier, ack_delay=s.push_ack_delay,
                          resume_timeout=s.resume_timeout,
                          push_timeout=s.resume_timeout_push,
                          wake_on_start=s.push_wake_on_start)
    generator = Generator(notifier, ctx.domain, real_reactor(ctx.reactor),
                          s.push_generate_max, s.push_generate_rate)
    push = Push(store, enable, notifier, decisions, generator, keepalive, events)
    stage = before_auth_stage(chosen)

    def forget(user: str) -> None:
        registrations = store.registrations(user)
        if registrations and s.push_account_removed:  # Tigase's onUserRemoved
            notifier.notify(user, registrations, ACCOUNT_REMOVED, "the account was deleted",
                            count=0, extra=removed_event())
        for r in registrations:
            store.remove(user, r.jid, r.node)
        notifier.forget(user)
        decisions.forget(user)

    def clear() -> None:
        events.clear()
        decisions.ring.clear()

    def stop() -> None:
        generator.stop()
        notifier.cancel_all()
        decisions.ring.cancel_waiters()

    return Feature(
        "push", service=push, handlers=(enable, notifier), listeners=(notifier,),
        available=(notifier,), replies=(notifier.reply,), sleep=(keepalive,),
        started=keepalive.started,
        c2s_stages=(stage,) if stage is not None else (),
        provides={"push-registered": lambda user: bool(store.registrations(user))},
        forget=forget, clear=clear, stop=stop,
        describe=lambda: {"registrations": [registration(u, r)
                                            for u, r in push.registrations()],
                          "push_events": list(reversed(events)),
                          "push_decisions": [d.as_dict() for d in decisions.ring.newest(100)]})


def removed_event() -> Any:
    """Tigase's account-removal notice in a notification:
    ``<event xmlns='http://tigase.org/protocol/account#event' name='account-removed'/>``."""
    from twisted.words.xish import domish

    from minixmpp import ns

    e = domish.Element((ns.PUSH_ACCOUNT_EVENT, "event"))
    e["name"] = "account-removed"
    return e
