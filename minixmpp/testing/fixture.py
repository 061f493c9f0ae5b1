"""An in-process minixmpp server for tests, built by the same ``Server`` as twistd."""

from __future__ import annotations

import itertools
import secrets
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from twisted.internet import defer
from twisted.words.xish import domish

from minixmpp.clock import ManualClock, real_reactor
from minixmpp.config import Settings
from minixmpp.push.appserver import Notification
from minixmpp.push.decisions import Decision, Decisions
from minixmpp.server import Server
from minixmpp.testing.client import TestClient
from minixmpp.traffic import Captured, Traffic, matcher

#: Options every test server starts with (a test's own options win). Every listener is
#: on a port the kernel picks, so parallel tests (pytest-xdist) never clash.
DEFAULTS: dict[str, Any] = {"c2s": "tcp:0:interface=127.0.0.1",
                            "c2s_tls": "tcp:0:interface=127.0.0.1",
                            "components": "tcp:0:interface=127.0.0.1",
                            "http": "tcp:0:interface=127.0.0.1",
                            "user": ("alice:alice", "bob:bob")}


@dataclass(frozen=True)
class Account:
    """An account on the test server."""

    name: str
    password: str
    jid: str


class TestServer:
    """A started :class:`minixmpp.server.Server` plus conveniences for tests.

    ``server`` is the real thing; the rest are shortcuts: connection details, accounts,
    clients, and push assertions on the in-process App Server.
    """

    __test__ = False  # not a pytest test class

    def __init__(self, server: Server) -> None:
        self.server = server
        self._names = itertools.count(1)

    # -- connection details ------------------------------------------------------------------

    host = "127.0.0.1"

    @property
    def port(self) -> int:
        return self.server.port

    @property
    def domain(self) -> str:
        return self.server.settings.domain

    @property
    def tls_certificate(self) -> bytes | None:
        """The server's certificate (PEM), for clients to trust; None with ``no_tls``."""
        return self.server.tls.cert_pem if self.server.tls else None

    @property
    def push_jid(self) -> str | None:
        return self.server.appserver.jid if self.server.appserver else None

    @property
    def components_port(self) -> int | None:
        """The XEP-0114 port (with ``component=[...]``), else None."""
        return self.server.ports().components

    @property
    def http_url(self) -> str | None:
        http = self.server.ports().http
        return f"http://127.0.0.1:{http}" if http is not None else None

    # -- accounts and clients ------------------------------------------------------------------

    def create_account(self, name: str | None = None, password: str | None = None,
                       domain: str | None = None) -> Account:
        """A new account (a fresh name and password unless given) on ``domain`` (the
        first served domain unless given)."""
        name = name or f"user{next(self._names)}"
        password = password or secrets.token_urlsafe(8)
        domain = domain or self.domain
        self.server.host(domain).accounts.create(name, password)
        return Account(name, password, f"{name}@{domain}")

    def account(self, name: str, password: str, domain: str | None = None) -> Account:
        return Account(name, password, f"{name}@{domain or self.domain}")

    def login(self, account: Account | str, resource: str = "test", password: str | None = None,
              tls: bool = True) -> defer.Deferred[TestClient]:
        """A :class:`TestClient` logged in as ``account`` (name or :class:`Account`)."""
        reactor = real_reactor(self.server.reactor)  # a client waits in real time
        if isinstance(account, Account):
            bare, password = account.jid, password or account.password
        else:
            bare, password = f"{account}@{self.domain}", password or account
        cert = self.tls_certificate if tls else None
        return defer.ensureDeferred(TestClient.connect(
            reactor, self.host, self.port, f"{bare}/{resource}", password, cert))

    # -- push assertions ------------------------------------------------------------------------

    @property
    def appserver(self) -> Any:
        if self.server.appserver is None:
            raise RuntimeError("this server runs without the in-process App Server")
        return self.server.appserver

    def notifications(self, account: str | None = None, node: str | None = None,
                      since: int = 0) -> list[Notification]:
        """Notifications the in-process App Server received so far."""
        return self.appserver.find(account, node, since)

    def wait_for_push(self, account: str | None = None, node: str | None = None,
                      since: int = 0, timeout: float = 5) -> defer.Deferred[Notification]:
        """Fires with the first matching notification (``seq`` > ``since``); fails with
        ``twisted.internet.defer.TimeoutError`` after ``timeout`` seconds."""
        return self.appserver.wait_for(real_reactor(self.server.reactor), account, node, since,
                                       timeout)

    async def assert_no_push(self, account: str | None = None, node: str | None = None,
                             within: float = 0.5, since: int | None = None,
                             after: TestClient | None = None) -> None:
        """Fail if a matching notification arrives. With ``after`` (the client that sent
        the message), a ping round trip on its stream proves the message was handled,
        push decision included: no waiting. Without it, wait ``within`` seconds."""
        from twisted.internet import task

        start = self.appserver.notifications.last if since is None else since
        if after is not None:
            await after.barrier()
        else:
            await task.deferLater(real_reactor(self.server.reactor), within, lambda: None)
        found = self.notifications(account, node, start)
        assert not found, f"unexpected push notification(s): {found}"

    def fail_push(self, node: str | None, condition: str | None = "item-not-found",
                  type: str = "cancel", count: int | None = None) -> None:
        """Make the App Server answer ``node`` with an error (``None``: no answer)."""
        self.appserver.fail(node, condition, type, count)

    def recover_push(self, node: str | None) -> None:
        self.appserver.recover(node)

    def remote_disable_push(self, node: str) -> dict[str, Any]:
        """The in-process App Server takes away the publish affiliation of ``node``'s
        account and tells its bare JID (XEP-0357 §8); ``LookupError`` when no account
        registered that node with it."""
        told = self.appserver.remote_disable(node)
        if told is None:
            raise LookupError(f"no account registered node {node!r} with {self.push_jid}")
        return told

    def push_ping(self, account: str, node: str | None = None) -> int:
        """A push for no message to the account's registrations (``node``: that one),
        as Prosody's ``cloud-notify-ping`` sends it; how many were pushed."""
        push = self.server.service("push")
        if push is None:
            raise RuntimeError("push notifications are off")
        return int(push.ping(account, node))

    # -- push decisions (push/decisions.py, docs/push.md "Decisions") ---------------------------

    @property
    def _decisions(self) -> Decisions:
        push = self.server.service("push")
        if push is None:
            raise RuntimeError("push notifications are off")
        return push.decisions

    def push_decisions(self, account: str | None = None, node: str | None = None,
                       since: int = 0) -> list[Decision]:
        """Why each message pushed or not, one :class:`Decision` per registration
        (``pushed``, ``rule``, ``detail``, ``profile``, ``stanza_id``, ``seq``, ...)."""
        return self._decisions.find(account, node, since=since)

    def assert_pushed_because(self, account: str, rule: str, node: str | None = None,
                              since: int | None = None, timeout: float = 5
                              ) -> defer.Deferred[Decision]:
        """Assert that the message decided last for ``account`` (or, with ``since``, the
        first after it; waiting up to ``timeout`` while there is none) pushed by
        ``rule``: ``offline``, ``hibernated``, ``away`` or ``archived``. A Deferred (fails
        with ``AssertionError`` saying what was decided instead)."""
        return defer.ensureDeferred(
            self._assert_decision(account, True, rule, node, since, timeout))

    def assert_not_pushed_because(self, account: str, rule: str, node: str | None = None,
                                  since: int | None = None, timeout: float = 5
                                  ) -> defer.Deferred[Decision]:
        """As :meth:`assert_pushed_because`, for a message that did not push because of
        ``rule`` (``online``, ``plainly-available``, ``muted``, ...)."""
        return defer.ensureDeferred(
            self._assert_decision(account, False, rule, node, since, timeout))

    async def _assert_decision(self, account: str, pushed: bool, rule: str,
                               node: str | None, since: int | None, timeout: float
                               ) -> Decision:
        from minixmpp.push.policy import RULES

        if rule not in RULES:
            raise ValueError(f"{rule!r} is not a push rule ({', '.join(RULES)})")
        decisions = self._decisions
        found = decisions.find(account, node, since=since or 0)
        if found and since is None:
            decision = found[-1]
        elif found:
            decision = found[0]
        else:
            try:
                decision = await decisions.ring.wait_for(
                    real_reactor(self.server.reactor), lambda d: d.matches(account, node),
                    since or 0, timeout)
            except defer.TimeoutError:
                raise AssertionError(f"no push decision for {account} within {timeout:g} s "
                                     "(a message to it, with push registrations)") from None
        if decision.pushed != pushed or decision.rule != rule:
            want = f"{'pushed' if pushed else 'not pushed'} because {rule}"
            got = f"{'pushed' if decision.pushed else 'not pushed'} because {decision.rule}"
            raise AssertionError(f"push decision for {account} (node {decision.node}): "
                                 f"expected {want}, was {got}: {decision.detail}")
        return decision

    def generate_pushes(self, account: str, count: int, rate: float
                        ) -> defer.Deferred[dict[str, Any]]:
        """``count`` synthetic messages at ``rate`` per second, each published to every
        push registration of ``account`` as a real message would be (App Server load
        tests); fires with the report: sent, answered, errors, latencies."""
        push = self.server.service("push")
        if push is None:
            raise RuntimeError("push notifications are off")
        return push.generator.run(account, count, rate)

    # -- network faults (c2s/faults.py) ----------------------------------------------------------

    def _live(self, jid: str) -> list[Any]:
        from minixmpp import addressing

        target = addressing.parse(jid)
        host = self.server.host(target.host)
        sessions = host.admin.live(target)
        if not sessions:
            raise LookupError(f"no live session {jid!r}")
        return [(host.admin, s) for s in sessions]

    def drop(self, jid: str) -> None:
        """Cut the connection of a session (a full JID) or of every session of an account
        (a bare JID) without a stream close, as a phone losing its network: a resumable
        session hibernates (XEP-0198) and push for hibernated sessions applies."""
        for admin, session in self._live(jid):
            admin.drop(session)

    def stall(self, jid: str, seconds: float) -> None:
        """For ``seconds`` (of the server's clock), neither read from nor write to the
        connection: stanzas queue, acks do not come, as on a dead radio link."""
        for admin, session in self._live(jid):
            admin.stall(session, seconds)

    def delay(self, jid: str, ms: float) -> None:
        """Every stanza to the session(s) leaves ``ms`` milliseconds late (0: on time)."""
        for admin, session in self._live(jid):
            admin.delay(session, ms / 1000)

    def pause_accepting(self, refuse: bool = False) -> defer.Deferred[None]:
        """New client connections wait (``refuse``: are refused), as during a restart;
        fires once the ports are closed."""
        return self.server.pause_accepting(refuse)

    def resume_accepting(self) -> defer.Deferred[None]:
        """Accept again; fires once listening."""
        return self.server.resume_accepting()

    def restart(self) -> defer.Deferred[None]:
        """Stop and start on the same ports, keeping the stored data."""
        return self.server.restart()

    # -- the clock (``clock="manual"``) --------------------------------------------------------

    def now(self) -> float:
        """The server's time (seconds since the epoch)."""
        return float(self.server.reactor.seconds())

    def advance(self, seconds: float) -> float:
        """Move a manual clock ``seconds`` forward: every server timer that comes due runs,
        in order (resumption, push timeouts, token expiry, BOSH inactivity, ...); returns
        the new time. Needs ``clock="manual"``."""
        reactor = self.server.reactor
        if not isinstance(reactor, ManualClock):
            raise RuntimeError('advance() needs a manual clock: clock="manual"')
        return reactor.advance(seconds)


    # -- traffic capture (minixmpp/traffic.py) -----------------------------------------------

    @property
    def _traffic(self) -> Traffic:
        if not self.server.traffic.on:
            raise RuntimeError("traffic capture is off (traffic=0)")
        return self.server.traffic

    def mark(self) -> int:
        """The sequence number of the newest captured element: pass it as ``since`` to
        see only what comes after."""
        return self._traffic.last

    def traffic(self, jid: str | None = None, since: int = 0,
                direction: str | None = None) -> list[Captured]:
        """Every element captured after ``since`` on the streams of ``jid`` (a full JID,
        or every resource of a bare one; None: all streams), ``direction`` ``"in"`` (from
        the client) or ``"out"`` (to it). Each has ``seq``, ``time``, ``direction``,
        ``stream``, ``jid``, ``xml`` and ``element`` (parsed)."""
        return [e for e in self._traffic.find(jid, since)
                if direction is None or e.direction == direction]

    def expect(self, jid: str | None, test: str | Callable[[domish.Element], bool],
               timeout: float = 5, since: int = 0, direction: str | None = "out"
               ) -> defer.Deferred[Captured]:
        """Fires with the first element after ``since`` on ``jid``'s streams that matches
        ``test``, an XPath (``"/message/received[@xmlns='urn:xmpp:carbons:2']"``) or a
        predicate on the parsed element; by default what the server sent (``"out"``).
        Fails with ``twisted.internet.defer.TimeoutError`` after ``timeout`` seconds."""
        match = matcher(test)
        return self._traffic.wait_for(
            real_reactor(self.server.reactor),
            lambda e: e.concerns(jid) and (direction is None or e.direction == direction)
            and match(e), since, timeout)


def start(reactor: Any, **options: Any) -> TestServer:
    """Build and start a server on a free loopback port (listening when it returns)."""
    cli = dict(DEFAULTS)
    cli.update(options)
    server = Server(Settings.build(cli), reactor)
    failures: list[Any] = []
    server.launch().addErrback(failures.append)
    if failures:
        failures[0].raiseException()
    return TestServer(server)


@contextmanager
def running_server(**options: Any) -> Iterator[TestServer]:
    """A started server, stopped at the end (for use outside pytest fixtures)."""
    from twisted.internet import reactor

    test_server = start(reactor, **options)
    try:
        yield test_server
    finally:
        test_server.server.stopService()
