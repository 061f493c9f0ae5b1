"""The composition root: one :class:`Server` for twistd and for the test fixture alike.

It builds the router and, for each served domain, a :class:`~minixmpp.host.Host` (storage,
sessions, the local domain with its delivery and presence pipelines, and every feature of
``features.FEATURES`` built with one :class:`~minixmpp.feature.Context` and assembled in
order), then listens for all of them. It knows no feature by name: ``forget_account``,
``reset``, disco items, the HTTP mounts and the state view are loops over the features.
"""

from __future__ import annotations

import sys
from typing import Any

from twisted.application import service
from twisted.internet import defer, endpoints
from twisted.internet import error as ierror
from twisted.logger import Logger
from twisted.words.protocols.jabber import error as jerror

from minixmpp import __version__, ready
from minixmpp.c2s import tls
from minixmpp.c2s.framed import framed_factory
from minixmpp.c2s.limits import AuthLimiter
from minixmpp.c2s.stream import C2SFactory, stages
from minixmpp.clock import ManualClock
from minixmpp.components import ComponentFactory
from minixmpp.config import ConfigError, Settings
from minixmpp.feature import Feature
from minixmpp.host import Host
from minixmpp.router import Router
from minixmpp.traffic import Traffic
from minixmpp.view import Ports, ServerView

__all__ = ["Server"]


