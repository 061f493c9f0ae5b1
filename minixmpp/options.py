"""Options as typed dataclass fields: :func:`option` declares one (default, help and the
checks its value must pass), :func:`options` reads them back as :class:`Option` values,
and :meth:`Option.check` applies the checks. :mod:`minixmpp.config` declares them all.
"""

from __future__ import annotations

import functools
import ipaddress
import re
import typing
from dataclasses import dataclass, field, fields
from typing import TypedDict, TypeVar, Unpack

from twisted.internet import endpoints
from twisted.words.protocols.jabber import jid

from minixmpp import addressing

T = TypeVar("T")


class ConfigError(Exception):
    """A setting is invalid; the message is one line meant for the user."""


def attr(name: str) -> str:
    """Option name to attribute name (``tls-cert`` → ``tls_cert``)."""
    return name.replace("-", "_")


#: An option's kind (command line and TOML) from its field's type.
KINDS: dict[object, str] = {str: "str", str | None: "str", int: "int", bool: "flag",
                            tuple[str, ...]: "list"}


@dataclass(frozen=True)
class Option:
    """One setting: its name (``--name`` on the command line), kind, default and help,
    and the checks :meth:`check` applies to its value."""

    name: str
    kind: str  # "str" | "int" | "flag" | "list"
    default: object
    help: str
    #: the ``Settings`` field it fills (``name`` with underscores unless declared)
    field: str = ""
    min: int | None = None  # an integer, at least this
    unit: str = ""  # of min, for its message ("bytes")
    choices: tuple[str, ...] = ()  # one of these words
    endpoint: bool = False  # a Twisted strports description
    off: bool = False  # with endpoint: or the word "off"
    domain: bool = False  # a domain JID; the value becomes its prepared form
    readable: bool = False  # a file that can be read
    url: bool = False  # an http:// or https:// URL (each, for a list)
    optional: bool = False  # typed ``str | None``: None or "" is unset, not checked

    def check(self, value: object) -> object:
        """``value`` if it passes this option's checks (a domain JID prepared), else
        :class:`ConfigError` with one line."""
        if self.min is not None and (not isinstance(value, int) or value < self.min):
            raise ConfigError(f"--{self.name} must be {_at_least(self.min, self.unit)}")
        if value is None or (self.optional and value == ""):
            return value
        if self.choices and value not in self.choices:
            raise ConfigError(f"--{self.name} must be {_either(self.choices)}, not {value!r}")
        if self.endpoint and not (self.off and value == "off"):
            try:
                endpoints.serverFromString(None, value)
            except (ValueError, TypeError, KeyError) as e:
                alternative = " (or off)" if self.off else ""
                raise ConfigError(f"--{self.name} {value!r} is not a valid endpoint"
                                  f"{alternative}: {e}") from None
        if self.domain:
            return domain_jid(self.name, value)
        if self.readable and not _readable(value):
            raise ConfigError(f"--{self.name} {value}: file not readable")
        for url in (value if isinstance(value, tuple | list) else (value,)) if self.url else ():
            if not str(url).startswith(("http://", "https://")):
                raise ConfigError(f"--{self.name} {url!r}: expected http://... or https://...")
        return value


class Checks(TypedDict, total=False):
    """The checks an :func:`option` may declare (see :class:`Option`)."""

    min: int
    unit: str
    choices: tuple[str, ...]
    endpoint: bool
    off: bool
    domain: bool
    readable: bool
    url: bool


def option(default: T, help: str, *, cli: str | None = None, **checks: Unpack[Checks]) -> T:
    """Declare a settings field as an option: ``--name`` is the field's name with dashes
    (or ``cli``), its kind comes from the field's type (:data:`KINDS`), the rest is given
    here."""
    return field(default=default, metadata={"help": help, "checks": checks, "cli": cli})


def options(cls: type) -> tuple[Option, ...]:
    """The fields of the dataclass ``cls`` declared with :func:`option`, in order."""
    hints = typing.get_type_hints(cls)
    return tuple(
        Option(f.metadata["cli"] or f.name.replace("_", "-"), KINDS[hints[f.name]], f.default,
               f.metadata["help"], f.name, optional=hints[f.name] == str | None,
               **f.metadata["checks"])
        for f in fields(cls) if "checks" in f.metadata)


def domain_jid(option: str, value: object) -> str:
    """The prepared domain of the domain JID ``value`` given for ``--option``."""
    domain = _domain(value) if isinstance(value, str) else None
    if domain is None:
        raise ConfigError(f"--{option} {value!r} is not a valid domain JID")
    return domain


def _at_least(minimum: int, unit: str) -> str:
    if minimum == 0:
        return "0 or more"
    if minimum == 1:
        return "a positive integer"
    return f"an integer of at least {minimum} {unit}".rstrip()


def _either(choices: tuple[str, ...]) -> str:
    """``a, b or c``; a longer list as ``one of a, b, c, d``."""
    if len(choices) > 3:
        return f"one of {', '.join(choices)}"
    *first, last = choices
    return f"{', '.join(first)} or {last}" if first else last


