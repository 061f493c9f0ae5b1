"""Commands every local account may run, as Prosody offers them: ``uptime``
(mod_uptime) and ``ping`` (mod_ping; aioxmpp's end-to-end tests look for it)."""

from __future__ import annotations

from collections.abc import Callable

from twisted.words.protocols.jabber.jid import JID

from minixmpp.adhoc.command import Command, Done, Note, Values
from minixmpp.timestamps import utc_stamp


def _plural(n: int, word: str) -> str:
    return f"{n} {word}{'' if n == 1 else 's'}"


def uptime_text(started: float, now: float) -> str:
    """How long the server has run, in days, hours and minutes."""
    minutes = int(now - started) // 60
    days, minutes = divmod(minutes, 24 * 60)
    hours, minutes = divmod(minutes, 60)
    return (f"This server has been running for {_plural(days, 'day')}, "
            f"{_plural(hours, 'hour')} and {_plural(minutes, 'minute')} "
            f"(since {utc_stamp(started)})")


def commands(clock: Callable[[], float]) -> tuple[Command, ...]:
    started = clock()

    def ping(requester: JID, values: Values) -> Done:
        return Done((Note("info", f"Pong\n{utc_stamp(clock())}"),))

    def uptime(requester: JID, values: Values) -> Done:
        return Done((Note("info", uptime_text(started, clock())),))

    return (Command("ping", "Ping", ping), Command("uptime", "Get uptime", uptime))
