"""Which requests the HTTP site answers, against DNS rebinding and cross-site requests.

A web page can make the browser send requests to a loopback listener: after DNS
rebinding (its own name now resolving to 127.0.0.1) it even reads the answers, and a
"simple" cross-site POST changes state without reading anything. Three rules, in the
manner of Jupyter's ``check_host``/``check_origin``, leave curl, urllib and the status
page as they were (``docs/api.md``, ``SECURITY.md``):

- **Host**, every request on the site: the host the client asked for names this
  listener: a loopback address, the address the connection came in on, ``localhost``,
  the domain, ``--http-url``'s host or an ``--http-host``; any port. Else 403.
- **Origin**, control API requests other than GET, HEAD and OPTIONS: none, the page's
  own (its host is the Host asked for, or it is ``--http-url``'s origin), or one of
  ``--http-origins`` (``*`` does not count). Else 403.
- **Content-Type**, the same requests: ``application/json``; without an Origin or from
  the page's own, also no type on an empty body, and no type or
  ``application/x-www-form-urlencoded`` (curl ``-d``, urllib) on a body. Else 415.
"""

from __future__ import annotations

import ipaddress
import json
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from twisted.logger import Logger
from twisted.web import resource, server

if TYPE_CHECKING:
    from minixmpp.config import Settings

Address = ipaddress.IPv4Address | ipaddress.IPv6Address

#: methods that change nothing: no Origin or Content-Type rule
SAFE = frozenset({b"GET", b"HEAD", b"OPTIONS"})
JSON = "application/json"
#: what a tool puts on a body by default; an HTML form's is percent-encoded, never JSON
TOOL_DEFAULT = "application/x-www-form-urlencoded"


def host_name(value: str) -> str | None:
    """The host of a Host header value or an option, lower case, without the port or
    IPv6 brackets, an address in its canonical form; None when it is not one."""
    value = value.strip().lower()
    address = _address(value)  # an address as it is (an IPv6 one without brackets)
    if address is not None:
        return str(address)
    if value.startswith("["):
        host, bracket, rest = value[1:].partition("]")
        if not bracket or _address(host) is None:
            return None  # brackets hold an IPv6 address only
    else:
        host, colon, port = value.partition(":")
        rest = colon + port
    if rest and not (rest[:1] == ":" and rest[1:].isdigit()):
        return None
    address = _address(host)
    if address is not None:
        return str(address)
    if not host or not all(c.isascii() and (c.isalnum() or c in "-._") for c in host):
        return None
    return host


def _address(host: str) -> Address | None:
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return None
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped
    return address


@dataclass(frozen=True)
class Rules:
    """The three rules, from the settings."""

    #: host names and addresses the site answers besides loopback and the local address
    names: frozenset[str]
    #: other origins that may change state (``--http-origins``, without ``*``)
    origins: frozenset[str]
    #: ``--http-url``'s origin (a proxy may pass on another Host), or None
    url_origin: str | None

    @classmethod
    def from_settings(cls, settings: Settings) -> Rules:
        names = {"localhost", *settings.domains, *settings.http_host}
        url_origin = None
        if settings.http_url:
            url = urlsplit(settings.http_url)
            names.add(url.hostname or "")
            url_origin = f"{url.scheme}://{url.netloc}".lower()
        return cls(frozenset(n for n in map(host_name, names) if n),
                   frozenset(o.rstrip("/").lower() for o in settings.http_origins
                             if o != "*"),
                   url_origin)

    def host(self, request: server.Request) -> tuple[int, str] | None:
        """Why the site does not answer this request (status, message), or None."""
        hosts = request.requestHeaders.getRawHeaders(b"host") or []
        if len(hosts) > 1:
            return 400, "more than one Host header"
        if not hosts:
            return None  # not a browser (HTTP/1.0); browsers always send one
        raw = hosts[0].decode("latin-1")
        name = host_name(raw)
        if name is None:
            return 400, f"Host {raw!r} is not a host name"
        if name in self.names:
            return None
        address = _address(name)
        local = _address(getattr(request.getHost(), "host", ""))
        if address is not None and (address.is_loopback or address == local):
            return None
        return 403, (f"Host {raw!r} does not name this server (DNS rebinding?); "
                     "add the name with --http-host")

    def cross_site(self, request: server.Request) -> tuple[int, str] | None:
        """Why the control API refuses this state-changing request, or None."""
        if request.method in SAFE:
            return None
        origins = request.requestHeaders.getRawHeaders(b"origin") or []
        origin = origins[0].decode("latin-1").rstrip("/").lower() if origins else None
        own_or_tool = origin is None or self._own(request, origin)
        if len(origins) > 1 or not (own_or_tool or origin in self.origins):
            return 403, (f"Origin {origin!r} may not change this server (same origin or "
                         "--http-origins only)")
        raw = request.getHeader(b"content-type")
        ctype = raw.decode("latin-1").split(";")[0].strip().lower() if raw else None
        if ctype == JSON:
            return None
        if own_or_tool and ctype in ((None, TOOL_DEFAULT) if _has_body(request) else (None,)):
            return None
        what = f"Content-Type {ctype}" if ctype else "no Content-Type"
        return 415, f"{what} is not accepted on a state change: send application/json"

    def _own(self, request: server.Request, origin: str) -> bool:
        """The page's own origin: the host it asked for, or ``--http-url``'s origin."""
        host = (request.getHeader(b"host") or b"").decode("latin-1").lower()
        return (bool(host) and urlsplit(origin).netloc == host) or origin == self.url_origin


def _has_body(request: server.Request) -> bool:
    content = request.content
    if getattr(request, "too_large", False):
        return True
    if content is None:
        return False
    here = content.tell()
    content.seek(0, 2)
    size = content.tell()
    content.seek(here)
    return size > 0


def _log_refusal(log: Logger, request: server.Request, why: str) -> None:
    log.info("HTTP: refused {method} {uri}: {why}", method=request.method.decode("latin-1"),
             uri=request.uri.decode("latin-1"), why=why)


class Refusal(resource.Resource):
    """A JSON error (``{"error": ...}``) for whatever path was asked."""

    isLeaf = True

    def __init__(self, status: int, message: str) -> None:
        super().__init__()
        self.status = status
        self.message = message

    def render(self, request: server.Request) -> bytes:
        request.setResponseCode(self.status)
        request.setHeader(b"content-type", b"application/json; charset=utf-8")
        request.setHeader(b"cache-control", b"no-store")
        return json.dumps({"error": self.message}).encode() + b"\n"


class HostCheck(resource.Resource):
    """The site's root: only a Host that names this listener reaches ``root``."""

    log = Logger()

    def __init__(self, root: resource.Resource, rules: Rules) -> None:
        super().__init__()
        self.root = root
        self.rules = rules

    def getChildWithDefault(self, path: bytes, request: server.Request) -> Any:
        refused = self.rules.host(request)
        if refused is not None:
            _log_refusal(self.log, request, refused[1])
            return Refusal(*refused)
        return self.root.getChildWithDefault(path, request)


class CrossSiteCheck(resource.Resource):
    """Around the control API: state changes only from where ``Rules.cross_site`` says."""

    isLeaf = True
    log = Logger()

    def __init__(self, api: resource.Resource, rules: Rules) -> None:
        super().__init__()
        self.api = api
        self.rules = rules

    def render(self, request: server.Request) -> Any:
        refused = self.rules.cross_site(request)
        if refused is not None:
            _log_refusal(self.log, request, refused[1])
            return Refusal(*refused).render(request)
        return self.api.render(request)
