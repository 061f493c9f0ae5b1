"""Settings: one model for the command line and the TOML file (the command line wins).

Every option is declared once, in :data:`OPTIONS`: :class:`Settings` gets one field
per option from it (with its default), ``tap.Options`` builds the twistd command line
and ``--help`` from it, :func:`load_toml` accepts the same names in a ``--config`` file
(``c2s = "tcp:5222"``, ``user = ["alice:secret"]``, dashes or underscores alike), and a
test checks the README's option table against it. Options that contradict each other
are refused with one line.
"""

from __future__ import annotations

import functools
import tomllib
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import TYPE_CHECKING, Any

from twisted.internet import endpoints
from twisted.words.protocols.jabber import jid

from minixmpp import addressing


class ConfigError(Exception):
    """A setting is invalid; the message is one line meant for the user."""


@dataclass(frozen=True)
class Option:
    """One setting: its name (``--name`` on the command line), kind, default and help."""

    name: str
    kind: str  # "str" | "int" | "flag" | "list"
    default: Any
    help: str


OPTIONS: tuple[Option, ...] = (
    Option("domain", "str", "localhost", "XMPP domain served (the part after @)"),
    Option("c2s", "str", "tcp:5222:interface=127.0.0.1",
           "client-to-server listening endpoint (Twisted strports description)"),
    Option("c2s-tls", "str", "tcp:5223:interface=127.0.0.1",
           "Direct TLS client listener (XEP-0368; TLS from the first byte, ALPN "
           "xmpp-client), or off"),
    Option("user", "list", (),
           "account NAME:PASSWORD, repeatable; without any, demo accounts are created"),
    Option("tls-cert", "str", None,
           "PEM certificate for STARTTLS (default: self-signed, generated)"),
    Option("tls-key", "str", None, "PEM private key for --tls-cert"),
    Option("require-tls", "flag", False, "refuse authentication before STARTTLS"),
    Option("no-tls", "flag", False, "do not offer STARTTLS at all"),
    Option("plain-without-tls", "str", "loopback",
           "offer SASL PLAIN on unencrypted streams: loopback | always | never"),
    Option("log-stanzas", "flag", False,
           "log every stanza in and out, one line each (passwords and SASL masked)"),
    Option("max-stanza-size", "int", 262144,
           "largest stanza accepted, in bytes (larger: policy-violation stream error)"),
    Option("max-stanza-depth", "int", 100,
           "deepest element nesting in a stanza (deeper: policy-violation)"),
    Option("max-connections", "int", 20000,
           "client connections at once; more are closed with policy-violation"),
    Option("max-connections-per-ip", "int", 0,
           "client connections at once from one address (0: no limit)"),
    Option("auth-timeout", "int", 30,
           "seconds from connecting to a bound resource (else connection-timeout)"),
    Option("idle-timeout", "int", 0,
           "close a client stream silent for this many seconds (0: never)"),
    Option("auth-fail-limit", "int", 5,
           "failed authentications per address per minute before replies slow down"),
    Option("auth-fail-delay", "int", 2,
           "seconds each further authentication failure is delayed"),
    Option("max-send-buffer", "int", 4194304,
           "bytes queued for a client that does not read; beyond it the connection "
           "is dropped (a resumable session hibernates)"),
    Option("max-components", "int", 100, "external components connected at once"),
    Option("data-dir", "str", None,
           "keep accounts, rosters, offline messages, archive, push registrations, PEP data "
           "(nodes, items, private XML, vCards) and the generated certificate in this "
           "directory (SQLite) [default: memory only]"),
    Option("max-offline", "int", 1000,
           "offline messages kept per account (XEP-0160); more bounce service-unavailable"),
    Option("no-archive", "flag", False, "do not archive messages (XEP-0313 off)"),
    Option("max-archive", "int", 10000,
           "archived messages kept per account (XEP-0313); the oldest go first"),
    Option("pep-max-items", "int", 256,
           "items kept per PEP node (XEP-0163); pubsub#max_items 'max' means this"),
    Option("pep-max-nodes", "int", 256, "PEP nodes per account; creating more is refused"),
    Option("pep-max-item-size", "int", 131072,
           "bytes of one PEP item's payload; larger: not-acceptable/payload-too-big"),
    Option("push-on-archive", "flag", False,
           "also push when a message is archived for a registration whose session is "
           "not live (Prosody/ejabberd behaviour; makes AWAY/XA moot)"),
    Option("push-jid", "str", None,
           "JID of the in-process push App Server [default: push.DOMAIN]"),
    Option("no-push-component", "flag", False, "do not run the in-process push App Server"),
    Option("push-strict", "flag", False,
           "reject XEP-0357 enable without node (bad-request), as Tigase/ejabberd do"),
    Option("push-privacy", "flag", False,
           "leave sender and body out of push notifications (placeholder body instead)"),
    Option("push-max-registrations", "int", 5,
           "push registrations per account; enabling one more drops the oldest"),
    Option("push-max-errors", "int", 16,
           "transient App Server errors in a row before a registration is disabled"),
    Option("push-timeout", "int", 20,
           "seconds to wait for an App Server's reply (no reply counts as transient)"),
    Option("muc-jid", "str", None,
           "JID of the in-process group chat service (XEP-0045) [default: conference.DOMAIN]"),
    Option("no-muc", "flag", False, "do not run the group chat service"),
    Option("muc-max-rooms", "int", 1000, "rooms on the group chat service; more are "
           "refused (not-allowed)"),
    Option("muc-max-occupants", "int", 200,
           "occupants per room (a room's own max users is at most this)"),
    Option("muc-max-history", "int", 50,
           "group chat messages kept per room for the history sent on join"),
    Option("muc-rate", "int", 10, "groupchat messages per second per occupant (more: "
           "policy-violation; 0: no limit)"),
    Option("resume-timeout", "int", 300,
           "seconds a dropped stream-management session stays resumable (XEP-0198)"),
    Option("resume-timeout-push", "int", 3600,
           "the same while the account has push registrations (as Prosody extends it)"),
    Option("push-csi-inactive", "flag", False,
           "treat a CSI-inactive session (XEP-0352) like a hibernated one for push"),
    Option("push-profile", "str", "minixmpp",
           "push behaviour of: minixmpp | tigase | prosody | ejabberd | mongooseim "
           "(docs/push.md, Profiles)"),
    Option("push-groupchat", "str", "never",
           "groupchat messages to the account push: never | mentions | always (for "
           "registrations without Tigase's groupchat filter)"),
    Option("push-quiet", "flag", False,
           "no log line per publish or per in-process notification (enable, disable, "
           "errors and auto-disable are still logged)"),
    Option("components", "str", "tcp:5347:interface=127.0.0.1",
           "XEP-0114 external component listener (used when --component is given)"),
    Option("component", "list", (),
           "external component NAME:SECRET (XEP-0114), repeatable"),
    Option("http", "str", "tcp:5280:interface=127.0.0.1",
           "HTTP endpoint: control API, status page, file upload, host-meta, WebSocket, "
           "BOSH (loopback only unless interface= is given; ssl: for HTTPS)"),
    Option("no-http", "flag", False, "no HTTP listener (no upload, no web transports)"),
    Option("http-url", "str", None,
           "base URL clients reach the HTTP listener at (behind a proxy) "
           "[default: from the listener]"),
    Option("http-origins", "list", (),
           "browser origin allowed by CORS, repeatable [default: every origin]"),
    Option("http-token", "str", None, "bearer token the control API requires"),
    Option("no-websocket", "flag", False, "no XMPP over WebSocket (RFC 7395) on --http"),
    Option("no-bosh", "flag", False, "no BOSH (XEP-0206) on --http"),
    Option("bosh-max-wait", "int", 60,
           "longest a BOSH request is held waiting for stanzas, in seconds (XEP-0124 wait)"),
    Option("bosh-max-inactivity", "int", 60,
           "seconds a BOSH session may have no request pending before it ends"),
    Option("bosh-max-pause", "int", 120, "longest BOSH pause a client may ask for, in seconds"),
    Option("bosh-max-requests", "int", 2,
           "BOSH requests held at once per session (XEP-0124 requests; hold is one less)"),
    Option("no-upload", "flag", False, "no HTTP file upload service (XEP-0363)"),
    Option("upload-jid", "str", None,
           "JID of the HTTP file upload service [default: upload.DOMAIN]"),
    Option("upload-max-size", "int", 10485760,
           "largest file accepted for upload, in bytes (XEP-0363 max-file-size)"),
    Option("upload-quota", "int", 104857600,
           "bytes of uploads kept per account; past it slot requests wait (0: no limit)"),
    Option("upload-slot-timeout", "int", 300,
           "seconds an upload slot's PUT URL stays valid"),
    Option("stun", "list", (),
           "STUN server HOST:PORT announced by XEP-0215, repeatable"),
    Option("turn", "list", (),
           "TURN server HOST:PORT:SECRET announced by XEP-0215 with time-limited "
           "credentials from the shared secret (coturn use-auth-secret), repeatable"),
    Option("turn-ttl", "int", 86400, "seconds TURN credentials stay valid"),
    Option("registration", "str", "loopback",
           "in-band registration (XEP-0077): off | loopback (clients on loopback only) "
           "| open"),
    Option("registration-limit", "int", 10,
           "in-band registrations per client address per hour"),
    Option("fast-token-lifetime", "int", 1814400,
           "seconds a FAST token (XEP-0484) stays valid (default 21 days, as Prosody)"),
    Option("contact-address", "list", (),
           "contact address KIND=URI of the service (XEP-0157; KIND: abuse, admin, "
           "feedback, sales, security, status, support), repeatable"),
    Option("ready-file", "str", None,
           "once listening, write the bound addresses and ports as JSON to this file "
           "(for test harnesses that start the server with tcp:0)"),
    Option("config", "str", None, "TOML file with any of these settings"),
)

