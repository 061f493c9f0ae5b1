"""Settings: one model for the command line and the TOML file (the command line wins).

Every option is declared once, as a typed field of :class:`Settings` made with
:func:`~minixmpp.options.option`: its default, help and checks (``min=1``, ``choices=``,
``endpoint=True``, ``domain=True``, ``readable=True``). :data:`OPTIONS` is read from those
fields: ``tap.Options`` builds the twistd command line and ``--help`` from it,
:func:`load_toml` accepts the same names in a ``--config`` file (``c2s = "tcp:5222"``,
``user = ["alice:secret"]``, dashes or underscores alike), and a test checks the README's
option table against it. :meth:`Settings.validate` applies each option's checks, then the
rules between options; a problem is refused with one line.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from minixmpp import switches
from minixmpp.options import (
    ConfigError,
    Option,
    account_spec,
    admin_jid,
    attr,
    bare_domain,
    contact_address,
    domain_jid,
    host_port,
    http_host,
    option,
    options,
    turn,
)
from minixmpp.push.profiles import PROFILES

__all__ = ["DEMO_USERS", "OPTIONS", "ConfigError", "Option", "Settings", "attr", "load_toml"]

DEMO_USERS: tuple[tuple[str, str], ...] = (("alice", "alice"), ("bob", "bob"))
#: plural names the fixture and the TOML file accept for repeatable options
PLURALS = {"domains": "domain", "users": "user", "admins": "admin"}


@dataclass
class Settings:
    """Validated settings for one :class:`minixmpp.server.Server`: one field per option
    (``tls-cert`` → ``tls_cert``), in the order of ``--help``, then the parsed values."""

    domains: tuple[str, ...] = option(
        ("localhost",), "XMPP domain served (the part after @); repeatable: each domain has "
        "its own accounts, push App Server, group chat and upload, and the first is the "
        "default everywhere one is not named", cli="domain")
    c2s: str = option(
        "tcp:5222:interface=127.0.0.1", "client-to-server listening endpoint (Twisted strports "
        "description)", endpoint=True)
    c2s_tls: str = option(
        "tcp:5223:interface=127.0.0.1", "Direct TLS client listener (XEP-0368; TLS from the first "
        "byte, ALPN xmpp-client), or off", endpoint=True, off=True)
    user: tuple[str, ...] = option(
        (), "account NAME:PASSWORD (on the first domain) or NAME@DOMAIN:PASSWORD, repeatable; "
        "without any, demo accounts are created on every domain")
    auth: tuple[str, ...] = option(
        (), "how accounts log in: MODE for every domain, or DOMAIN=MODE for one, repeatable; "
        "MODE is accounts (the default), anonymous (SASL ANONYMOUS, XEP-0175) or any-password "
        "(any password logs in; unknown accounts are created); the last two need loopback "
        "listeners or --allow-insecure-auth")
    allow_insecure_auth: bool = option(
        False, "allow --auth anonymous and any-password on listeners that are not loopback")
    admin: tuple[str, ...] = option(
        (), "bare JID of an account on the served domain that may run the service "
        "administration commands (XEP-0133 over XEP-0050 ad-hoc commands), repeatable")
    tls_cert: str | None = option(
        None, "PEM certificate for STARTTLS (default: self-signed, generated)", readable=True)
    tls_key: str | None = option(None, "PEM private key for --tls-cert", readable=True)
    require_tls: bool = option(False, "refuse authentication before STARTTLS")
    no_tls: bool = option(False, "do not offer STARTTLS at all")
    plain_without_tls: str = option(
        "loopback", "offer SASL PLAIN on unencrypted streams: loopback | always | never",
        choices=("loopback", "always", "never"))
    log_stanzas: bool = option(
        False, "log every stanza in and out, one line each (passwords and SASL masked)")
    max_stanza_size: int = option(
        262144, "largest stanza accepted, in bytes (larger: policy-violation stream error)",
        min=1024, unit="bytes")
    max_stanza_depth: int = option(
        100, "deepest element nesting in a stanza (deeper: policy-violation)")
    max_connections: int = option(
        20000, "client connections at once; more are closed with policy-violation")
    max_connections_per_ip: int = option(
        0, "client connections at once from one address (0: no limit)", min=0)
    auth_timeout: int = option(
        30, "seconds from connecting to a bound resource (else connection-timeout)")
    idle_timeout: int = option(
        0, "close a client stream silent for this many seconds (0: never)", min=0)
    auth_fail_limit: int = option(
        5, "failed authentications per address per minute before replies slow down")
    auth_fail_delay: int = option(
        2, "seconds each further authentication failure is delayed", min=0)
    max_send_buffer: int = option(
        4194304, "bytes queued for a client that does not read; beyond it the connection is "
        "dropped (a resumable session hibernates)")
    max_components: int = option(100, "external components connected at once")
    data_dir: str | None = option(
        None, "keep accounts, rosters, offline messages, archive, push registrations, PEP data "
        "(nodes, items, subscriptions, private XML, vCards), rooms, pubsub nodes and the "
        "generated certificate in this directory (SQLite) [default: memory only]")
    max_offline: int = option(
        1000, "offline messages kept per account (XEP-0160); more bounce service-unavailable",
        min=1)
    no_archive: bool = option(False, "do not archive messages (XEP-0313 off)")
    max_archive: int = option(
        10000, "archived messages kept per account (XEP-0313); the oldest go first", min=1)
    pep_max_items: int = option(
        256, "items kept per PEP node (XEP-0163); pubsub#max_items 'max' means this", min=1)
    pep_max_nodes: int = option(256, "PEP nodes per account; creating more is refused", min=1)
    pep_max_item_size: int = option(
        131072, "bytes of one PEP item's payload (also private XML, vCards and group chat "
        "rooms' vCards); larger: not-acceptable/payload-too-big", min=1)
    pep_max_subscriptions: int = option(
        1000, "explicit subscriptions per PEP node (XEP-0060 §6.1); more: policy-violation", min=1)
    push_on_archive: bool = option(
        False, "also push when a message is archived for a registration whose session is not live "
        "(Prosody/ejabberd behaviour; makes AWAY/XA moot)")
    push_jid: str | None = option(
        None, "JID of the in-process push App Server [default: push.DOMAIN]", domain=True)
    no_push_component: bool = option(False, "do not run the in-process push App Server")
    push_strict: bool = option(
        False, "reject XEP-0357 enable without node (bad-request), as Tigase/ejabberd do")
    push_privacy: bool = option(
        False, "leave sender and body out of push notifications (placeholder body instead)")
    push_max_registrations: int = option(
        5, "push registrations per account; enabling one more drops the oldest", min=1)
    push_max_errors: int = option(
        16, "transient App Server errors in a row before a registration is disabled", min=1)
    push_timeout: int = option(
        20, "seconds to wait for an App Server's reply (no reply counts as transient)", min=1)
    muc_jid: str | None = option(
        None, "JID of the in-process group chat service (XEP-0045) [default: conference.DOMAIN]",
        domain=True)
    no_muc: bool = option(False, "do not run the group chat service")
    muc_max_rooms: int = option(
        1000, "rooms on the group chat service; more are refused (not-allowed)", min=1)
    muc_max_occupants: int = option(
        200, "occupants per room (a room's own max users is at most this)", min=1)
    muc_max_history: int = option(
        50, "group chat messages kept per room for the history sent on join", min=1)
    muc_search_max: int = option(
        50, "rooms in one page of a channel search (XEP-0433) on the group chat service; a "
        "larger RSM max is cut to it", min=1)
    muc_rate: int = option(
        10, "groupchat messages per second per occupant (more: policy-violation; 0: no limit)",
        min=0)
    pubsub_jid: str | None = option(
        None, "JID of the in-process publish-subscribe service (XEP-0060) [default: "
        "pubsub.DOMAIN]", domain=True)
    pubsub_max_nodes: int = option(1000, "nodes on the pubsub service; more: not-allowed", min=1)
    pubsub_max_owned_nodes: int = option(
        100, "pubsub nodes one account may own; creating more: not-allowed", min=1)
    pubsub_max_items: int = option(
        1000, "items kept per pubsub node; pubsub#max_items 'max' means this", min=1)
    pubsub_max_item_size: int = option(
        65536, "bytes of one pubsub item's payload; larger: not-acceptable/payload-too-big", min=1)
    pubsub_max_subscriptions: int = option(
        1000, "subscriptions per pubsub node; more: policy-violation", min=1)
    resume_timeout: int = option(
        300, "seconds a dropped stream-management session stays resumable (XEP-0198)", min=1)
    resume_timeout_push: int = option(
        3600, "the same while the account has push registrations (as Prosody extends it)", min=1)
    push_csi_inactive: bool = option(
        False, "treat a CSI-inactive session (XEP-0352) like a hibernated one for push")
    push_profile: str = option(
        "minixmpp", "push behaviour of: minixmpp | tigase | prosody | ejabberd | mongooseim "
        "(docs/push.md, Profiles)", choices=tuple(PROFILES))
    push_groupchat: str = option(
        "never", "groupchat messages to the account push: never | mentions | always (for "
        "registrations without Tigase's groupchat filter)",
        choices=("never", "mentions", "always"))
    push_history: int = option(
        1000, "push decisions, and notifications of the in-process App Server, kept for the "
        "API, the status page and tests (the newest; 0: none, and no decisions recorded)",
        min=0)
    push_generate_max: int = option(
        10000, "messages one POST /api/push/generate run may send (App Server load tests)",
        min=1)
    push_generate_rate: int = option(
        1000, "messages per second a push generator run may send at most", min=1)
    push_ack_delay: int = option(
        30, "seconds an open connection may leave stanzas unacknowledged before it pushes, "
        "once per episode (the minixmpp and prosody profiles; Prosody's smacks_max_ack_delay; "
        "0: never)", min=0)
    push_wake_on_start: bool = option(
        False, "push to every registration when the server starts (ejabberd's wake_on_start)")
    push_count_reset: bool = option(
        False, "a message-count 0 push when the account fetches its offline messages (always "
        "with the tigase profile)")
    push_account_removed: bool = option(
        False, "a last push to every registration when the account is deleted (Tigase's "
        "account-removal notice)")
    push_virtual_pubsub: bool = option(
        False, "the in-process App Server is a virtual pubsub host: pushes reach it without a "
        "publish IQ (MongooseIM's virtual_pubsub_hosts; needs --push-profile mongooseim)")
    session_quiet: bool = option(
        False, "no log line per session bound or disconnected (logins at load: Prosody and "
        "ejabberd log neither at level warn; hibernation, resumption and errors are still "
        "logged)")
    push_quiet: bool = option(
        False, "no log line per publish or per in-process notification (enable, disable, errors "
        "and auto-disable are still logged)")
    components: str = option(
        "tcp:5347:interface=127.0.0.1", "XEP-0114 external component listener (used when "
        "--component is given)", endpoint=True)
    component: tuple[str, ...] = option(
        (), "external component NAME:SECRET (XEP-0114), repeatable")
    http: str | None = option(
        "tcp:5280:interface=127.0.0.1", "HTTP endpoint: control API, status page, file upload, "
        "host-meta, WebSocket, BOSH (loopback only unless interface= is given; ssl: for HTTPS)",
        endpoint=True)
    no_http: bool = option(False, "no HTTP listener (no upload, no web transports)")
    http_url: str | None = option(
        None, "base URL clients reach the HTTP listener at (behind a proxy) [default: from the "
        "listener]")
    http_host: tuple[str, ...] = option(
        (), "host name the HTTP listener also answers to (Host header; loopback, the domain and "
        "--http-url's host always are), repeatable")
    http_origins: tuple[str, ...] = option(
        (), "browser origin allowed by CORS, repeatable [default: every origin]; the control API "
        "also takes state changes from it")
    http_token: str | None = option(None, "bearer token the control API requires")
    no_websocket: bool = option(False, "no XMPP over WebSocket (RFC 7395) on --http")
    no_bosh: bool = option(False, "no BOSH (XEP-0206) on --http")
    bosh_max_wait: int = option(
        60, "longest a BOSH request is held waiting for stanzas, in seconds (XEP-0124 wait)",
        min=1)
    bosh_max_inactivity: int = option(
        60, "seconds a BOSH session may have no request pending before it ends", min=1)
    bosh_max_pause: int = option(120, "longest BOSH pause a client may ask for, in seconds", min=1)
    bosh_max_requests: int = option(
        2, "BOSH requests held at once per session (XEP-0124 requests; hold is one less)", min=1)
    no_upload: bool = option(False, "no HTTP file upload service (XEP-0363)")
    upload_jid: str | None = option(
        None, "JID of the HTTP file upload service [default: upload.DOMAIN]", domain=True)
    upload_max_size: int = option(
        10485760, "largest file accepted for upload, in bytes (XEP-0363 max-file-size)", min=1)
    upload_quota: int = option(
        104857600, "bytes of uploads kept per account; past it slot requests wait (0: no limit)",
        min=0)
    upload_slot_timeout: int = option(300, "seconds an upload slot's PUT URL stays valid", min=1)
    proxy65: str = option("tcp:0:interface=127.0.0.1", "SOCKS5 bytestream proxy listener "
                          "(XEP-0065) of proxy.DOMAIN; tcp:0 takes a free port, announced to "
                          "clients", endpoint=True)
    proxy65_max_streams: int = option(100, "bytestreams through the proxy at once", min=1)
    proxy65_max_bytes: int = option(
        104857600, "bytes one bytestream may relay (both ways); then both ends are closed "
        "(0: no limit)", min=0, unit="bytes")
    proxy65_timeout: int = option(60, "seconds a proxy connection may wait to be activated",
                                  min=1)
    stun: tuple[str, ...] = option((), "STUN server HOST:PORT announced by XEP-0215, repeatable")
    turn: tuple[str, ...] = option(
        (), "TURN server HOST:PORT:SECRET announced by XEP-0215 with time-limited credentials "
        "from the shared secret (coturn use-auth-secret), repeatable")
    turn_ttl: int = option(86400, "seconds TURN credentials stay valid", min=1)
    registration: str = option(
        "loopback", "in-band registration (XEP-0077): off | loopback (clients on loopback only) | "
        "open", choices=("off", "loopback", "open"))
    registration_limit: int = option(
        10, "in-band registrations per client address per hour", min=1)
    fast_token_lifetime: int = option(
        1814400, "seconds a FAST token (XEP-0484) stays valid (default 21 days, as Prosody)",
        min=1)
    contact_address: tuple[str, ...] = option(
        (), "contact address KIND=URI of the service (XEP-0157; KIND: abuse, admin, feedback, "
        "sales, security, status, support), repeatable")
    outage_status_address: tuple[str, ...] = option(
        (), "URL of a service outage status document (XEP-0455) to advertise instead of the "
        "server's own on the HTTP listener, repeatable", url=True)
    disable: tuple[str, ...] = option(
        (), "switch a feature off: not built, not advertised, its requests answered as a "
        "server without it would (docs/features.md lists the names), repeatable")
    traffic: int = option(
        1000, "stanzas kept by traffic capture (every element in and out of every stream, "
        "passwords masked; GET /api/traffic); 0: off", min=0)
    clock: str = option(
        "real", "the server's clock: real, or manual (time moves only when told: POST "
        "/api/clock/advance, TestServer.advance)", choices=("real", "manual"))
    ready_file: str | None = option(
        None, "once listening, write the bound addresses and ports as JSON to this file (for test "
        "harnesses that start the server with tcp:0)")
    config: str | None = option(None, "TOML file with any of these settings")

    #: Parsed ``contact_address`` values: kind → URIs (XEP-0157).
    contact_addresses: dict[str, tuple[str, ...]] = field(default_factory=dict)
    #: Parsed ``component`` values: domain → secret.
    component_secrets: dict[str, str] = field(default_factory=dict)
    #: Parsed ``user`` values; the demo accounts when no user was given.
    accounts: dict[str, str] = field(default_factory=dict)
    demo_accounts: bool = False
    #: Parsed ``stun`` values: (host, port); ``turn``: (host, port, secret).
    stun_servers: list[tuple[str, int]] = field(default_factory=list)
    turn_servers: list[tuple[str, int, str]] = field(default_factory=list)
    #: What is off: ``--disable`` and the older ``--no-*`` options (``features.ALIASES``).
    disabled: frozenset[str] = frozenset()
    #: The domain these settings are for: the first of ``domains``, or the one a
    #: :meth:`for_domain` copy was made for.
    domain: str = "localhost"
    #: Parsed ``user`` values of every domain (domain → name → password).
    users: dict[str, dict[str, str]] = field(default_factory=dict)
    #: Parsed ``auth``: domain → accounts | anonymous | any-password; ``auth_mode``: this
    #: domain's.
    auth_modes: dict[str, str] = field(default_factory=dict)
    auth_mode: str = "accounts"

    @classmethod
    def build(cls, cli: dict[str, Any] | None = None) -> Settings:
        """Defaults < TOML file (``config``) < command line; then validate."""
        cli = {attr(k): v for k, v in (cli or {}).items() if v is not None}
        known = {attr(o.name): o for o in OPTIONS}
        for plural, name in PLURALS.items():  # domains=[...] reads better in a fixture
            if name in known:
                known[plural] = known[name]
        values: dict[str, Any] = {}
        path = cli.get("config")
        if path:
            values.update(load_toml(path))
        for key, value in cli.items():
            option = known.get(key)
            if option is None or (option.kind == "list" and not value):
                continue  # an empty list on the command line keeps the file's
            if option.kind == "list" and isinstance(value, str):
                value = (value,)  # one value where several may be given
            values[option.field] = value
        settings = cls(**values)
        settings.validate()
        return settings

    def validate(self) -> None:
        """Check every value, raising :class:`ConfigError` with one clear line: the domain
        and the defaults that follow from it, the options that contradict each other
        (``--tls-cert`` alone says so before its file is tried), each option's own checks,
        then the rules between checked values and the parsed lists."""
        self.domains = tuple(dict.fromkeys(bare_domain(d) for d in self.domains))
        if not self.domains:
            raise ConfigError("--domain: at least one domain is needed")
        self.domain = self.domains[0]
        self.push_jid = self.push_jid or f"push.{self.domain}"
        self.muc_jid = self.muc_jid or f"conference.{self.domain}"
        self.upload_jid = self.upload_jid or f"upload.{self.domain}"
        self.pubsub_jid = self.pubsub_jid or f"pubsub.{self.domain}"
        if self.no_http:
            self.http = None
        elif self.http and self.http.startswith("tcp:") and "interface=" not in self.http:
            self.http += ":interface=127.0.0.1"  # loopback unless said otherwise
        if bool(self.tls_cert) != bool(self.tls_key):
            raise ConfigError("--tls-cert and --tls-key must be given together")
        if self.no_tls and self.require_tls:
            raise ConfigError("--no-tls and --require-tls contradict each other")
        if self.no_archive and self.push_on_archive:
            raise ConfigError("--no-archive and --push-on-archive contradict each other "
                              "(pushing on archive needs the archive)")
        for opt in OPTIONS:
            setattr(self, opt.field, opt.check(getattr(self, opt.field)))
        self.disabled = switches.disabled(self)
        if "mam" in self.disabled and self.push_on_archive:
            raise ConfigError("--disable mam and --push-on-archive contradict each other "
                              "(pushing on archive needs the archive)")
        if self.push_virtual_pubsub and not PROFILES[self.push_profile].virtual_pubsub:
            raise ConfigError("--push-virtual-pubsub is MongooseIM's (virtual_pubsub_hosts): "
                              "use it with --push-profile mongooseim")
        if self.push_virtual_pubsub and "appserver" in self.disabled:
            raise ConfigError("--push-virtual-pubsub makes the in-process App Server virtual: "
                              "it cannot go with --no-push-component")
        if "muc" not in self.disabled and self.muc_jid in (self.domain, self.push_jid):
            raise ConfigError(f"--muc-jid {self.muc_jid}: that JID is already served")
        if "pubsub" not in self.disabled and self.pubsub_jid in (
                self.domain, self.push_jid, self.muc_jid, self.upload_jid):
            raise ConfigError(f"--pubsub-jid {self.pubsub_jid}: that JID is already served")
        if self.http_url is not None:
            if not self.http_url.startswith(("http://", "https://")):
                raise ConfigError(f"--http-url {self.http_url!r}: expected http://... or "
                                  "https://...")
            self.http_url = self.http_url.rstrip("/")
        self.http_host = tuple(http_host(name) for name in self.http_host)
        for origin in self.http_origins:
            if not str(origin).startswith(("http://", "https://")) and origin != "*":
                raise ConfigError(f"--http-origins {origin!r}: expected an origin like "
                                  "http://localhost:8000")
        self.stun_servers = [host_port("stun", spec) for spec in self.stun]
        self.turn_servers = [turn(spec) for spec in self.turn]
        self.component_secrets = dict(self._component(spec) for spec in self.component)
        self.contact_addresses = {}
        for spec in self.contact_address:
            kind, uri = contact_address(spec, self.domain)
            self.contact_addresses[kind] = (*self.contact_addresses.get(kind, ()), uri)
        self.users = {domain: {} for domain in self.domains}
        for spec in self.user:
            domain, user, password = account_spec(spec, self.domain, self.domains)
            self.users[domain][user] = password
        self.demo_accounts = not self.user
        self.admin = tuple(dict.fromkeys(admin_jid(spec, self.domains) for spec in self.admin))
        if self.demo_accounts:
            self.users = {domain: dict(DEMO_USERS) for domain in self.domains}
        self.accounts = self.users[self.domain]
        self.auth_modes = switches.auth_modes(self)
        self.auth_mode = self.auth_modes[self.domain]
        for domain in self.domains[1:]:
            for served in ("push_jid", "muc_jid", "upload_jid", "pubsub_jid"):
                if getattr(self, served) == domain:
                    raise ConfigError(f"--domain {domain}: that JID is already served "
                                      f"(--{served.replace('_', '-')})")

    def for_domain(self, domain: str) -> Settings:
        """The settings of one served domain: its accounts and authentication mode, and its
        services at ``push.``, ``conference.``, ``upload.`` and ``pubsub.`` (``--push-jid``,
        ``--muc-jid``, ``--upload-jid`` and ``--pubsub-jid`` name the first domain's)."""
        if domain == self.domain:
            return self
        return replace(self, domain=domain, push_jid=f"push.{domain}",
                       muc_jid=f"conference.{domain}", upload_jid=f"upload.{domain}",
                       pubsub_jid=f"pubsub.{domain}",
                       accounts=self.users[domain], auth_mode=self.auth_modes[domain])

    def _component(self, spec: str) -> tuple[str, str]:
        """``--component NAME:SECRET``: (domain, secret), not a domain served in-process."""
        name, sep, secret = str(spec).partition(":")
        if not sep or not name or not secret:
            raise ConfigError(f"--component {spec!r}: expected NAME:SECRET")
        domain = domain_jid("component", name)
        if domain == self.domain or (domain == self.push_jid
                                     and "appserver" not in self.disabled):
            raise ConfigError(f"--component {name}: that domain is served in-process "
                              "(use --no-push-component to serve the push JID externally)")
        for served, feature in ((self.muc_jid, "muc"), (self.pubsub_jid, "pubsub")):
            if domain == served and feature not in self.disabled:
                raise ConfigError(f"--component {name}: that domain is served in-process "
                                  f"(use --disable {feature} to serve it externally)")
        return domain, secret


OPTIONS: tuple[Option, ...] = options(Settings)


def load_toml(path: str) -> dict[str, Any]:
    """Read a ``--config`` file; keys are option names (dashes or underscores)."""
    try:
        data = tomllib.loads(Path(path).read_text(encoding="utf-8"))
    except OSError as e:
        raise ConfigError(f"--config {path}: {e.strerror or e}") from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as e:
        raise ConfigError(f"--config {path}: not valid TOML ({e})") from None
    known = {attr(o.name): o for o in OPTIONS if o.name != "config"}
    out: dict[str, Any] = {}
    for key, value in data.items():
        name = attr(key)
        option = known.get(PLURALS.get(name, name))
        if option is None:
            raise ConfigError(f"--config {path}: unknown setting {key!r}")
        if option.kind == "list":
            if isinstance(value, str):
                value = [value]
            if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
                raise ConfigError(f"--config {path}: {key} must be a list of strings")
            value = tuple(value)
        elif option.kind == "flag" and not isinstance(value, bool):
            raise ConfigError(f"--config {path}: {key} must be true or false")
        elif option.kind == "int" and (isinstance(value, bool) or not isinstance(value, int)):
            raise ConfigError(f"--config {path}: {key} must be an integer")
        elif option.kind == "str" and not isinstance(value, str):
            raise ConfigError(f"--config {path}: {key} must be a string")
        out[option.field] = value
    return out
