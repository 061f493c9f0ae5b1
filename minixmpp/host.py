"""One served domain (a virtual host, as Prosody's ``VirtualHost``): its storage, accounts,
sessions, local domain with the delivery and presence pipelines, and every feature built
for it, assembled once.

Each domain of ``--domain`` gets a :class:`Host` of its own, all on one router: messages,
presence and push between them cross the router as between two servers. The listeners,
TLS and the HTTP site belong to the process (``server.Server``); a c2s stream picks its
host by the ``to`` of its header.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from twisted.application import service
from twisted.logger import Logger
from wokkel import disco

from minixmpp import features as registry
from minixmpp.admin import Admin
from minixmpp.c2s.limits import AuthLimiter
from minixmpp.c2s.sm import Resumption
from minixmpp.c2s.stage import C2SContext
from minixmpp.config import ConfigError, Settings
from minixmpp.feature import Context, Feature
from minixmpp.im.disco import AccountIdentity, ServerIdentity
from minixmpp.im.message import MessageDelivery
from minixmpp.im.presence import PresenceHandler
from minixmpp.router import LocalDomain, Router
from minixmpp.sessions import SessionManager
from minixmpp.storage import Storage, open_storage
from minixmpp.storage.interfaces import StorageError
from minixmpp.view import Ports, ServerView


def data_dir(settings: Settings) -> str | None:
    """Where a domain keeps its data: ``--data-dir`` itself for the first domain, and
    ``DATA_DIR/domains/DOMAIN`` for each other."""
    if settings.data_dir is None or settings.domain == settings.domains[0]:
        return settings.data_dir
    return str(Path(settings.data_dir) / "domains" / settings.domain)


class Host(service.MultiService):
    """A served domain and everything built for it."""

    log = Logger()

    def __init__(self, settings: Settings, reactor: Any, router: Router, *, tls: Any,
                 auth_limiter: AuthLimiter, ports: Any, http_base_url: Any,
                 listeners: Any = None, traffic: Any = None) -> None:
        super().__init__()
        self.settings = settings
        self.domain = settings.domain
        self.reactor = reactor
        self.router = router
        self.tls = tls
        self.auth_limiter = auth_limiter
        self.ports = ports
        self.http_base_url = http_base_url
        self.listeners = listeners
        self.traffic = traffic
        try:
            self.storage: Storage = open_storage(data_dir(settings))
        except StorageError as e:
            raise ConfigError(f"--data-dir {settings.data_dir}: {e}") from None
        self.accounts = self.storage.accounts
        self._create_accounts()

        # The core: sessions, the served domain and its two pipelines.
        self.sessions = SessionManager()
        route = router.route
        messages = MessageDelivery(self.sessions, self.accounts, route)
        presence = PresenceHandler(self.domain, self.sessions, self.accounts,
                                   self.storage.rosters, route)
        self.local = LocalDomain(router, self.domain, self.sessions, self.accounts,
                                 presence=presence, messages=messages)
        self.local.setServiceParent(self)

        # Every feature, built with the same context, in the order it runs.
        context = Context(settings, reactor, router, self.domain, self.storage,
                          self.sessions, self.local, messages, presence, http_base_url,
                          self.provided)
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
            has_push=has_push, unacked=messages.redeliver, queue_limit=settings.max_offline,
            watchers=tuple(self._declared("sleep")), quiet=settings.session_quiet)
        # A session ends: unavailable presence, then its stream id is forgotten; a new
        # login with the full JID of a hibernated session ends that session.
        self.sessions.install(unbound=(presence.disconnected, self.resumption.forget,
                                       *self._declared("unbound")),
                              replaced=self.resumption.end)
        self.admin = Admin(self.domain, self.accounts, self.storage.rosters,
                           self.sessions, self.resumption, self.features,
                           self._create_accounts, self.auth_limiter.clear, reactor)
        # The server's own handlers first (roster, disco, identities), then the features'.
        for handler in (presence.roster, disco.DiscoHandler(),
                        ServerIdentity(self.domain, self._declared("items")),
                        AccountIdentity(), *self._declared("handlers")):
            handler.setHandlerParent(self.local)
        for component in self._declared("components"):
            component.setServiceParent(self)
        #: what a c2s stream to this domain may use (``c2s/stage.py``)
        self.c2s = C2SContext(
            settings=settings, reactor=reactor, tls=self.tls, accounts=self.accounts,
            sessions=self.sessions, resumption=self.resumption,
            deliver=self.local.from_client, auth_limiter=self.auth_limiter,
            caps=self.provided("caps"), archive=self.provided("archive"),
            enabled=frozenset(self.features), traffic=self.traffic, **self._authentication())

    def _authentication(self) -> dict[str, Any]:
        """How clients of this domain log in (``--auth``): with its accounts, SCRAM and
        PLAIN as switched on, registration and FAST; anonymously (SASL ANONYMOUS only);
        or with any password (PLAIN only: SCRAM cannot take a password it never had)."""
        mode = self.settings.auth_mode
        if mode == "anonymous":
            return {"mechanisms": frozenset({"ANONYMOUS"}),
                    "anonymous": self.provided("anonymous")}
        if mode == "any-password":
            return {"mechanisms": frozenset({"PLAIN"})}
        return {"mechanisms": registry.mechanisms(self.settings.disabled),
                "registrar": self.provided("registrar"), "fast": self.provided("fast")}

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

    def service(self, name: str) -> Any:
        """The object of the feature ``name`` (None when it is off)."""
        feature = self.features.get(name)
        return feature.service if feature is not None else None

    def view(self) -> ServerView:
        """The narrow, read-only view web/ and ready.py get of this domain."""
        return ServerView(self.settings, self.reactor, self.accounts, self.sessions,
                          self.admin, self.features, self.tls, self.auth_limiter.recent,
                          self.ports, self.http_base_url, self.listeners, self.traffic)

    def _create_accounts(self) -> None:
        """The configured accounts exist with their passwords; demo accounts are only
        created when missing (a data directory keeps what was changed since)."""
        for user, password in self.settings.accounts.items():
            if not self.accounts.exists(user):
                self.accounts.create(user, password)
            elif not self.settings.demo_accounts:
                self.accounts.set_password(user, password)

    def started(self) -> None:
        """The server listens (start, restart): the features that want to know."""
        for feature in self.features.values():
            if feature.started is not None:
                feature.started()

    def stop_features(self) -> None:
        """Shutdown: cancel what the features keep running (timers, temporary files)."""
        self.resumption.cancel_all()
        for feature in self.features.values():
            if feature.stop is not None:
                feature.stop()


__all__ = ["Host", "Ports", "data_dir"]
