"""The stream header (RFC 6120 §4.7) and stream features (§4.3.2) of a c2s stream."""

from __future__ import annotations

import secrets
from collections.abc import Collection
from typing import TYPE_CHECKING

from twisted.words.protocols.jabber import error, jid
from twisted.words.xish import domish

from minixmpp import addressing, ns

if TYPE_CHECKING:
    from minixmpp.c2s.stream import C2SAuthenticator

HEADER = (f"<?xml version='1.0'?><stream:stream xmlns:stream='{ns.STREAMS}' "
          f"xmlns='{ns.CLIENT}' from='{{domain}}' id='{{id}}' version='1.0'>")


def header_error(root: domish.Element, domains: Collection[str]) -> error.StreamError | None:
    """Why the client's stream header is unacceptable (§4.7, §4.9.3), or None."""
    if root.uri != ns.STREAMS or root.name != "stream" or root.defaultUri != ns.CLIENT:
        return error.StreamError("invalid-namespace")
    if served(root.getAttribute("to"), domains) is None:  # §4.9.3.6
        return error.StreamError("host-unknown", f"this server serves {', '.join(domains)}")
    try:
        major = int((root.getAttribute("version") or "0.0").split(".")[0])
    except ValueError:
        major = 0
    if major < 1:
        return error.StreamError("unsupported-version")
    return None


def features(auth: C2SAuthenticator) -> domish.Element:
    """``<stream:features/>``: what every stage of the current phase offers, in order."""
    element = domish.Element((ns.STREAMS, "features"))
    for stage in auth.active_stages():
        for feature in stage.features():
            element.addChild(feature)
    return element


def served(to: str | None, domains: Collection[str]) -> str | None:
    """The served domain a header's ``to`` names, or None."""
    try:
        host = addressing.parse(to).full() if to else None
    except jid.InvalidFormat:
        return None
    return host if host in domains else None


def open_stream(auth: C2SAuthenticator, root: domish.Element) -> None:
    """Answer the client's header: ours, then the features (or a stream error). The
    header's ``to`` picks the served domain (and so its accounts and features); after a
    restart (STARTTLS, SASL) it must name the same one."""
    xs = auth.xmlstream
    contexts = auth.factory.contexts
    if auth.header_accepted:  # a restarted stream stays with its domain
        contexts = {auth.context.settings.domain: auth.context}
    problem = header_error(root, contexts)
    if problem is None:
        auth.context = contexts[served(root.getAttribute("to"), contexts) or ""]
        auth.header_accepted = True
    domain = auth.context.settings.domain
    xs.namespace = ns.CLIENT
    xs.thisEntity = addressing.parse(domain)
    xs.sid = secrets.token_urlsafe(12)
    if problem is not None:
        return xs.sendStreamError(problem)
    xs.version = (1, 0)
    xs.prefixes = {ns.STREAMS: "stream"}
    # The header and features are the same for every client in the same state:
    # serialize them once per state (a login sends two of each).
    xs.send(HEADER.format(domain=domain, id=xs.sid))
    xs._headerSent = True
    cache = auth.features_cache
    key = (domain, auth.phase, *(stage.feature_key() for stage in auth.active_stages()))
    serialized = cache.get(key)
    if serialized is None:
        serialized = cache[key] = features(auth).toXml(
            prefixes=xs.prefixes, defaultUri=ns.CLIENT, prefixesInScope=["stream"])
    xs.send(serialized)
