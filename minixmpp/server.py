"""The composition root: one :class:`Server` for twistd and for the test fixture alike.

It builds the core (storage, sessions, the router, the local domain with its delivery and
presence pipelines), then every feature of ``features.FEATURES`` with one
:class:`~minixmpp.feature.Context`, and assembles what they declared, in order. It knows
no feature by name: ``forget_account``, ``reset``, disco items, the HTTP mounts and the
state view are loops over the features.
"""

from __future__ import annotations

import sys
from typing import Any

from twisted.application import service
from twisted.internet import defer, endpoints
from twisted.internet import error as ierror
from twisted.logger import Logger
from twisted.words.protocols.jabber import error as jerror
from wokkel import disco

from minixmpp import __version__, ready
from minixmpp import features as registry
from minixmpp.admin import Admin
from minixmpp.c2s import tls
from minixmpp.c2s.framed import framed_factory
from minixmpp.c2s.limits import AuthLimiter
from minixmpp.c2s.sm import Resumption
from minixmpp.c2s.stage import C2SContext
from minixmpp.c2s.stream import C2SFactory, stages
from minixmpp.components import ComponentFactory
from minixmpp.config import ConfigError, Settings
from minixmpp.feature import Context, Feature
from minixmpp.im.disco import AccountIdentity, ServerIdentity
from minixmpp.im.message import MessageDelivery
from minixmpp.im.presence import PresenceHandler
from minixmpp.router import LocalDomain, Router
from minixmpp.sessions import SessionManager
from minixmpp.storage import open_storage
from minixmpp.storage.interfaces import StorageError
from minixmpp.view import Ports, ServerView

__all__ = ["Server"]


