"""Personal Eventing Protocol (XEP-0163) on every account's bare JID, and what is built
on it: private XML (XEP-0049), bookmarks (XEP-0402/XEP-0048), vCard-temp (XEP-0054) and
avatars (XEP-0084, XEP-0398, XEP-0153).

Three layers, as in Idavoll: wokkel's ``PubSubService`` parses (``service.py``), the PEP
resource decides (``resource.py``: ownership, access models, +notify recipients) and
storage keeps (``IPepStore``). :func:`build` assembles them as the ``pep`` feature.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from minixmpp.feature import Context, Feature


def build(ctx: Context) -> Feature:
    """The ``pep`` feature: the pubsub protocol on bare JIDs (explicit subscriptions and
    affiliations included), private XML, bookmarks and vCards; an available-presence
    listener (own resources, their ``<c/>``) and a presence observer (contacts'
    resources, XEP-0153 hashes, approvals). Forgetting an account drops its nodes with
    their subscribers and its own subscriptions to other accounts' nodes."""
    from minixmpp.feature import Feature
    from minixmpp.pep.bookmarks import Bookmarks
    from minixmpp.pep.presence import PepPresence
    from minixmpp.pep.private import PrivateStorage
    from minixmpp.pep.resource import Limits, PEPResource
    from minixmpp.pep.service import PEPService
    from minixmpp.pep.vcard import VCardHandler

    s, storage = ctx.settings, ctx.storage
    limits = Limits(s.pep_max_items, s.pep_max_nodes, s.pep_max_item_size,
                    s.pep_max_subscriptions)

    def blocks(user: str, peer: str) -> bool:
        blocking = ctx.provided("blocks")  # XEP-0191, when that feature is on
        return blocking is not None and blocking(user, peer)

    resource = PEPResource(ctx.domain, storage.pep, storage.rosters, ctx.sessions,
                           ctx.reactor, ctx.local.route, limits,
                           storage.pep_subscriptions, blocks)
    bookmarks = Bookmarks(resource)
    vcard = VCardHandler(storage.private, resource, limits.item_size)
    resource.changed = (bookmarks.changed, vcard.changed)
    presence = PepPresence(resource, vcard)

    def forget(user: str) -> None:
        storage.pep.drop(user)
        storage.private.drop(user)
        resource.forget(user)
        vcard.forget(user)

    return Feature("pep", service=resource,
                   handlers=(PEPService(resource),
                             PrivateStorage(storage.private, bookmarks, limits.item_size),
                             vcard),
                   available=(presence,), observers=(presence,), forget=forget,
                   describe_account=lambda user: {"pep_nodes": nodes(storage.pep, user)})


def nodes(store: Any, user: str) -> list[dict[str, Any]]:
    """Each node of an account with its access model and item count (status page)."""
    from minixmpp.pep.config import effective

    return [{"node": n.name, "access_model": effective(n.config)["pubsub#access_model"],
             "items": len(store.items(user, n.name))} for n in store.nodes(user)]
