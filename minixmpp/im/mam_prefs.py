"""Archiving preferences (XEP-0441): ``<prefs/>`` read and written at the edge, and the
rule that decides whether a message to or from a JID goes into an account's archive.

Where the XEP leaves room (Prosody 13's mod_mam for comparison):

- An account that never set preferences archives everything (``always``), as Prosody's
  ``default_archive_policy``.
- A set without ``default`` keeps the current default; a ``default`` other than
  ``always``, ``never``, ``roster`` is ``bad-request`` (Prosody drops it silently and then
  archives nothing).
- Listed JIDs are stored prepared (RFC 7622); one that cannot be is ``jid-malformed``
  (Prosody drops it). A JID in both lists stays in ``<never/>`` only (as Prosody). A
  missing ``<always/>`` or ``<never/>`` is an empty list (§2.1.2, §2.1.3).
- §2.3: a listed full JID matches that JID only, a bare JID any of its resources; when a
  full and a bare entry both match, the full one decides (Prosody compares bare JIDs
  only, so its full-JID entries never match).
- ``roster``: the contact's bare JID is an item of the roster, whatever its subscription
  (not a subscription request alone). The account's own JID is not in its roster, so
  with ``roster`` notes to self are not archived (as Prosody).
"""

from __future__ import annotations

from collections.abc import Callable

from twisted.words.protocols.jabber import error, jid
from twisted.words.xish import domish

from minixmpp import addressing, ns
from minixmpp.storage.interfaces import ArchivePrefs

#: §2.1.1: the values of ``default``
DEFAULTS = ("always", "never", "roster")


def read(prefs: domish.Element, current: ArchivePrefs) -> ArchivePrefs:
    """§2.1: the preferences a ``<prefs/>`` set asks for."""
    default = prefs.getAttribute("default")
    if default is None:
        default = current.default
    elif default not in DEFAULTS:
        raise error.StanzaError("bad-request", text=f"default is one of {', '.join(DEFAULTS)}")
    never = _jids(prefs, "never")
    always = tuple(j for j in _jids(prefs, "always") if j not in never)
    return ArchivePrefs(default, always, never)


def _jids(prefs: domish.Element, name: str) -> tuple[str, ...]:
    """The prepared JIDs of ``<always/>`` or ``<never/>``, without repeats."""
    found: dict[str, None] = {}
    for group in prefs.elements(ns.MAM, name):
        for item in group.elements(ns.MAM, "jid"):
            try:
                found[addressing.parse(str(item).strip()).full()] = None
            except jid.InvalidFormat:
                raise error.StanzaError("jid-malformed",
                                        text=f"{str(item)!r} in <{name}/>") from None
    return tuple(found)


def element(prefs: ArchivePrefs) -> domish.Element:
    """§2.1: ``<prefs default=…>`` with ``<always/>`` and ``<never/>`` (even empty)."""
    out = domish.Element((ns.MAM, "prefs"))
    out["default"] = prefs.default
    for name, jids in (("always", prefs.always), ("never", prefs.never)):
        group = out.addElement(name)
        for listed in jids:
            group.addElement("jid", content=listed)
    return out


def archives(prefs: ArchivePrefs, target: str, in_roster: Callable[[str], bool]) -> bool:
    """§2.3: whether a message to (outgoing, §2.3.2) or from (incoming, §2.3.3)
    ``target`` is archived under ``prefs``."""
    try:
        address = addressing.parse(target)
        full, bare = address.full(), address.userhost()
    except jid.InvalidFormat:
        full, bare = target, target.partition("/")[0]
    for listed in (full, bare):  # a full-JID entry first, then a bare one
        if listed in prefs.never:
            return False
        if listed in prefs.always:
            return True
    if prefs.default == "roster":
        return in_roster(bare)
    return prefs.default == "always"