DEMO_USERS: tuple[tuple[str, str], ...] = (("alice", "alice"), ("bob", "bob"))


def attr(name: str) -> str:
    """Option name to attribute name (``tls-cert`` → ``tls_cert``)."""
    return name.replace("-", "_")


#: The Python type of each option kind (for the generated ``Settings`` fields).
KIND_TYPES = {"str": "str | None", "int": "int", "flag": "bool", "list": "tuple[str, ...]"}


def _option_fields(cls: type) -> type:
    """Make every option of :data:`OPTIONS` a field of ``cls`` with its default (the
    one declaration), ahead of the fields ``cls`` declares itself; then a dataclass."""
    own = dict(cls.__dict__.get("__annotations__", {}))
    annotations: dict[str, Any] = {}
    for option in OPTIONS:
        name = attr(option.name)
        annotations[name] = KIND_TYPES[option.kind]
        setattr(cls, name, option.default)
    annotations.update(own)
    cls.__annotations__ = annotations
    return dataclass(cls)


@_option_fields
class Settings:
    """Validated settings for one :class:`minixmpp.server.Server`: one attribute per
    option of :data:`OPTIONS` (``tls-cert`` → ``tls_cert``), plus the parsed values."""

    if TYPE_CHECKING:  # for type checkers only; the fields come from OPTIONS
        def __getattr__(self, name: str) -> Any: ...

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

    @classmethod
    def build(cls, cli: dict[str, Any] | None = None) -> Settings:
        """Defaults < TOML file (``config``) < command line; then validate."""
        cli = {attr(k): v for k, v in (cli or {}).items() if v is not None}
        values: dict[str, Any] = {}
        path = cli.get("config")
        if path:
            values.update(load_toml(path))
        for key, value in cli.items():
            if key in ("user", "component", "http_origins", "stun", "turn",
                       "contact_address") and not value:
                continue
            values[key] = value
        names = {f.name for f in fields(cls)} - {"accounts", "demo_accounts",
                                                  "component_secrets", "stun_servers",
                                                  "turn_servers", "contact_addresses"}
        settings = cls(**{k: v for k, v in values.items() if k in names})
        settings.validate()
        return settings

    @staticmethod
    def _domain_option(option: str, value: str) -> str:
        domain = _domain(value)
        if domain is None:
            raise ConfigError(f"--{option} {value!r} is not a valid domain JID")
        return domain

    def validate(self) -> None:
        """Check every value, raising :class:`ConfigError` with one clear line."""
        try:
            domain = jid.internJID(self.domain)
        except jid.InvalidFormat as e:
            raise ConfigError(f"--domain {self.domain!r} is not a valid domain: {e}") from None
        if domain.user or domain.resource or not domain.host:
            raise ConfigError(f"--domain {self.domain!r} must be a bare domain like 'localhost'")
        self.domain = domain.host
        try:
            endpoints.serverFromString(None, self.c2s)
        except (ValueError, TypeError, KeyError) as e:
            raise ConfigError(f"--c2s {self.c2s!r} is not a valid endpoint: {e}") from None
        if self.c2s_tls != "off":
            try:
                endpoints.serverFromString(None, self.c2s_tls)
            except (ValueError, TypeError, KeyError) as e:
                raise ConfigError(f"--c2s-tls {self.c2s_tls!r} is not a valid endpoint (or "
                                  f"off): {e}") from None
        if self.plain_without_tls not in ("loopback", "always", "never"):
            raise ConfigError(
                f"--plain-without-tls must be loopback, always or never, not "
                f"{self.plain_without_tls!r}")
        if self.registration not in ("off", "loopback", "open"):
            raise ConfigError(f"--registration must be off, loopback or open, not "
                              f"{self.registration!r}")
        if not isinstance(self.registration_limit, int) or self.registration_limit < 1:
            raise ConfigError("--registration-limit must be a positive integer")
        if bool(self.tls_cert) != bool(self.tls_key):
            raise ConfigError("--tls-cert and --tls-key must be given together")
        if self.no_tls and self.require_tls:
            raise ConfigError("--no-tls and --require-tls contradict each other")
        if self.no_archive and self.push_on_archive:
            raise ConfigError("--no-archive and --push-on-archive contradict each other "
                              "(pushing on archive needs the archive)")
        for name in ("tls_cert", "tls_key"):
            path = getattr(self, name)
            if path and not _readable(path):
                raise ConfigError(f"--{name.replace('_', '-')} {path}: file not readable")
        if not isinstance(self.max_stanza_size, int) or self.max_stanza_size < 1024:
            raise ConfigError("--max-stanza-size must be an integer of at least 1024 bytes")
        for name in ("fast_token_lifetime", "max_offline", "max_archive", "pep_max_items",
                     "pep_max_nodes", "pep_max_item_size", "push_max_registrations",
                     "push_max_errors",
                     "push_timeout", "resume_timeout", "resume_timeout_push"):
            value = getattr(self, name)
            if not isinstance(value, int) or value < 1:
                raise ConfigError(f"--{name.replace('_', '-')} must be a positive integer")
        for name in ("muc_max_rooms", "muc_max_occupants", "muc_max_history"):
            value = getattr(self, name)
            if not isinstance(value, int) or value < 1:
                raise ConfigError(f"--{name.replace('_', '-')} must be a positive integer")
        for name in ("max_connections_per_ip", "idle_timeout", "auth_fail_delay", "muc_rate"):
            value = getattr(self, name)
            if not isinstance(value, int) or value < 0:
                raise ConfigError(f"--{name.replace('_', '-')} must be 0 or more")
        from minixmpp.push.profiles import PROFILES

        if self.push_profile not in PROFILES:
            raise ConfigError(f"--push-profile must be one of {', '.join(PROFILES)}, not "
                              f"{self.push_profile!r}")
        if self.push_groupchat not in ("never", "mentions", "always"):
            raise ConfigError("--push-groupchat must be never, mentions or always, not "
                              f"{self.push_groupchat!r}")
        self.push_jid = self._domain_option("push-jid", self.push_jid or f"push.{self.domain}")
        self.muc_jid = self._domain_option("muc-jid", self.muc_jid or f"conference.{self.domain}")
        if not self.no_muc and self.muc_jid in (self.domain, self.push_jid):
            raise ConfigError(f"--muc-jid {self.muc_jid}: that JID is already served")
        try:
            endpoints.serverFromString(None, self.components)
        except (ValueError, TypeError, KeyError) as e:
            raise ConfigError(f"--components {self.components!r} is not a valid endpoint: {e}"
                              ) from None
        if self.no_http:
            self.http = None
        if self.http:
            if self.http.startswith("tcp:") and "interface=" not in self.http:
                self.http += ":interface=127.0.0.1"  # loopback unless said otherwise
            try:
                endpoints.serverFromString(None, self.http)
            except (ValueError, TypeError, KeyError) as e:
                raise ConfigError(f"--http {self.http!r} is not a valid endpoint: {e}"
                                  ) from None
        for name in ("upload_max_size", "upload_slot_timeout", "turn_ttl", "bosh_max_wait",
                     "bosh_max_inactivity", "bosh_max_pause", "bosh_max_requests"):
            value = getattr(self, name)
            if not isinstance(value, int) or value < 1:
                raise ConfigError(f"--{name.replace('_', '-')} must be a positive integer")
        if not isinstance(self.upload_quota, int) or self.upload_quota < 0:
            raise ConfigError("--upload-quota must be 0 or more")
        self.upload_jid = self._domain_option("upload-jid",
                                              self.upload_jid or f"upload.{self.domain}")
        if self.http_url is not None:
            if not self.http_url.startswith(("http://", "https://")):
                raise ConfigError(f"--http-url {self.http_url!r}: expected http://... or "
                                  "https://...")
            self.http_url = self.http_url.rstrip("/")
        for origin in self.http_origins:
            if not str(origin).startswith(("http://", "https://")) and origin != "*":
                raise ConfigError(f"--http-origins {origin!r}: expected an origin like "
                                  "http://localhost:8000")
        self.stun_servers = [_host_port("stun", spec) for spec in self.stun]
        self.turn_servers = []
        for spec in self.turn:
            host, sep, secret = str(spec).rpartition(":")
            if not sep or not secret or not host:
                raise ConfigError(f"--turn {spec!r}: expected HOST:PORT:SECRET")
            self.turn_servers.append((*_host_port("turn", host), secret))
        self.component_secrets = {}
        for spec in self.component:
            name, sep, secret = str(spec).partition(":")
            if not sep or not name or not secret:
                raise ConfigError(f"--component {spec!r}: expected NAME:SECRET")
            domain = self._domain_option("component", name)
            if domain == self.domain or (domain == self.push_jid and not self.no_push_component):
                raise ConfigError(f"--component {name}: that domain is served in-process "
                                  "(use --no-push-component to serve the push JID externally)")
            if domain == self.muc_jid and not self.no_muc:
                raise ConfigError(f"--component {name}: that domain is served in-process "
                                  "(use --no-muc to serve the group chat JID externally)")
            self.component_secrets[domain] = secret
        self.contact_addresses = {}
        kinds = ("abuse", "admin", "feedback", "sales", "security", "status", "support")
        for spec in self.contact_address:
            kind, sep, uri = str(spec).partition("=")
            if not sep or kind not in kinds or ":" not in uri:
                raise ConfigError(f"--contact-address {spec!r}: expected KIND=URI with KIND "
                                  f"one of {', '.join(kinds)} (e.g. admin=xmpp:admin@"
                                  f"{self.domain})")
            self.contact_addresses[kind] = (*self.contact_addresses.get(kind, ()), uri)
        self.accounts = {}
        for spec in self.user:
            name, sep, password = str(spec).partition(":")
            if not sep or not name or not password:
                raise ConfigError(f"--user {spec!r}: expected NAME:PASSWORD")
            try:
                account = addressing.make(name, self.domain)
            except jid.InvalidFormat as e:
                raise ConfigError(f"--user {spec!r}: {name!r} is not a valid username ({e})"
                                  ) from None
            self.accounts[account.user] = password
        self.demo_accounts = not self.accounts
        if self.demo_accounts:
            self.accounts = dict(DEMO_USERS)


@functools.lru_cache(maxsize=256)
def _domain(value: str) -> str | None:
    """The prepared domain of a domain JID, or None (stringprep is slow: cached)."""
    try:
        parsed = jid.internJID(value)
    except jid.InvalidFormat:
        return None
    if parsed.user or parsed.resource or not parsed.host:
        return None
    return parsed.host


def _host_port(option: str, spec: str) -> tuple[str, int]:
    host, sep, port = str(spec).rpartition(":")
    if not sep or not host or not port.isdigit() or not 0 < int(port) < 65536:
        raise ConfigError(f"--{option} {spec!r}: expected HOST:PORT")
    return host.strip("[]"), int(port)


def _readable(path: str) -> bool:
    try:
        with open(path, "rb") as f:
            f.read(1)
    except OSError:
        return False
    return True


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
        if name == "users":
            name = "user"
        option = known.get(name)
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
        out[name] = value
    return out
