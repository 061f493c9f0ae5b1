"""Every feature of the server, in the order it runs.

``Server`` builds each with the same :class:`~minixmpp.feature.Context` and assembles the
pipelines from their declarations in this order: the delivery stages (blocking before
the archive, so nothing blocked is archived), the delivery listeners (push first, then
carbons, the archive's writes last), the available-presence listeners (push, then PEP),
the c2s stages, the handlers. A build function returns None when its settings leave the
feature out (``--no-muc``, ``--registration off``, no HTTP listener for upload).

**Adding a feature** is one room: a module with ``build(ctx) -> Feature`` (see
``im/ping.py`` for the smallest, ``push/__init__.py`` for one in every pipeline), one
line here, and its tests. Nothing in ``server.py`` changes.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from minixmpp.feature import Context, Feature

#: (name, module with ``build``), in the order they run
FEATURES: tuple[tuple[str, str], ...] = (
    ("starttls", "minixmpp.c2s.starttls"),  # RFC 6120 §5
    ("direct-tls", "minixmpp.c2s.tls"),  # XEP-0368: the --c2s-tls listener
    ("sasl2", "minixmpp.c2s.sasl2"),  # XEP-0388
    ("bind2", "minixmpp.c2s.bind2"),  # XEP-0386 (inside SASL2)
    ("sm", "minixmpp.c2s.sm"),  # XEP-0198
    ("anonymous", "minixmpp.c2s.anonymous"),  # XEP-0175, with --auth anonymous
    ("offline", "minixmpp.im.offline"),  # XEP-0160: delivery's last routing rule
    ("blocking", "minixmpp.im.blocking"),  # XEP-0191: the first delivery stage
    ("push", "minixmpp.push"),  # XEP-0357: the first delivery listener
    ("carbons", "minixmpp.im.carbons"),  # XEP-0280
    ("mam", "minixmpp.im.mam"),  # XEP-0313: stamps ids, writes last
    ("pep", "minixmpp.pep"),  # XEP-0163 and what is built on it
    ("last", "minixmpp.im.lastactivity"),  # XEP-0012
    ("caps", "minixmpp.im.caps"),  # XEP-0115 (the server's own)
    ("register", "minixmpp.im.register"),  # XEP-0077
    ("fast", "minixmpp.c2s.fast"),  # XEP-0484
    ("csi", "minixmpp.c2s.csi"),  # XEP-0352
    ("ping", "minixmpp.im.ping"),  # XEP-0199
    ("version", "minixmpp.im.version"),  # XEP-0092
    ("time", "minixmpp.im.entitytime"),  # XEP-0202
    ("extdisco", "minixmpp.im.extdisco"),  # XEP-0215
    ("contact", "minixmpp.im.contact"),  # XEP-0157
    ("adhoc", "minixmpp.adhoc"),  # XEP-0050 with XEP-0133 service administration
    ("sos", "minixmpp.im.sos"),  # XEP-0455: outage status (the form, the document)
    ("appserver", "minixmpp.push.appserver"),  # the in-process push App Server
    ("muc", "minixmpp.muc"),  # XEP-0045
    ("pubsub", "minixmpp.pubsub"),  # XEP-0060 at pubsub.DOMAIN
    ("upload", "minixmpp.upload"),  # XEP-0363
    ("proxy65", "minixmpp.proxy65"),  # XEP-0065: the SOCKS5 bytestream proxy
    ("websocket", "minixmpp.c2s.websocket"),  # RFC 7395
    ("bosh", "minixmpp.c2s.bosh"),  # XEP-0206
)


#: SASL mechanisms ``--disable`` may name (lower case), besides ``scram-plus`` for every
#: ``-PLUS`` mechanism
MECHANISMS = ("scram-sha-512-plus", "scram-sha-256-plus", "scram-sha-1-plus", "scram-sha-512",
              "scram-sha-256", "scram-sha-1", "plain")
#: every name ``--disable`` takes
NAMES = (*(name for name, _ in FEATURES), "scram-plus", *MECHANISMS)
#: the older ``--no-*`` options and what they switch off
ALIASES = {"no_archive": ("mam",), "no_muc": ("muc",), "no_upload": ("upload",),
           "no_websocket": ("websocket",), "no_bosh": ("bosh",),
           "no_push_component": ("appserver",), "no_tls": ("direct-tls",)}


def mechanisms(disabled: frozenset[str]) -> frozenset[str]:
    """The SASL mechanisms that stay on (upper case, as on the wire)."""
    return frozenset(m.upper() for m in MECHANISMS if m not in disabled
                     and not (m.endswith("-plus") and "scram-plus" in disabled))


def builder(module: str) -> Callable[[Context], Feature | None]:
    return importlib.import_module(module).build  # type: ignore[no-any-return]
