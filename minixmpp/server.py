"""The composition root: one :class:`Server` for twistd and for the test fixture alike."""

from __future__ import annotations

import shutil
import sys
import tempfile
from collections import deque
from typing import Any

from twisted.application import service
from twisted.internet import defer, endpoints
from twisted.internet import error as ierror
from twisted.logger import Logger
from twisted.words.protocols.jabber import error as jerror
from twisted.words.protocols.jabber.jid import JID
from wokkel import disco

from minixmpp import __version__, ready
from minixmpp.admin import Admin
from minixmpp.c2s import tls
from minixmpp.c2s.fast import Tokens
from minixmpp.c2s.limits import AuthLimiter
from minixmpp.c2s.sm import Resumption
from minixmpp.c2s.stage import C2SContext
from minixmpp.c2s.stream import STAGES, C2SFactory
from minixmpp.components import ComponentFactory
from minixmpp.config import ConfigError, Settings
from minixmpp.im.blocking import Blocking, BlockingHandler
from minixmpp.im.caps import ServerCaps
from minixmpp.im.carbons import CarbonsHandler
from minixmpp.im.contact import ContactAddresses
from minixmpp.im.disco import AccountIdentity, ServerIdentity
from minixmpp.im.entitytime import EntityTimeHandler
from minixmpp.im.extdisco import ExternalServicesHandler
from minixmpp.im.lastactivity import LastActivityHandler
from minixmpp.im.mam import ArchiveHandler
from minixmpp.im.message import MessageDelivery
from minixmpp.im.offline import OfflineStorage
from minixmpp.im.ping import PingHandler
from minixmpp.im.presence import PresenceHandler
from minixmpp.im.register import AccountManagement, Registrar
from minixmpp.im.roster import RosterHandler
from minixmpp.im.version import VersionHandler
from minixmpp.muc import build_service
from minixmpp.pep.resource import Limits
from minixmpp.pep.room import PersonalEventing
from minixmpp.push.appserver import AppServer, build_component
from minixmpp.push.enable import PushEnableHandler
from minixmpp.push.notifier import PushNotifier
from minixmpp.push.preauth import before_auth_stage
from minixmpp.push.profiles import profile
from minixmpp.router import LocalDomain, Router
from minixmpp.sessions import SessionManager
from minixmpp.storage import open_storage
from minixmpp.storage.interfaces import StorageError
from minixmpp.timestamps import iso
from minixmpp.upload.slots import UploadService


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
            settings.domain, settings.tls_cert, settings.tls_key, settings.data_dir)

        try:
            self.storage = open_storage(settings.data_dir)
        except StorageError as e:
            raise ConfigError(f"--data-dir {settings.data_dir}: {e}") from None
        self.accounts = self.storage.accounts
        self.rosters = self.storage.rosters
        self.offline_store = self.storage.offline
        self.archive_store = self.storage.archive
        self.push_store = self.storage.push
        self.token_store = self.storage.tokens
        self._create_accounts()

        self.sessions = SessionManager()
        self.router = Router()
        route = self.router.route

        # What runs when, in order. A message for a local account (im/message.py):
        #   stages (archive: stanza-id) -> routing (sessions / hibernated queues /
        #   offline / bounce) -> listeners (push, carbons, archive writes), each given
        #   an Outcome.
        # A message a local client sends: the sent listeners (archive, carbons), then
        # the router. See docs/architecture.md.
        self.offline = OfflineStorage(self.offline_store, settings.domain, settings.max_offline,
                                      reactor.seconds)
        self.push_events: deque[dict[str, Any]] = deque(maxlen=200)
        push_profile = profile(settings.push_profile)
        self.push_enable = PushEnableHandler(
            self.push_store, strict=settings.push_strict,
            limit=settings.push_max_registrations, clock=reactor.seconds,
            profile=push_profile, on_event=self._push_event)
        self.notifier = PushNotifier(
            settings.domain, self.push_store, self.rosters, self.sessions, reactor,
            privacy=settings.push_privacy, max_errors=settings.push_max_errors,
            timeout=settings.push_timeout, csi_inactive=settings.push_csi_inactive,
            on_archive=settings.push_on_archive or (push_profile.on_archive
                                                    and not settings.no_archive),
            profile=push_profile,
            groupchat=settings.push_groupchat, log_publishes=not settings.push_quiet,
            on_event=self._push_event)
        # Blocking (XEP-0191): a delivery stage for messages, a guard for IQs and
        # presence, a filter on the presence the server sends for an account.
        self.blocking = Blocking(self.storage.blocking, settings.domain, route)
        self.archive = ArchiveHandler(self.archive_store, self.sessions, settings.domain,
                                      settings.max_archive, reactor.seconds)
        archiving = () if settings.no_archive else (self.archive,)
        self.carbons = CarbonsHandler(self.sessions)
        self.messages = MessageDelivery(
            self.sessions, self.accounts, route,
            stages=(self.blocking, *archiving),         # 1. may change or stop the message
            offline=self.offline,                       # 2. routing; no resource: offline
            # 3. told the Outcome; push first, the archive writes last
            listeners=(self.notifier, self.carbons, *archiving))
        self.roster = RosterHandler(self.rosters, self.sessions)
        self.pep = PersonalEventing(settings.domain, self.storage, self.sessions,
                                    reactor.seconds, Limits(settings.pep_max_items,
                                    settings.pep_max_nodes, settings.pep_max_item_size))
        self.last_activity = LastActivityHandler(self.storage.last_activity, self.rosters,
                                                 self.sessions, reactor.seconds)
        self.presence = PresenceHandler(
            settings.domain, self.sessions, self.accounts, self.rosters, self.roster,
            self.blocking.presence_route(route),
            offline=self.offline,                       # initial presence: XEP-0160 §3
            listeners=(self.notifier, self.pep),        # then: the account is back; PEP
            observers=(self.pep,),                      # PEP: caps, recipients, hashes
            unavailable=(self.last_activity,))          # last logout (XEP-0012)
        # roster and presence need each other: a removed contact gets unsubscribed/unavailable
        self.roster.on_remove = self.presence.roster_removed
        self.local = LocalDomain(self.router, settings.domain, self.sessions, self.accounts,
                                 presence=self.presence, messages=self.messages,
                                 sent=(*archiving, self.carbons), guards=(self.blocking,),
                                 replies=self.notifier.reply)  # App Server replies first
        self.local.setServiceParent(self)
        self.resumption = Resumption(
            self.sessions, reactor, settings.resume_timeout, settings.resume_timeout_push,
            has_push=lambda user: bool(self.push_store.registrations(user)),
            unacked=self.messages.redeliver, queue_limit=settings.max_offline)
        # A session ends: unavailable presence, then its stream id is forgotten; a new
        # login with the full JID of a hibernated session ends that session.
        self.sessions.on_unbound = (self.presence.disconnected, self.resumption.forget)
        self.sessions.on_replaced = self.resumption.end
        self.admin = Admin(self.accounts, self.sessions, self.resumption, self.forget_account)

        self.registrar = Registrar(self.accounts, settings.domain, settings.registration,
                                   settings.registration_limit, reactor.seconds)
        self.server_identity = ServerIdentity(settings.domain)
        self.caps = ServerCaps(settings.domain)
        handlers = (self.roster, disco.DiscoHandler(), self.server_identity, AccountIdentity(),
                    PingHandler(), VersionHandler(), self.push_enable, self.notifier,
                    self.carbons, BlockingHandler(self.blocking, self.sessions, self.rosters),
                    self.last_activity, EntityTimeHandler(reactor.seconds),
                    ExternalServicesHandler(settings.domain, settings.stun_servers,
                                            settings.turn_servers, settings.turn_ttl,
                                            reactor.seconds), *archiving,
                    *self.pep.handlers, self.caps,
                    ContactAddresses(settings.contact_addresses),
                    AccountManagement(self.registrar, self.remove_account,
                                      lambda f, *a: reactor.callLater(0, f, *a)))
        for handler in handlers:
            handler.setHandlerParent(self.local)

        self.appserver: AppServer | None = None
        if not settings.no_push_component:
            assert settings.push_jid is not None
            self.appserver = AppServer(settings.push_jid, self._push_owner, reactor.seconds,
                                       log_notifications=not settings.push_quiet)
            build_component(self.router, settings.push_jid, self.appserver
                            ).setServiceParent(self)
            self.server_identity.items.append(disco.DiscoItem(
                JID(settings.push_jid), name="Push notifications (in-process App Server)"))

        # Group chat (XEP-0045): an internal component, like the App Server.
        self.muc = None if settings.no_muc else build_service(self)
        if self.muc is not None:  # push asks MUC for an account's nick in a room
            self.notifier.nick = self.muc.account_nick
        # HTTP File Upload (XEP-0363): slots at upload.DOMAIN, files on the HTTP listener.
        self.uploads: UploadService | None = None
        self._upload_tmp: str | None = None
        if settings.http and not settings.no_upload:
            self.uploads = self._upload_service()

        self.component_factory = (ComponentFactory(self.router, settings.component_secrets,
                                                   settings.max_components)
                                  if settings.component_secrets else None)
        self.component_port: Any = None
        self.http_port: Any = None
        #: host-meta rel → path of each web transport on the HTTP listener
        self.web_paths: dict[str, str] = {}
        #: the BOSH session manager, once mounted (web/__init__.py)
        self.bosh: Any = None
        self.auth_limiter = AuthLimiter(reactor, settings.auth_fail_limit,
                                        settings.auth_fail_delay)
        self.auth_failures = self.auth_limiter.recent
        push_stage = before_auth_stage(push_profile)  # the profile's enable-before-auth
        self.c2s_factory = C2SFactory(C2SContext(
            settings=settings, reactor=reactor, tls=self.tls, accounts=self.accounts,
            sessions=self.sessions, resumption=self.resumption, deliver=self.local.from_client,
            auth_limiter=self.auth_limiter, caps=self.caps,
            registrar=self.registrar if settings.registration != "off" else None,
            fast=Tokens(self.token_store, settings.fast_token_lifetime, reactor.seconds),
            archive=None if settings.no_archive else self.archive_store),
            stages=(*STAGES, *filter(None, [push_stage])))
        self.c2s_port: Any = None
        self.c2s_tls_port: Any = None
        # WebSocket and BOSH streams: the same stream and stages (but STARTTLS) from a
        # factory of their own, so the HTTP transports only frame (c2s/framed.py).
        from minixmpp.c2s.framed import framed_factory

        self.web_c2s_factory = framed_factory(self.c2s_factory.context)

    def _upload_service(self) -> UploadService:
        from minixmpp.upload.component import build_component as build_upload

        s = self.settings
        if s.data_dir is not None:
            directory = f"{s.data_dir}/uploads"
        else:  # memory only: a temporary directory, removed at exit
            directory = self._upload_tmp = tempfile.mkdtemp(prefix="minixmpp-uploads-")
        uploads = UploadService(self.storage.uploads, directory, self.http_base_url,
                                self.reactor.seconds, s.upload_max_size, s.upload_quota,
                                s.upload_slot_timeout)
        assert s.upload_jid is not None
        build_upload(self.router, s.upload_jid, uploads, s.domain).setServiceParent(self)
        self.server_identity.items.append(disco.DiscoItem(JID(s.upload_jid),
                                                          name="HTTP File Upload"))
        return uploads

    def http_base_url(self) -> str:
        """Where clients reach the HTTP listener: ``--http-url``, else its address."""
        if self.settings.http_url:
            return self.settings.http_url
        if self.http_port is None:
            return "http://127.0.0.1"
        host = self.http_port.getHost()
        name = host.host if host.host not in ("0.0.0.0", "::") else self.settings.domain
        if ":" in name:
            name = f"[{name}]"
        scheme = "https" if (self.settings.http or "").startswith("ssl:") else "http"
        return f"{scheme}://{name}:{host.port}"

    def web_links(self) -> list[tuple[str, str]]:
        """host-meta links (XEP-0156): the web transports mounted on the HTTP listener."""
        base = self.http_base_url()
        out = []
        for rel, path in self.web_paths.items():
            url = base + path
            if path.endswith("websocket"):
                url = "ws" + url[4:]  # http → ws, https → wss
            out.append((rel, url))
        return out

    # -- lifecycle ---------------------------------------------------------------------------

    def start(self) -> defer.Deferred[None]:
        """Listen (c2s, then components and HTTP when configured); fires when clients
        can connect, fails with :class:`ConfigError` (e.g. a port in use)."""

        async def listen_all() -> None:
            self.caps.compute()  # every handler is in place: the disco#info is final
            self.c2s_port = await self._listen("c2s", self.settings.c2s, self.c2s_factory)
            if self.tls is not None and self.settings.c2s_tls != "off":
                self.c2s_tls_port = await self._listen(
                    "c2s-tls", self.settings.c2s_tls, tls.direct_tls_factory(
                        self.tls, self.c2s_factory))
            if self.component_factory is not None:
                self.component_port = await self._listen(
                    "components", self.settings.components, self.component_factory)
            if self.settings.http:
                from minixmpp.web import site

                self.http_port = await self._listen(
                    "http", self.settings.http, site(self, self.settings.http_token))
            if self.settings.ready_file:  # before the log says so: a reader of either
                ready.write(self, self.settings.ready_file)  # finds the other true
            self._announce()

        return defer.ensureDeferred(listen_all())

    def _listen(self, option: str, description: str, factory: Any) -> defer.Deferred[Any]:
        def failed(f: Any) -> None:
            if f.check(ierror.CannotListenError):
                raise ConfigError(f"--{option} {description}: cannot listen "
                                  f"({f.value.socketError})")
            return f

        try:
            endpoint = endpoints.serverFromString(self.reactor, description)
        except (ValueError, TypeError, KeyError) as e:
            return defer.fail(ConfigError(f"--{option} {description!r}: {e}"))
        return endpoint.listen(factory).addErrback(failed)

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
        """Stop listening, close every stream (``system-shutdown``) and cancel every
        timer; fires when all connections are gone."""
        super().stopService()
        ports = [p for p in (self.c2s_port, self.c2s_tls_port, self.component_port,
                             self.http_port) if p is not None]
        self.c2s_port = self.c2s_tls_port = self.component_port = self.http_port = None
        if self.settings.ready_file and ports:
            ready.remove(self.settings.ready_file)
        waits = [defer.maybeDeferred(p.stopListening) for p in ports]
        if self.bosh is not None:
            self.bosh.stop()
        for factory in (self.c2s_factory, self.web_c2s_factory, self.component_factory):
            if factory is not None:
                waits.extend(factory.close_all(jerror.StreamError("system-shutdown")))
        self.notifier.cancel_all()
        self.resumption.cancel_all()
        if self.appserver is not None:
            self.appserver.cancel_waiters()
        done = defer.gatherResults(waits)
        done.addBoth(lambda r: (self.storage.close(), self._remove_upload_tmp(), r)[2])
        return done

    def _remove_upload_tmp(self) -> None:
        if self._upload_tmp is not None:
            shutil.rmtree(self._upload_tmp, ignore_errors=True)
            self._upload_tmp = None

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
        if self.c2s_tls_port is not None:
            dhost = self.c2s_tls_port.getHost()
            self.log.info("Direct TLS (XEP-0368, ALPN xmpp-client) on {host}:{port}",
                          host=dhost.host, port=dhost.port)
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
        if self.component_port is not None:
            chost = self.component_port.getHost()
            self.log.info("external components (XEP-0114) on {host}:{port}: {names}",
                          host=chost.host, port=chost.port,
                          names=", ".join(self.settings.component_secrets))
        if self.http_port is not None:
            h = self.http_port.getHost()
            self.log.info("status page http://{host}:{port}/ and control API "
                          "http://{host}:{port}/api/ (see docs/api.md)", host=h.host,
                          port=h.port)
            if self.uploads is not None:
                self.log.info("HTTP file upload (XEP-0363) at {jid}, up to {size} bytes",
                              jid=self.settings.upload_jid, size=self.settings.upload_max_size)
        self.log.info("connect a client to {host}:{port} as e.g. {user}@{domain}",
                      host=host.host, port=host.port, user=next(iter(s.accounts)),
                      domain=s.domain)

    @property
    def tls_port(self) -> int:
        """The Direct TLS port actually listened on (XEP-0368)."""
        return self.c2s_tls_port.getHost().port

    @property
    def components_port(self) -> int:
        """The XEP-0114 port actually listened on."""
        return self.component_port.getHost().port

    def _create_accounts(self) -> None:
        """The configured accounts exist with their passwords; demo accounts are only
        created when missing (a data directory keeps what was changed since)."""
        for user, password in self.settings.accounts.items():
            if not self.accounts.exists(user):
                self.accounts.create(user, password)
            elif not self.settings.demo_accounts:
                self.accounts.set_password(user, password)

    # -- glue between handlers -------------------------------------------------------------

    def _push_owner(self, service: str, node: str | None) -> str | None:
        """The account that registered (service, node), for the App Server's records."""
        for user in self.push_store.users():
            for registration in self.push_store.registrations(user):
                if registration.jid == service and registration.node == node:
                    return user
        return None

    def _push_event(self, event: str, user: str, registration: Any, detail: str) -> None:
        self.push_events.append({"time": iso(self.reactor.seconds()), "event": event,
                                 "account": user, "jid": registration.jid,
                                 "node": registration.node, "detail": detail})

    @property
    def http_port_number(self) -> int:
        """The HTTP port actually listened on."""
        return self.http_port.getHost().port

    def forget_account(self, user: str) -> None:
        """Drop everything stored for a deleted account."""
        self.archive.flush()  # nothing written after the drop
        self.rosters.drop(user)
        self.offline_store.pop_all(user)
        self.archive_store.drop(user)
        self.token_store.drop(user)
        for registration in self.push_store.registrations(user):
            self.push_store.remove(user, registration.jid, registration.node)
        self.notifier.unseen.pop(user, None)
        if self.muc is not None:
            self.muc.forget(f"{user}@{self.settings.domain}")
        self.pep.forget(user)
        self.storage.last_activity.drop(user)
        self.storage.blocking.unblock(user, None)
        if self.uploads is not None:
            self.uploads.forget(user)

    def remove_account(self, user: str) -> None:
        """The account removes itself (XEP-0077 §3.2): its streams close with
        ``not-authorized``, hibernated sessions end, the account and its data go."""
        if self.accounts.exists(user):
            self.admin.delete_account(user)
        self.log.info("{user}@{domain} removed its account (XEP-0077)", user=user,
                      domain=self.settings.domain)

    def reset(self) -> None:
        """Back to the state right after start: configured accounts only, nothing
        stored, no sessions (closed with a ``reset`` stream error), no notifications."""
        for session in list(self.sessions):
            self.admin.end_session(session, "reset")
        for user in self.accounts.users():
            self.admin.delete_account(user)
        self._create_accounts()
        if self.appserver is not None:
            self.appserver.clear()
        if self.muc is not None:
            self.muc.clear()
        if self.uploads is not None:
            self.uploads.clear()
        self.push_events.clear()
        self.auth_limiter.clear()
        self.registrar.clear()
