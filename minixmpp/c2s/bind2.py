"""Bind 2 (XEP-0386, ``urn:xmpp:bind:0``): resource binding inside a SASL2 login, with
inline stream management enable (XEP-0198), carbons (XEP-0280) and client state
(XEP-0352).

The resource is the client's ``<tag/>`` (or ``minixmpp``) plus a random part (§3).
``<bound/>`` carries ``<enabled/>`` for inline SM and, with the archive on, the archive's
``<metadata/>`` (XEP-0313 §5): clients that bind this way catch up through MAM.
Offline messages (XEP-0160) are still delivered on the first available presence, as on
the legacy path, so a client that never queries MAM loses nothing.
"""

from __future__ import annotations

import secrets
from typing import TYPE_CHECKING

from twisted.logger import Logger
from twisted.words.protocols.jabber import jid
from twisted.words.xish import domish

from minixmpp import addressing, ns
from minixmpp.c2s import sm
from minixmpp.feature import Context, Feature
from minixmpp.im import mam_query
from minixmpp.sessions import Session
from minixmpp.storage.interfaces import IArchiveStore

if TYPE_CHECKING:
    from minixmpp.c2s.stream import C2SAuthenticator

#: features that may be enabled inline (§2: advertised in ``<inline/>``), by feature name
INLINE = (("carbons", ns.CARBONS), ("csi", ns.CSI), ("sm", ns.SM))
log = Logger()


def inline_feature(enabled: frozenset[str]) -> domish.Element:
    """``<bind xmlns='urn:xmpp:bind:0'><inline><feature var/>...`` (§2): what is on."""
    bind = domish.Element((ns.BIND2, "bind"))
    inline = bind.addElement("inline")
    for name, var in INLINE:
        if name in enabled:
            inline.addElement("feature")["var"] = var
    return bind


def resource_for(tag: str | None, user: str, domain: str) -> str:
    """§3: the tag as a prefix, then something unique."""
    suffix = secrets.token_hex(4)
    if tag:
        try:
            prepared = addressing.make(user, domain, f"{tag.strip()}.{suffix}").resource
            if prepared and len(prepared.encode()) <= 1023:
                return prepared
        except jid.InvalidFormat:
            pass
    return f"minixmpp.{suffix}"


def bind(auth: C2SAuthenticator, request: domish.Element, user_agent: dict[str, str]
         ) -> domish.Element:
    """Bind a resource for ``request`` (the client's ``<bind/>``); the ``<bound/>``."""
    context = auth.context
    domain = context.settings.domain
    assert auth.user is not None
    tag = next((str(c) for c in request.elements() if c.name == "tag"), None)
    full = addressing.make(auth.user, domain, resource_for(tag, auth.user, domain))
    session = Session(full, auth, tls=auth.tls, peer=auth.peer,
                      since=context.reactor.seconds())
    session.user_agent = dict(user_agent)
    context.sessions.bind(session)
    auth.bound(session)
    bound = domish.Element((ns.BIND2, "bound"))
    enabled = context.enabled  # §2: only what was offered inline is acted on
    for child in request.elements():
        if child.uri == ns.CARBONS and child.name == "enable" and "carbons" in enabled:
            session.carbons = True  # XEP-0280 inline: no reply element
        elif child.uri == ns.CSI and child.name in ("active", "inactive") and "csi" in enabled:
            session.csi = child.name
        elif child.uri == ns.SM and child.name == "enable" and "sm" in enabled:
            resume = child.getAttribute("resume") in ("true", "1")
            state = context.resumption.enable(session, resume)
            bound.addChild(sm.element("enabled", id=state.id, resume=resume or None,
                                      max=state.max if resume else None))
    metadata = archive_metadata(context.archive, auth.user)
    if metadata is not None:
        bound.addChild(metadata)
    if not context.settings.session_quiet:
        log.info("{jid} bound via Bind2 ({peer}, {mech}, {tls})", jid=full.full(),
                 peer=auth.peer, mech=auth.mechanism_name,
                 tls="TLS" if auth.tls else "no TLS")
    return bound


def archive_metadata(archive: IArchiveStore | None, user: str) -> domish.Element | None:
    """XEP-0386 §3 with XEP-0313 §5: the archive's ``<metadata/>``, as the metadata query
    answers it (None when the archive is off)."""
    if archive is None:
        return None
    return mam_query.metadata(archive.messages(user))


def build(ctx: Context) -> Feature:
    """The ``bind2`` feature: SASL2 offers binding inline (XEP-0386)."""
    return Feature("bind2")
