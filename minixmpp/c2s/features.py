"""The stream header (RFC 6120 §4.7) and stream features (§4.3.2) of a c2s stream."""

from __future__ import annotations

import secrets
from typing import TYPE_CHECKING

from twisted.words.protocols.jabber import error, jid
from twisted.words.xish import domish

from minixmpp import addressing, ns

if TYPE_CHECKING:
    from minixmpp.c2s.stream import C2SAuthenticator

HEADER = (f"<?xml version='1.0'?><stream:stream xmlns:stream='{ns.STREAMS}' "
          f"xmlns='{ns.CLIENT}' from='{{domain}}' id='{{id}}' version='1.0'>")


def serves(to: str | None, domain: str) -> bool:
    """Whether a stream's ``to`` names ``domain`` (RFC 6120 §4.7.2): a valid domain JID
    (RFC 7622 §3.2, so ``.localhost`` or ``local..host`` never does) that prepares to it."""
    if not to:
        return False
    try:
        return addressing.parse(to).full() == domain
    except jid.InvalidFormat:
        return False


def header_error(root: domish.Element, domain: str) -> error.StreamError | None:
    """Why the client's stream header is unacceptable (§4.7, §4.9.3), or None."""
    if root.uri != ns.STREAMS or root.name != "stream" or root.defaultUri != ns.CLIENT:
        return error.StreamError("invalid-namespace")
    if not serves(root.getAttribute("to"), domain):  # §4.9.3.6
        return error.StreamError("host-unknown", f"this server serves {domain}")
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


def open_stream(auth: C2SAuthenticator, root: domish.Element) -> None:
    """Answer the client's header: ours, then the features (or a stream error)."""
    xs = auth.xmlstream
    domain = auth.context.settings.domain
    xs.namespace = ns.CLIENT
    xs.thisEntity = addressing.parse(domain)
    xs.sid = secrets.token_urlsafe(12)
    problem = header_error(root, domain)
    if problem is not None:
        return xs.sendStreamError(problem)
    xs.version = (1, 0)
    xs.prefixes = {ns.STREAMS: "stream"}
    # The header and features are the same for every client in the same state:
    # serialize them once per state (a login sends two of each).
    xs.send(HEADER.format(domain=domain, id=xs.sid))
    xs._headerSent = True
    cache = auth.features_cache
    key = (auth.phase, *(stage.feature_key() for stage in auth.active_stages()))
    serialized = cache.get(key)
    if serialized is None:
        serialized = cache[key] = features(auth).toXml(
            prefixes=xs.prefixes, defaultUri=ns.CLIENT, prefixesInScope=["stream"])
    xs.send(serialized)
