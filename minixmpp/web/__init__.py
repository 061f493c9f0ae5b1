"""HTTP: the JSON control API under ``/api``, the live status page at ``/``, host-meta
(XEP-0156), and the resources the features mount (``Feature.mounts``): ``/upload``
(XEP-0363), ``/xmpp-websocket`` (RFC 7395), ``/http-bind`` (XEP-0206)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from twisted.web import resource, server

from minixmpp.web.api import ControlAPI
from minixmpp.web.bounded import bounded_request
from minixmpp.web.cors import CORS
from minixmpp.web.guard import CrossSiteCheck, HostCheck, Rules
from minixmpp.web.hostmeta import HostMeta
from minixmpp.web.status import StatusPage

if TYPE_CHECKING:
    from minixmpp.config import Settings
    from minixmpp.view import ServerView


@dataclass(frozen=True)
class WebContext:
    """What a feature's HTTP resource may use (``Mount.make``)."""

    settings: Settings
    reactor: Any
    cors: CORS
    #: the listener is HTTPS (``ssl:``): streams over it count as encrypted
    secure: bool
    #: the c2s factory for framed transports (``c2s/framed.py``)
    c2s: Any


@dataclass(frozen=True)
class Site:
    """The built site and what it mounted: ``links()`` are the host-meta links."""

    factory: server.Site
    paths: dict[str, str]
    links: Callable[[], list[tuple[str, str]]]


def site(views: Sequence[ServerView], c2s: Any) -> Site:
    """The HTTP site for ``--http``: the API and status page, and every feature's mounts,
    for every served domain (``views``, the first domain's first; where two domains'
    features mount the same path, as the web transports that serve every domain do, the
    first domain's is mounted). The whole site answers only a Host that names it, the API
    changes state only for same-origin or tool requests (``guard.py``)."""
    view = views[0]
    settings = view.settings
    rules = Rules.from_settings(settings)
    root = resource.Resource()
    status = StatusPage(", ".join(settings.domains))
    root.putChild(b"", status)
    root.putChild(b"status", status)
    root.putChild(b"api", CrossSiteCheck(ControlAPI(views, settings.http_token), rules))
    cors = CORS(settings.http_origins)
    web = WebContext(settings, view.reactor, cors, (settings.http or "").startswith("ssl:"),
                     c2s)
    paths: dict[str, str] = {}
    for host in views:
        for feature in host.features.values():
            for mount in feature.mounts:
                if mount.path in root.children:
                    continue
                root.putChild(mount.path, mount.make(web))
                if mount.rel is not None:
                    paths[mount.rel] = "/" + mount.path.decode()

    def links() -> list[tuple[str, str]]:
        """host-meta links (XEP-0156): the web transports mounted here."""
        base = view.http_base_url()
        out = []
        for rel, path in paths.items():
            url = base + path
            if path.endswith("websocket"):
                url = "ws" + url[4:]  # http → ws, https → wss
            out.append((rel, url))
        return out

    well_known = resource.Resource()
    root.putChild(b".well-known", well_known)
    well_known.putChild(b"host-meta", HostMeta(links, cors, as_json=False))
    well_known.putChild(b"host-meta.json", HostMeta(links, cors, as_json=True))
    body_limit = max(settings.upload_max_size, 1 << 20)
    factory = server.Site(HostCheck(root, rules), requestFactory=bounded_request(body_limit),
                          reactor=view.reactor)  # the server's, not the global one
    factory.noisy = False
    factory.displayTracebacks = False
    return Site(factory, paths, links)
