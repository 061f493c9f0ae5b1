"""The one disco base for handlers (XEP-0030 §3, §4), on wokkel's ``IDisco``.

wokkel's ``DiscoHandler`` answers ``disco#info``/``disco#items`` by collecting from every
handler beside it that provides ``IDisco``. A handler that only announces features says
which, and on which JIDs, instead of writing ``getDiscoInfo``/``getDiscoItems`` again::

    class PingHandler(Discoverable, XMPPHandler):
        disco_features = (ns.PING,)
        disco_on = EVERY_JID

Handlers whose answer depends on state override :meth:`Discoverable.disco_info`.
Queries with a ``node`` get nothing unless a handler overrides ``getDiscoInfo``.
"""

from __future__ import annotations

from typing import Any, ClassVar

from twisted.words.protocols.jabber.jid import JID
from wokkel import disco
from wokkel.iwokkel import IDisco
from zope.interface import implementer

#: The domain's (or a component's) own JID: ``localhost``, ``upload.localhost``.
SERVER = "server"
#: An account's bare JID, whoever asks.
ACCOUNT = "account"
#: An account's bare JID, asked by the account itself (XEP-0357 §4, XEP-0313 §7).
SELF = "self"
EVERY_JID = frozenset({SERVER, ACCOUNT})


def target_kinds(requestor: JID, target: JID) -> frozenset[str]:
    """Which of :data:`SERVER`, :data:`ACCOUNT`, :data:`SELF` ``target`` is for ``requestor``."""
    if target.user is None:
        return frozenset({SERVER})
    if requestor.userhost() == target.userhost():
        return frozenset({ACCOUNT, SELF})
    return frozenset({ACCOUNT})


@implementer(IDisco)
class Discoverable:
    """``IDisco`` for a handler: its features and identities on the JIDs in ``disco_on``."""

    #: feature vars this handler serves (XEP-0030 §3.1)
    disco_features: ClassVar[tuple[str, ...]] = ()
    #: (category, type, name) identities
    disco_identities: ClassVar[tuple[tuple[str, str, str | None], ...]] = ()
    #: where they are announced: :data:`SERVER`, :data:`ACCOUNT`, :data:`SELF`
    disco_on: ClassVar[frozenset[str]] = frozenset({SERVER})

    def disco_info(self, requestor: JID, target: JID) -> list[Any]:
        """Identities, features and forms for ``target`` (no node)."""
        return [*(disco.DiscoIdentity(c, t, n) for c, t, n in self.disco_identities),
                *(disco.DiscoFeature(f) for f in self.disco_features)]

    def getDiscoInfo(self, requestor: JID, target: JID, nodeIdentifier: str = "") -> Any:
        if nodeIdentifier or not self.disco_on & target_kinds(requestor, target):
            return []
        return self.disco_info(requestor, target)

    def getDiscoItems(self, requestor: JID, target: JID, nodeIdentifier: str = "") -> Any:
        return []
