"""The composition root: one :class:`Server` for twistd and for the test fixture alike."""

from __future__ import annotations

import sys
from typing import Any

from twisted.application import service
from twisted.internet import defer, endpoints
from twisted.internet import error as ierror
from twisted.logger import Logger
from twisted.words.protocols.jabber import error as jerror
from wokkel import disco

from minixmpp import __version__
from minixmpp.c2s import tls
from minixmpp.c2s.stream import C2SFactory
from minixmpp.config import ConfigError, Settings
from minixmpp.im.disco import ServerIdentity
from minixmpp.im.message import MessageDelivery
from minixmpp.im.ping import PingHandler
from minixmpp.im.presence import PresenceHandler
from minixmpp.im.roster import RosterHandler
from minixmpp.im.version import VersionHandler
from minixmpp.router import LocalDomain, Router
from minixmpp.sessions import SessionManager
from minixmpp.storage.memory import MemoryAccountStore, MemoryRosterStore


class Server(service.MultiService):
    """A whole XMPP server: router, local domain, handlers, storage, listeners.

    ``Server(settings, reactor)`` builds everything; :meth:`start` listens and returns
    a Deferred that fires once clients can connect (``c2s_port`` is then known).
    """

    log = Logger()

    def __init__(self, settings: Settings, reactor: Any) -> None:
        super().__init__()
        self.settings = settings
        self.reactor = reactor
        self.started_listening: defer.Deferred[None] | None = None
        self.tls = None if settings.no_tls else tls.load(
            settings.domain, settings.tls_cert, settings.tls_key)

        self.accounts = MemoryAccountStore()
        self.rosters = MemoryRosterStore()
        for user, password in settings.accounts.items():
            self.accounts.create(user, password)

        self.sessions = SessionManager()
        self.router = Router()
        self.local = LocalDomain(self.router, settings.domain, self.sessions, self.accounts)
        self.local.setServiceParent(self)

        self.roster = RosterHandler(self.rosters, self.sessions)
        self.presence = PresenceHandler(settings.domain, self.sessions, self.accounts,
                                        self.rosters, self.roster, self.local.route)
        self.messages = MessageDelivery(self.sessions, self.accounts, self.local.route)
        self.local.presence = self.presence
        self.local.messages = self.messages
        for handler in (self.roster, disco.DiscoHandler(), ServerIdentity(settings.domain),
                        PingHandler(), VersionHandler()):
            handler.setHandlerParent(self.local)

        self.c2s_factory = C2SFactory(self)
        self.c2s_port: Any = None
        self.auth_failures: list[tuple[str, str]] = []

    # -- lifecycle ---------------------------------------------------------------------------

    def start(self) -> defer.Deferred[None]:
        """Listen for clients; fires when ready, fails with :class:`ConfigError`."""
        try:
            endpoint = endpoints.serverFromString(self.reactor, self.settings.c2s)
        except (ValueError, TypeError, KeyError) as e:
            return defer.fail(ConfigError(f"--c2s {self.settings.c2s!r}: {e}"))
        d = endpoint.listen(self.c2s_factory)

        def listening(port: Any) -> None:
            self.c2s_port = port
            self._announce()

        def failed(f: Any) -> None:
            if f.check(ierror.CannotListenError):
                raise ConfigError(f"--c2s {self.settings.c2s}: cannot listen "
                                  f"({f.value.socketError})")
            return f

        return d.addCallbacks(listening, failed)

    def startService(self) -> None:
        """twistd start: a configuration error ends the process with one clear line."""
        super().startService()
        failures: list[Any] = []
        self.start().addErrback(failures.append)
        if failures:
            problem = failures[0].value
            text = str(problem) if isinstance(problem, ConfigError) else repr(problem)
            # twistd redirects sys.stderr into its log: write to the real one.
            (sys.__stderr__ or sys.stderr).write(f"minixmpp: error: {text}\n")
            raise SystemExit(1)

    def stopService(self) -> defer.Deferred[Any] | None:
        super().stopService()
        for session in list(self.sessions):
            session.stream.sendStreamError(jerror.StreamError("system-shutdown"))
        if self.c2s_port is not None:
            port, self.c2s_port = self.c2s_port, None
            return defer.maybeDeferred(port.stopListening)
        return None

    @property
    def port(self) -> int:
        """The c2s port actually listened on (useful with ``tcp:0``)."""
        return self.c2s_port.getHost().port

    def _announce(self) -> None:
        host = self.c2s_port.getHost()
        s = self.settings
        if self.tls is None:
            tls_line = "STARTTLS off (--no-tls)"
        else:
            kind = "self-signed" if self.tls.self_signed else "from --tls-cert"
            tls_line = (f"STARTTLS {'required' if s.require_tls else 'offered'}, "
                        f"{kind} certificate SHA-256 {self.tls.fingerprint}")
        self.log.info("minixmpp {version} serving {domain} on {host}:{port} ({tls})",
                      version=__version__, domain=s.domain, host=host.host, port=host.port,
                      tls=tls_line)
        if s.demo_accounts:
            accounts = ", ".join(f"{u}@{s.domain} (password {p!r})" for u, p in s.accounts.items())
            self.log.info("demo accounts: {accounts}; add your own with --user NAME:PASSWORD",
                          accounts=accounts)
        else:
            self.log.info("accounts: {accounts}",
                          accounts=", ".join(f"{u}@{s.domain}" for u in s.accounts))
        self.log.info("connect a client to {host}:{port} as e.g. {user}@{domain}",
                      host=host.host, port=host.port, user=next(iter(s.accounts)),
                      domain=s.domain)

    def auth_failed(self, peer: str, condition: str) -> None:
        """Record a failed authentication (shown in logs; inspection uses it later)."""
        self.auth_failures.append((peer, condition))
        del self.auth_failures[:-100]
        self.log.info("authentication failed from {peer}: {condition}", peer=peer,
                      condition=condition)

