"""Stream management (XEP-0198) events, for push; every timer on the server's clock.

- **ack delayed** (``Profile.ack_delayed``): the server asked for an ack and no ``<a/>``
  came for ``--push-ack-delay`` seconds while the connection is still open (a half-dead
  mobile link): one push per such episode, until the next ``<a/>``. Prosody's mod_smacks
  starts this ``delayed_ack_timer`` with each ``<r/>`` and stops it on ``<a/>``
  (``smacks_max_ack_delay``, 30 s); mod_cloud_notify pushes on its event.
- **a hibernation's queue** (``push/sleep.py``): what was unacknowledged when the
  connection was lost, and what is queued after, as the profile pushes it.
- **resumption with push** (``Profile.resume``, ejabberd's mod_push_keepalive and
  Prosody's push_max_hibernation_timeout): a session that enabled push stays resumable
  for ``--resume-timeout-push`` until the first push for a message, and from then on
  for ``--resume-timeout``;
- **wake on timeout** (``Profile.wake_before``, ejabberd's wake_on_timeout): a push that
  many seconds before such a session would expire, so that the client resumes;
- **wake on start** (``--push-wake-on-start``, ejabberd's wake_on_start): a push to every
  registration when the server starts (errors ignored, as ejabberd ignores them).
"""

from __future__ import annotations

import weakref
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from twisted.logger import Logger
from twisted.words.xish import domish

from minixmpp.push import policy
from minixmpp.push.queue import important
from minixmpp.sessions import Session

if TYPE_CHECKING:
    from minixmpp.push.notifier import PushNotifier


@dataclass
class Timers:
    """One session's push timers."""

    ack: Any = None  # the ack-delay timer
    episode: bool = False  # an ack-delayed episode is on: no new timer until <a/>
    wake: Any = None  # the wake-on-timeout timer
    extended: bool = False  # its resume timeout is the push one, until a push


def _cancel(call: Any) -> None:
    if call is not None and call.active():
        call.cancel()


class Keepalive:
    """The push feature's stream management watcher (``Feature.sleep``)."""

    log = Logger()

    def __init__(self, notifier: PushNotifier, *, ack_delay: float, resume_timeout: float,
                 push_timeout: float, wake_on_start: bool = False) -> None:
        self.notifier = notifier
        self.sleep = notifier.sleep
        self.profile = profile = notifier.profile
        self.reactor = notifier.reactor
        self.ack_delay = ack_delay if profile.ack_delayed and profile.hibernated else 0
        self.resume_timeout = resume_timeout
        self.push_timeout = push_timeout
        self.wake_on_start = wake_on_start
        self.timers: weakref.WeakKeyDictionary[Session, Timers] = weakref.WeakKeyDictionary()

    def _own(self, session: Session) -> bool:
        return any(r.resource == session.resource
                   for r in self.notifier.store.registrations(session.user))

    # -- acks (XEP-0198 §4) --------------------------------------------------------------

    def ack_requested(self, session: Session) -> None:
        """The server sent ``<r/>`` to an open connection."""
        if not self.ack_delay:
            return
        timers = self.timers.get(session)
        if timers is not None and (timers.episode or (timers.ack is not None
                                                      and timers.ack.active())):
            return
        if not self.notifier.store.registrations(session.user):
            return
        if timers is None:
            self.timers[session] = timers = Timers()
        timers.ack = self.reactor.callLater(self.ack_delay, self._ack_delayed, session)

    def acked(self, session: Session) -> None:
        """An ``<a/>`` came."""
        timers = self.timers.get(session)
        if timers is not None:
            _cancel(timers.ack)
            timers.ack, timers.episode = None, False
            self.sleep.acked(session)

    def _ack_delayed(self, session: Session) -> None:
        timers = self.timers.get(session)
        if timers is None or session.hibernated or session.stream is None \
                or not session.stream.open():
            return
        timers.ack, timers.episode = None, True
        self.log.info("{jid} left stanzas unacknowledged for {s} s (connection still "
                      "open)", jid=session.jid.full(), s=self.ack_delay)
        self.sleep.ack_delayed(session)

    # -- hibernation (XEP-0198 §5) -------------------------------------------------------------

    def hibernated(self, session: Session) -> None:
        timers = self.timers.get(session)
        if timers is not None:
            _cancel(timers.ack)
            timers.ack, timers.episode = None, False
        self.sleep.hibernated(session)
        if self.profile.resume != "until-push" or session.sm is None:
            return
        if not self._own(session) or any(important(s) for s in session.sm.queue):
            # no push session, or a push went out for a message already
            self._expire_in(session, self.resume_timeout)
            return
        if timers is None:
            self.timers[session] = timers = Timers()
        timers.extended = True
        self._expire_in(session, self.push_timeout)
        before = self.profile.wake_before
        if before and self.push_timeout > before:
            timers.wake = self.reactor.callLater(self.push_timeout - before, self._wake,
                                                 session)

    def queued(self, session: Session, stanza: domish.Element) -> None:
        """A stanza was queued for a hibernated session."""
        self.sleep.queued(session, stanza)
        timers = self.timers.get(session)
        if timers is not None and timers.extended and important(stanza):
            # ejabberd's maybe_restore_resume_timeout, Prosody's first_hibernated_push
            timers.extended = False
            _cancel(timers.wake)
            self._expire_in(session, self.resume_timeout)

    def resumed(self, session: Session) -> None:
        self.ended(session)
        self.sleep.resumed(session)

    def ended(self, session: Session) -> None:
        timers = self.timers.pop(session, None)
        if timers is not None:
            _cancel(timers.ack)
            _cancel(timers.wake)

    def _expire_in(self, session: Session, seconds: float) -> None:
        timer = session.sm.timer if session.sm is not None else None
        if timer is not None and timer.active():
            timer.reset(seconds)
            self.log.info("{jid}: resumable for {s} s from now", jid=session.jid.full(),
                          s=seconds)

    def _wake(self, session: Session) -> None:
        """ejabberd's push_keepalive timeout: a push for no message."""
        timers = self.timers.get(session)
        if timers is not None:
            timers.wake = None
        if not session.hibernated or self.notifier.sessions.get(session.jid) is not session:
            return
        registrations = [r for r in self.notifier.store.registrations(session.user)
                         if r.resource == session.resource]
        if registrations:
            self.notifier.notify(session.user, registrations, policy.WAKE,
                                 f"{session.jid.full()} hibernated; resumable for "
                                 f"{self.profile.wake_before:g} s more")

    # -- the server's start ----------------------------------------------------------------

    def started(self) -> None:
        """ejabberd's wake_all: every registration of every account, answers ignored."""
        if not self.wake_on_start:
            return
        store = self.notifier.store
        for user in store.users():
            registrations = store.registrations(user)
            if registrations:
                self.notifier.notify(user, registrations, policy.START,
                                     "the server started (--push-wake-on-start)",
                                     track=False)