class Server(service.MultiService):
    """A whole XMPP server: router, local domain, features, storage, listeners.

    ``Server(settings, reactor)`` builds everything; :meth:`launch` starts the services
    and listens, returning a Deferred that fires once clients can connect.
    """

    log = Logger()

    def __init__(self, settings: Settings, reactor: Any) -> None:
        super().__init__()
        self.settings = settings
        self.reactor = reactor
        no_tls = settings.no_tls or {"starttls", "direct-tls"} <= settings.disabled
        self.tls = None if no_tls else tls.load(
            settings.domain, settings.tls_cert, settings.tls_key, settings.data_dir)
        try:
            self.storage = open_storage(settings.data_dir)
        except StorageError as e:
            raise ConfigError(f"--data-dir {settings.data_dir}: {e}") from None
        self.accounts = self.storage.accounts
        self._create_accounts()

        # The core: sessions, the router, the served domain and its two pipelines.
        self.sessions = SessionManager()
        self.router = Router()
        route = self.router.route
        messages = MessageDelivery(self.sessions, self.accounts, route)
        presence = PresenceHandler(settings.domain, self.sessions, self.accounts,
                                   self.storage.rosters, route)
        self.local = LocalDomain(self.router, settings.domain, self.sessions, self.accounts,
                                 presence=presence, messages=messages)
        self.local.setServiceParent(self)

        # Every feature, built with the same context, in the order it runs.
        context = Context(settings, reactor, self.router, settings.domain, self.storage,
                          self.sessions, self.local, messages, presence,
                          self.http_base_url, self.provided)
        self.features: dict[str, Feature] = {}
        for name, module in registry.FEATURES:
            if name in settings.disabled:
                continue  # off: not built, so not there at all
            feature = registry.builder(module)(context)
            if feature is not None:
                self.features[feature.name] = feature
        self._assemble(messages, presence)

    def _declared(self, slot: str) -> list[Any]:
        """Everything the features declared for one slot, in feature order."""
        return [item for f in self.features.values() for item in getattr(f, slot)]

    def _first(self, slot: str) -> Any:
        return next((getattr(f, slot) for f in self.features.values()
                     if getattr(f, slot) is not None), None)

    def _assemble(self, messages: MessageDelivery, presence: PresenceHandler) -> None:
        """Plug every declaration in where it belongs, once."""
        settings, reactor = self.settings, self.reactor
        offline = self._first("offline")
        # A message for a local account: stages -> routing (sessions / hibernated queues /
        # offline / bounce) -> listeners, each given an Outcome (docs/architecture.md).
        messages.install(stages=self._declared("stages"), offline=offline,
                         listeners=self._declared("listeners"))
        presence.install(offline=offline, listeners=self._declared("available"),
                         observers=self._declared("observers"),
                         unavailable=self._declared("unavailable"),
                         filters=self._declared("presence_filters"))
        self.local.install(sent=self._declared("sent"), guards=self._declared("guards"),
                           replies=self._declared("replies"))
        has_push = self.provided("push-registered") or (lambda _user: False)
        self.resumption = Resumption(
            self.sessions, reactor, settings.resume_timeout, settings.resume_timeout_push,
            has_push=has_push, unacked=messages.redeliver, queue_limit=settings.max_offline)
        # A session ends: unavailable presence, then its stream id is forgotten; a new
        # login with the full JID of a hibernated session ends that session.
        self.sessions.install(unbound=(presence.disconnected, self.resumption.forget,
                                       *self._declared("unbound")),
                              replaced=self.resumption.end)
        self.auth_limiter = AuthLimiter(reactor, settings.auth_fail_limit,
                                        settings.auth_fail_delay)
        self.admin = Admin(settings.domain, self.accounts, self.storage.rosters,
                           self.sessions, self.resumption, self.features,
                           self._create_accounts, self.auth_limiter.clear)
        # The server's own handlers first (roster, disco, identities), then the features'.
        for handler in (presence.roster, disco.DiscoHandler(),
                        ServerIdentity(settings.domain, self._declared("items")),
                        AccountIdentity(), *self._declared("handlers")):
            handler.setHandlerParent(self.local)
        for component in self._declared("components"):
            component.setServiceParent(self)

        self.c2s_factory = C2SFactory(C2SContext(
            settings=settings, reactor=reactor, tls=self.tls, accounts=self.accounts,
            sessions=self.sessions, resumption=self.resumption,
            deliver=self.local.from_client, auth_limiter=self.auth_limiter,
            caps=self.provided("caps"), registrar=self.provided("registrar"),
            fast=self.provided("fast"), archive=self.provided("archive"),
            enabled=frozenset(self.features),
            mechanisms=registry.mechanisms(settings.disabled)),
            stages=stages(self._declared("c2s_stages")))
        # WebSocket and BOSH streams: the same stream and stages (but STARTTLS) from a
        # factory of their own, so the HTTP transports only frame (c2s/framed.py).
        self.web_c2s_factory = framed_factory(self.c2s_factory)
        self.component_factory = (ComponentFactory(self.router, settings.component_secrets,
                                                   settings.max_components)
                                  if settings.component_secrets else None)
        self._ports: dict[str, Any] = {}
        self.site: Any = None

    # -- what features and entry points may ask ----------------------------------------------

    def provided(self, name: str) -> Any:
        """What a feature provides under ``name`` (``Feature.provides``); the core
        provides ``admin``. None when no feature that is on provides it."""
        if name == "admin":
            return self.admin
        for feature in self.features.values():
            if name in feature.provides:
                return feature.provides[name]
        return None

    def feature(self, name: str) -> Feature | None:
        return self.features.get(name)

    def service(self, name: str) -> Any:
        """The object of the feature ``name`` (None when it is off)."""
        feature = self.features.get(name)
        return feature.service if feature is not None else None

    @property
    def appserver(self) -> Any:
        """The in-process push App Server (``push/appserver.py``), None when off."""
        return self.service("appserver")

    @property
    def muc(self) -> Any:
        """The group chat service (``minixmpp.muc``), None when off."""
        return self.service("muc")

    @property
    def uploads(self) -> Any:
        """The upload slot rules (``upload/slots.py``), None when off."""
        return self.service("upload")

    def view(self) -> ServerView:
        """The narrow, read-only view web/ and ready.py get."""
        return ServerView(self.settings, self.reactor, self.accounts, self.sessions,
                          self.admin, self.features, self.tls, self.auth_limiter.recent,
                          self.ports, self.http_base_url)

    def ports(self) -> Ports:
        """Where the server listens now (ints; None for a listener that is off)."""
        def port(name: str) -> int | None:
            listening = self._ports.get(name)
            return listening.getHost().port if listening is not None else None

        c2s = self._ports.get("c2s")
        host = c2s.getHost().host if c2s is not None else "127.0.0.1"
        http = self._ports.get("http")
        return Ports(host="127.0.0.1" if host == "0.0.0.0" else host, c2s=port("c2s"),
                     c2s_tls=port("c2s-tls"), components=port("components"),
                     http=port("http"),
                     http_host=http.getHost().host if http is not None else "127.0.0.1")

    @property
    def port(self) -> int:
        """The c2s port actually listened on (useful with ``tcp:0``)."""
        return self._ports["c2s"].getHost().port

    def http_base_url(self) -> str:
        """Where clients reach the HTTP listener: ``--http-url``, else its address."""
        if self.settings.http_url:
            return self.settings.http_url
        http = self._ports.get("http")
        if http is None:
            return "http://127.0.0.1"
        host = http.getHost()
        name = host.host if host.host not in ("0.0.0.0", "::") else self.settings.domain
        if ":" in name:
            name = f"[{name}]"
        scheme = "https" if (self.settings.http or "").startswith("ssl:") else "http"
        return f"{scheme}://{name}:{host.port}"

    # -- accounts ------------------------------------------------------------------------

    def _create_accounts(self) -> None:
        """The configured accounts exist with their passwords; demo accounts are only
        created when missing (a data directory keeps what was changed since)."""
        for user, password in self.settings.accounts.items():
            if not self.accounts.exists(user):
                self.accounts.create(user, password)
            elif not self.settings.demo_accounts:
                self.accounts.set_password(user, password)

    def forget_account(self, user: str) -> None:
        """Drop everything stored for a deleted account (every feature's part)."""
        self.admin.forget_account(user)

    def reset(self) -> None:
        """Back to the state right after start (``Admin.reset``)."""
        self.admin.reset()

    # -- lifecycle ---------------------------------------------------------------------------

    def start(self) -> defer.Deferred[None]:
        """Listen (c2s, then Direct TLS, components and HTTP when configured); fires when
        clients can connect, fails with :class:`ConfigError` (e.g. a port in use)."""

        async def listen_all() -> None:
            s = self.settings
            await self._listen("c2s", s.c2s, self.c2s_factory)
            if self.tls is not None and "direct-tls" in self.features:
                await self._listen("c2s-tls", s.c2s_tls,
                                   tls.direct_tls_factory(self.tls, self.c2s_factory))
            if self.component_factory is not None:
                await self._listen("components", s.components, self.component_factory)
            if s.http:
                from minixmpp.web import site

                self.site = site(self.view(), self.web_c2s_factory)
                await self._listen("http", s.http, self.site.factory)
            if s.ready_file:  # before the log says so: a reader of either finds the
                ready.write(self.view(), s.ready_file)  # other true
            self._announce()

        return defer.ensureDeferred(listen_all())

    async def _listen(self, option: str, description: str, factory: Any) -> None:
        try:
            endpoint = endpoints.serverFromString(self.reactor, description)
        except (ValueError, TypeError, KeyError) as e:
            raise ConfigError(f"--{option} {description!r}: {e}") from None
        try:
            self._ports[option] = await endpoint.listen(factory)
        except ierror.CannotListenError as e:
            raise ConfigError(f"--{option} {description}: cannot listen ({e.socketError})"
                              ) from None

    def launch(self) -> defer.Deferred[None]:
        """Start the services and listen (the fixture's way; errors come as a failure)."""
        service.MultiService.startService(self)
        return self.start()

    def startService(self) -> None:
        """twistd start: a configuration error ends the process with one clear line."""
        failures: list[Any] = []
        self.launch().addErrback(failures.append)
        if failures:
            problem = failures[0].value
            text = str(problem) if isinstance(problem, ConfigError) else repr(problem)
            # twistd redirects sys.stderr into its log: write to the real one.
            (sys.__stderr__ or sys.stderr).write(f"minixmpp: error: {text}\n")
            raise SystemExit(1)

    def stopService(self) -> defer.Deferred[Any]:
        """Stop listening, close every stream (``system-shutdown``), stop every feature
        (timers, temporary files); fires when all connections are gone."""
        super().stopService()
        listening, self._ports = list(self._ports.values()), {}
        if self.settings.ready_file and listening:
            ready.remove(self.settings.ready_file)
        waits = [defer.maybeDeferred(p.stopListening) for p in listening]
        for factory in (self.c2s_factory, self.web_c2s_factory, self.component_factory):
            if factory is not None:
                waits.extend(factory.close_all(jerror.StreamError("system-shutdown")))
        self.resumption.cancel_all()
        for feature in self.features.values():
            if feature.stop is not None:
                feature.stop()
        done = defer.gatherResults(waits)
        done.addBoth(lambda result: (self.storage.close(), result)[1])
        return done

    def _announce(self) -> None:
        ports, s = self.ports(), self.settings
        if self.tls is None:
            tls_line = "STARTTLS off (--no-tls)"
        else:
            kind = "self-signed" if self.tls.self_signed else "from --tls-cert"
            tls_line = (f"STARTTLS {'required' if s.require_tls else 'offered'}, "
                        f"{kind} certificate SHA-256 {self.tls.fingerprint}")
        self.log.info("minixmpp {version} serving {domain} on {host}:{port} ({tls})",
                      version=__version__, domain=s.domain, host=ports.host, port=ports.c2s,
                      tls=tls_line)
        if ports.c2s_tls is not None:
            self.log.info("Direct TLS (XEP-0368, ALPN xmpp-client) on {host}:{port}",
                          host=ports.host, port=ports.c2s_tls)
        if s.demo_accounts:
            accounts = ", ".join(f"{u}@{s.domain} (password {p!r})" for u, p in s.accounts.items())
            self.log.info("demo accounts: {accounts}; add your own with --user NAME:PASSWORD",
                          accounts=accounts)
        else:
            self.log.info("accounts: {accounts}",
                          accounts=", ".join(f"{u}@{s.domain}" for u in s.accounts))
        if self.appserver is not None:
            self.log.info("push App Server (XEP-0357) in-process at {jid}: enable push with "
                          "jid='{jid}' and any node", jid=self.appserver.jid)
        if ports.components is not None:
            self.log.info("external components (XEP-0114) on {host}:{port}: {names}",
                          host=ports.host, port=ports.components,
                          names=", ".join(s.component_secrets))
        if ports.http is not None:
            self.log.info("status page http://{host}:{port}/ and control API "
                          "http://{host}:{port}/api/ (see docs/api.md)", host=ports.http_host,
                          port=ports.http)
            if self.uploads is not None:
                self.log.info("HTTP file upload (XEP-0363) at {jid}, up to {size} bytes",
                              jid=s.upload_jid, size=s.upload_max_size)
        self.log.info("features: {names}", names=" ".join(self.features))
        self.log.info("connect a client to {host}:{port} as e.g. {user}@{domain}",
                      host=ports.host, port=ports.c2s, user=next(iter(s.accounts)),
                      domain=s.domain)
