"""One shape for every capability: a feature package's ``build(ctx) -> Feature``.

A :class:`Feature` declares everything it plugs into, and :class:`~minixmpp.server.Server`
assembles the pipelines from the features in the order they run; nothing appends itself to
another object's callback list. A feature that is not built is simply not there: its
handlers answer nothing (the local domain's fallback says ``service-unavailable``, as
Prosody does for a module that is not loaded), its disco features and stream features are
not offered, and nothing it stores exists.

``started()`` runs once the server listens, ``forget(user)`` drops what the feature
keeps for a deleted account, ``clear()`` what it
keeps at all (``reset``), ``stop()`` its timers and files at shutdown, ``describe()`` its
state for the status page, the control API and the ready file. ``docs/architecture.md``
lists the features and how to add one.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from twisted.words.xish import domish
    from wokkel.disco import DiscoItem

    from minixmpp.config import Settings
    from minixmpp.im.message import MessageDelivery
    from minixmpp.im.presence import PresenceHandler
    from minixmpp.router import LocalDomain, Router
    from minixmpp.sessions import Session, SessionManager
    from minixmpp.storage import Storage

Route = Callable[["domish.Element"], None]


@dataclass(frozen=True)
class Context:
    """What a feature may use of the server while it is built, and nothing more."""

    settings: Settings
    #: the clock and scheduler of everything (``seconds``, ``callLater``): a test clock can
    #: drive every timer
    reactor: Any
    router: Router
    domain: str
    storage: Storage
    sessions: SessionManager
    #: the served domain (``route``: a stanza from the server into the router)
    local: LocalDomain
    #: the delivery pipeline (RFC 6121 §8.5; ``redeliver`` for unacknowledged stanzas)
    messages: MessageDelivery
    #: presence and subscriptions (RFC 6121 §3, §4), with the roster handler
    presence: PresenceHandler
    #: where clients reach the HTTP listener (``--http-url``, else its bound address)
    http_base_url: Callable[[], str]
    #: what another feature provides (``Feature.provides``), looked up when called, so
    #: the order features are built in does not matter; None when that feature is off
    provided: Callable[[str], Any]


@dataclass(frozen=True)
class Mount:
    """A resource on the HTTP listener: ``path`` under ``/``, made when the site is built
    by ``make(web)`` (a :class:`minixmpp.web.WebContext`); ``rel`` announces it in
    host-meta (XEP-0156)."""

    path: bytes
    make: Callable[[Any], Any]
    rel: str | None = None


@dataclass(frozen=True)
class Listen:
    """A listener of a feature's own (``--OPTION ENDPOINT``): ``factory`` behind the strports
    ``endpoint``, opened with the server's other listeners (a failure is the same one-line
    configuration error); ``bound`` is told the address once it listens."""

    option: str
    endpoint: str
    factory: Any
    bound: Callable[[Any], None] | None = None


@dataclass(frozen=True)
class Feature:
    """A capability as the server assembles it: built, switched off, forgotten and
    described the same way as every other."""

    #: the short name (the status page, ``GET /api/state``, the switches)
    name: str
    #: the feature's own object, for its owner's introspection (tests, the control API)
    service: Any = None
    #: wokkel handlers attached to the local domain (they contribute their own disco)
    handlers: tuple[Any, ...] = ()
    #: internal components (services with JIDs of their own, behind the router)
    components: tuple[Any, ...] = ()
    #: entries of the domain's disco#items (XEP-0030 §4): the services hosted
    items: tuple[DiscoItem, ...] = ()

    # -- the delivery path (im/message.py, router.py) --------------------------------------
    #: before routing; may change or stop a message for a local account
    stages: tuple[Any, ...] = ()
    #: told the Outcome of every message for a local account
    listeners: tuple[Any, ...] = ()
    #: told of every message a local client sends (``sent``, ``routed``)
    sent: tuple[Any, ...] = ()
    #: may stop IQs and presence at the edge of the local domain
    guards: tuple[Any, ...] = ()
    #: take IQ results/errors answering the server's own requests
    replies: tuple[Callable[[domish.Element], bool], ...] = ()
    #: the last routing rule: where a message goes with no resource (XEP-0160)
    offline: Any = None

    # -- presence (im/presence.py) and sessions ------------------------------------------
    #: told when a resource sent available presence (``Available``)
    available: tuple[Any, ...] = ()
    #: told of broadcasts, unavailable, inbound presence and approvals
    observers: tuple[Any, ...] = ()
    #: told when an available resource goes unavailable
    unavailable: tuple[Any, ...] = ()
    #: wrap the route of the presence the server sends for an account
    presence_filters: tuple[Callable[[Route], Route], ...] = ()
    #: told when a session is gone
    unbound: tuple[Callable[[Session], None], ...] = ()
    #: told of a stream-management session's acks asked for and given, its hibernation,
    #: the stanzas queued meanwhile, its resumption and its end (``c2s/sm.py``)
    sleep: tuple[Any, ...] = ()

    # -- streams and the web -----------------------------------------------------------
    #: c2s negotiation stages (``c2s.stage.Stage`` classes), offered in this order
    c2s_stages: tuple[Any, ...] = ()
    #: HTTP resources
    mounts: tuple[Mount, ...] = ()
    #: listeners of its own (the SOCKS5 bytestream proxy)
    listen: tuple[Listen, ...] = ()

    #: what other features may ask for (``Context.provided``), by name
    provides: Mapping[str, Any] = field(default_factory=dict)

    # -- lifecycle -------------------------------------------------------------------
    #: called once the server listens (at start, and after a restart)
    started: Callable[[], None] | None = None
    forget: Callable[[str], None] | None = None
    clear: Callable[[], None] | None = None
    stop: Callable[[], Any] | None = None
    #: state for the status page and ``GET /api/state`` (merged into its top level)
    describe: Callable[[], dict[str, Any]] | None = None
    #: per-account facts for the account views (``GET /api/accounts``)
    describe_account: Callable[[str], dict[str, Any]] | None = None