class Server(service.MultiService):
    """A whole XMPP server: the router, a :class:`~minixmpp.host.Host` per served domain,
    TLS, and the listeners they share.

    ``Server(settings, reactor)`` builds everything; :meth:`launch` starts the services
    and listens, returning a Deferred that fires once clients can connect. The first
    domain's host answers for the server where one domain is meant (``storage``,
    ``sessions``, ``features``…); :meth:`host` gives the others.
    """

    log = Logger()

    def __init__(self, settings: Settings, reactor: Any) -> None:
        super().__init__()
        self.settings = settings
        #: the clock and scheduler of everything (``clock.py``: a manual one for tests)
        self.reactor = ManualClock(reactor) if settings.clock == "manual" else reactor
        no_tls = settings.no_tls or {"starttls", "direct-tls"} <= settings.disabled
        self.tls = None if no_tls else tls.load(
            settings.domains, settings.tls_cert, settings.tls_key, settings.data_dir)
        self.router = Router()
        #: every element in and out of every stream, bounded (``traffic.py``)
        self.traffic = Traffic(settings.traffic, self.reactor.seconds)
        captured = self.traffic if self.traffic.on else None
        self.auth_limiter = AuthLimiter(self.reactor, settings.auth_fail_limit,
                                        settings.auth_fail_delay)
        self._ports: dict[str, Any] = {}
        self._paused: str | None = None
        self._closing: defer.Deferred[None] = defer.succeed(None)
        self.site: Any = None
        self.hosts: dict[str, Host] = {}
        for domain in settings.domains:
            host = Host(settings.for_domain(domain), self.reactor, self.router, tls=self.tls,
                        auth_limiter=self.auth_limiter, ports=self.ports,
                        http_base_url=self.http_base_url, listeners=self, traffic=captured)
            host.setServiceParent(self)
            self.hosts[domain] = host
        self.primary = self.hosts[settings.domain]
        # One client listener for every domain: a stream picks its host by its header.
        self.c2s_factory = C2SFactory({d: h.c2s for d, h in self.hosts.items()},
                                      settings.domain,
                                      stages(self.primary._declared("c2s_stages")))
        # WebSocket and BOSH streams: the same stream and stages (but STARTTLS) from a
        # factory of their own, so the HTTP transports only frame (c2s/framed.py).
        self.web_c2s_factory = framed_factory(self.c2s_factory)
        self.component_factory = (ComponentFactory(self.router, settings.component_secrets,
                                                   settings.max_components, captured)
                                  if settings.component_secrets else None)

    # -- the first domain answers for the server ---------------------------------------------

    def host(self, domain: str) -> Host:
        """The host of a served domain (``KeyError`` for another)."""
        return self.hosts[domain]

    @property
    def storage(self) -> Any:
        return self.primary.storage

    @property
    def accounts(self) -> Any:
        return self.primary.accounts

    @property
    def sessions(self) -> Any:
        return self.primary.sessions

    @property
    def local(self) -> Any:
        return self.primary.local

    @property
    def features(self) -> dict[str, Feature]:
        return self.primary.features

    @property
    def admin(self) -> Any:
        return self.primary.admin

    @property
    def resumption(self) -> Any:
        return self.primary.resumption

    def provided(self, name: str) -> Any:
        return self.primary.provided(name)

    def feature(self, name: str) -> Feature | None:
        return self.primary.features.get(name)

    def service(self, name: str) -> Any:
        """The object of the first domain's feature ``name`` (None when it is off)."""
        return self.primary.service(name)

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
        """The narrow, read-only view web/ and ready.py get (of the first domain)."""
        return self.primary.view()

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

    def forget_account(self, user: str) -> None:
        """Drop everything stored for a deleted account of the first domain."""
        self.primary.admin.forget_account(user)

    def reset(self) -> None:
        """Every domain back to the state right after start (``Admin.reset``)."""
        for host in self.hosts.values():
            host.admin.reset()
        self.traffic.clear()

    # -- faults a test puts on the whole server (c2s/faults.py has one stream's) -------------

    #: the listeners clients connect to (the HTTP listener carries the control API, so it
    #: is never paused: WebSocket and BOSH keep accepting)
    CLIENT_LISTENERS = ("c2s", "c2s-tls", "components")

    def pause_accepting(self, refuse: bool = False) -> defer.Deferred[None]:
        """New client connections wait in the listen backlog (``refuse``: are refused,
        the ports closed), as while a server restarts; open streams go on. Fires once
        the ports are closed."""
        closing = []
        for name in self.CLIENT_LISTENERS:
            port = self._ports.get(name)
            if port is None:
                continue
            port.port = port.getHost().port  # listen again on the same number (tcp:0)
            if refuse:
                closing.append(defer.maybeDeferred(port.stopListening))
            else:
                port.stopReading()
        self._paused = "refused" if refuse else "waiting"
        self._closing = defer.gatherResults(closing).addCallback(lambda _: None)
        return self._closing

    def resume_accepting(self) -> defer.Deferred[None]:
        """Accept connections again (on the same ports, once they are closed)."""
        paused, self._paused = self._paused, None

        def reopen(_: Any) -> None:
            for name in self.CLIENT_LISTENERS:
                port = self._ports.get(name)
                if port is None:
                    continue
                if paused == "refused":
                    port.startListening()
                elif paused == "waiting":
                    port.startReading()

        return self._closing.addCallback(reopen)

    def restart(self) -> defer.Deferred[None]:
        """Stop and start again on the same ports, keeping what is stored (memory or
        SQLite): every stream ends with ``system-shutdown``, hibernated sessions end
        (their unacknowledged messages go offline: resuming across a restart fails, as
        with Prosody), the listeners close and open again."""
        waits = [self.pause_accepting(refuse=True)]
        for factory in (self.c2s_factory, self.web_c2s_factory, self.component_factory):
            if factory is not None:
                waits.extend(factory.close_all(jerror.StreamError("system-shutdown")))
        for host in self.hosts.values():
            for session in list(host.sessions):
                if session.hibernated:
                    host.resumption.end(session)
        done = defer.gatherResults(waits)
        done.addCallback(lambda _: self.resume_accepting())
        done.addCallback(lambda _: self.log.info("restarted: the same ports, what is stored "
                                                 "kept"))
        done.addCallback(lambda _: self._started())
        return done

    def _started(self) -> None:
        for host in self.hosts.values():
            host.started()

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
            for port in (p for h in self.hosts.values() for f in h.features.values()
                         for p in f.listen):
                await self._listen(port.option, port.endpoint, port.factory)
                if port.bound is not None:
                    port.bound(self._ports[port.option].getHost())
            if s.http:
                from minixmpp.web import site

                self.site = site([h.view() for h in self.hosts.values()],
                                 self.web_c2s_factory)
                await self._listen("http", s.http, self.site.factory)
            if s.ready_file:  # before the log says so: a reader of either finds the
                ready.write([h.view() for h in self.hosts.values()], s.ready_file)
            self._announce()
            self._started()

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
        self.traffic.cancel_waiters()
        for host in self.hosts.values():
            host.stop_features()
        done = defer.gatherResults(waits)

        def close_storage(result: Any) -> Any:
            for host in self.hosts.values():
                host.storage.close()
            return result

        return done.addBoth(close_storage)

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
        proxy = self.service("proxy65")
        if proxy is not None and proxy.address is not None:
            self.log.info("SOCKS5 bytestream proxy (XEP-0065) at {jid} on {host}:{port}",
                          jid=proxy.jid, host=proxy.address[0], port=proxy.address[1])
        self.log.info("features: {names}", names=" ".join(self.features))
        self.log.info("connect a client to {host}:{port} as e.g. {user}@{domain}",
                      host=ports.host, port=ports.c2s, user=next(iter(s.accounts)),
                      domain=s.domain)
