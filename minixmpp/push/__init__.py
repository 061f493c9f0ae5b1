"""Push notifications (XEP-0357) with the Tigase AWAY/XA extension (tigase:push:away:0).

:func:`build` assembles the ``push`` feature: the enable/disable IQs, the notifier (a
delivery listener, an available-presence listener, the App Servers' replies) and the
timeline of registration events. The in-process App Server is a feature of its own
(``push/appserver.py``), so an external one can take its JID.
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
    #: why registrations came and went, newest last (the status page's "push events")
    events: deque[dict[str, Any]] = field(default_factory=lambda: deque(maxlen=200))

    def registrations(self, user: str | None = None) -> list[tuple[str, PushRegistration]]:
        users = [user] if user is not None else self.store.users()
        return [(u, r) for u in users for r in self.store.registrations(u)]


def build(ctx: Context) -> Feature:
    """The ``push`` feature (``--push-*`` options, ``--push-profile``)."""
    from minixmpp.clock import real_reactor
    from minixmpp.feature import Feature
    from minixmpp.push.decisions import Decisions
    from minixmpp.push.enable import PushEnableHandler
    from minixmpp.push.generate import Generator
    from minixmpp.push.notifier import PushNotifier
    from minixmpp.push.preauth import before_auth_stage
    from minixmpp.push.profiles import profile
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
        log_publishes=not s.push_quiet, on_event=event, decisions=decisions)
    generator = Generator(notifier, ctx.domain, real_reactor(ctx.reactor),
                          s.push_generate_max, s.push_generate_rate)
    push = Push(store, enable, notifier, decisions, generator, events)
    stage = before_auth_stage(chosen)

    def forget(user: str) -> None:
        for r in store.registrations(user):
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
        available=(notifier,), replies=(notifier.reply,),
        c2s_stages=(stage,) if stage is not None else (),
        provides={"push-registered": lambda user: bool(store.registrations(user))},
        forget=forget, clear=clear, stop=stop,
        describe=lambda: {"registrations": [registration(u, r)
                                            for u, r in push.registrations()],
                          "push_events": list(reversed(events)),
                          "push_decisions": [d.as_dict() for d in decisions.ring.newest(100)]})
