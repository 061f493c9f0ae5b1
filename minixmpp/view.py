"""What the HTTP site (``web/``) and the ready file read of a running server: a narrow,
read-only view, so neither needs the composition root (``server.Server``).

Changes go through :class:`~minixmpp.admin.Admin` (end a session, delete an account,
reset) and through the features' own objects (``service(name)``), never by assigning
into the server.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from minixmpp.admin import Admin
    from minixmpp.c2s.tls import TLSMaterial
    from minixmpp.config import Settings
    from minixmpp.feature import Feature
    from minixmpp.sessions import SessionManager
    from minixmpp.storage.interfaces import IAccountStore


@dataclass(frozen=True)
class Ports:
    """Where the server listens now: the address to connect to and each bound port
    (None: that listener is off)."""

    host: str = "127.0.0.1"
    c2s: int | None = None
    c2s_tls: int | None = None
    components: int | None = None
    http: int | None = None
    #: the address the HTTP listener is bound to
    http_host: str = "127.0.0.1"


class Listeners(Protocol):
    """What a test may do to the whole server's listeners (``server.py``)."""

    def pause_accepting(self, refuse: bool = False) -> Any: ...

    def resume_accepting(self) -> Any: ...

    def restart(self) -> Any: ...


@dataclass(frozen=True)
class ServerView:
    """Read-only access to a server for web/ and ready.py."""

    settings: Settings
    reactor: Any
    accounts: IAccountStore
    sessions: SessionManager
    admin: Admin
    #: the features that are on, by name, in the order they run
    features: Mapping[str, Feature]
    tls: TLSMaterial | None
    #: recent authentication failures (``c2s/limits.py``), oldest first
    auth_failures: Sequence[dict[str, Any]]
    ports: Callable[[], Ports]
    http_base_url: Callable[[], str]
    #: pause, resume and restart the listeners (network faults for tests)
    listeners: Listeners | None = None
    #: traffic capture of every stream (``traffic.Traffic``), None when off
    traffic: Any = None

    def service(self, name: str) -> Any:
        """The object of the feature ``name`` (``Feature.service``), None when it is off."""
        feature = self.features.get(name)
        return feature.service if feature is not None else None