@functools.lru_cache(maxsize=256)
def _domain(value: str) -> str | None:
    """The prepared domain of a domain JID, or None (stringprep is slow: cached)."""
    try:
        parsed = addressing.parse(value)
    except jid.InvalidFormat:
        return None
    if parsed.user or parsed.resource or not parsed.host:
        return None
    return parsed.host


def _readable(path: object) -> bool:
    if not isinstance(path, str):
        return False
    try:
        with open(path, "rb") as f:
            f.read(1)
    except OSError:
        return False
    return True


# -- values of one option ----------------------------------------------------------------

def bare_domain(value: str) -> str:
    """``--domain``: the prepared host of a bare domain."""
    try:
        domain = addressing.parse(value)
    except jid.InvalidFormat as e:
        raise ConfigError(f"--domain {value!r} is not a valid domain: {e}") from None
    if domain.user or domain.resource or not domain.host:
        raise ConfigError(f"--domain {value!r} must be a bare domain like 'localhost'")
    return domain.host


def loopback(endpoint: str) -> bool:
    """Does a strports description listen on loopback only (``interface=`` a loopback
    address, or a UNIX socket)?"""
    if endpoint.startswith("unix:"):
        return True
    found = re.search(r"interface=((?:\\.|[^:])*)", endpoint)  # a colon escaped as \\:
    interface = found.group(1).replace("\\", "").strip("[]") if found else ""
    if interface == "localhost":
        return True
    try:
        return ipaddress.ip_address(interface).is_loopback
    except ValueError:
        return False


def host_port(option: str, spec: str) -> tuple[str, int]:
    host, sep, port = str(spec).rpartition(":")
    if not sep or not host or not port.isdigit() or not 0 < int(port) < 65536:
        raise ConfigError(f"--{option} {spec!r}: expected HOST:PORT")
    return host.strip("[]"), int(port)


def turn(spec: str) -> tuple[str, int, str]:
    """``--turn HOST:PORT:SECRET``."""
    host, sep, secret = str(spec).rpartition(":")
    if not sep or not secret or not host:
        raise ConfigError(f"--turn {spec!r}: expected HOST:PORT:SECRET")
    return (*host_port("turn", host), secret)


#: The kinds of ``--contact-address`` (XEP-0157).
CONTACT_KINDS = ("abuse", "admin", "feedback", "sales", "security", "status", "support")


def contact_address(spec: str, domain: str) -> tuple[str, str]:
    """``--contact-address KIND=URI``: (kind, URI) (XEP-0157)."""
    kind, sep, uri = str(spec).partition("=")
    if not sep or kind not in CONTACT_KINDS or ":" not in uri:
        raise ConfigError(f"--contact-address {spec!r}: expected KIND=URI with KIND one "
                          f"of {', '.join(CONTACT_KINDS)} (e.g. admin=xmpp:admin@{domain})")
    return kind, uri


def http_host(value: str) -> str:
    """``--http-host NAME``: a host name or address (IPv6 with or without brackets), without
    scheme or port; its canonical form (``guard.host_name``)."""
    from minixmpp.web.guard import host_name

    text = str(value).strip()
    bare = text[1:-1] if text.startswith("[") and text.endswith("]") else text
    name = host_name(f"[{bare}]" if ":" in bare else bare)  # a port is not a host
    if name is None:
        raise ConfigError(f"--http-host {value!r}: expected a host name like xmpp.example "
                          "or an address, without scheme or port")
    return name


def admin_jid(spec: str, domains: tuple[str, ...]) -> str:
    """``--admin JID``: the prepared bare JID of an account on a served domain (its
    domain's administrator)."""
    try:
        account = addressing.parse(str(spec).strip())
    except jid.InvalidFormat:
        account = None
    if account is None or account.user is None or account.resource is not None \
            or account.host not in domains:
        raise ConfigError(f"--admin {spec!r}: expected the bare JID of an account on "
                          f"{' or '.join(domains)} (like admin@{domains[0]})")
    return account.userhost()


def account_spec(spec: str, default: str, domains: tuple[str, ...]
                 ) -> tuple[str, str, str]:
    """``--user NAME:PASSWORD`` or ``NAME@DOMAIN:PASSWORD``: (domain, prepared
    username, password); ``default`` is the domain of a bare NAME."""
    name, sep, password = str(spec).partition(":")
    if not sep or not name or not password:
        raise ConfigError(f"--user {spec!r}: expected NAME:PASSWORD")
    name, at, domain = name.partition("@")
    if at and not domain:
        raise ConfigError(f"--user {spec!r}: {name + at!r} is not a valid username")
    domain = domain_jid("user", domain) if at else default
    if domain not in domains:
        raise ConfigError(f"--user {spec!r}: {domain} is not a served domain "
                          f"({', '.join(domains)})")
    try:
        account = addressing.make(name, domain)
    except jid.InvalidFormat as e:
        raise ConfigError(f"--user {spec!r}: {name!r} is not a valid username ({e})"
                          ) from None
    assert account.user is not None  # a name was given
    from minixmpp.storage.interfaces import InvalidPassword
    from minixmpp.storage.memory import check_password

    try:
        check_password(password)
    except InvalidPassword as e:
        raise ConfigError(f"--user {spec!r}: the password is not valid ({e})") from None
    return domain, account.user, password
