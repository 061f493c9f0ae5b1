"""Publish-subscribe (XEP-0060): a generic pubsub service at ``pubsub.DOMAIN``, and what
it shares with PEP (errors, node configuration, subscriptions and affiliations).

Three layers, as in Idavoll and as PEP: wokkel's ``PubSubService`` parses
(``service.py``), the resource decides (``resource.py``: affiliations, access and publish
models, limits, notifications; ``membership.py``: the subscription and affiliation verbs
PEP shares; ``rsm.py``: paging; ``authorize.py``: approvals), storage keeps
(``IPepStore`` for nodes and items, ``ISubscriptionStore``). :func:`build` assembles them
as the ``pubsub`` feature, an internal component on the router.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from minixmpp.feature import Context, Feature


def build(ctx: Context) -> Feature:
    """The ``pubsub`` feature at ``--pubsub-jid`` (off with ``--disable pubsub``), listed
    in the domain's disco#items; an account's deletion deletes the nodes it alone owned
    and forgets its affiliations and subscriptions."""
    from twisted.words.protocols.jabber.jid import JID
    from wokkel.disco import DiscoItem

    from minixmpp.feature import Feature
    from minixmpp.internal import internal_component
    from minixmpp.pubsub.resource import Limits, PubSubResource
    from minixmpp.pubsub.service import PubSubService

    s, storage = ctx.settings, ctx.storage
    jid = s.pubsub_jid
    assert jid is not None and storage.pubsub is not None
    assert storage.pubsub_subscriptions is not None
    limits = Limits(s.pubsub_max_nodes, s.pubsub_max_owned_nodes, s.pubsub_max_items,
                    s.pubsub_max_item_size, s.pubsub_max_subscriptions)
    resource = PubSubResource(jid, ctx.domain, storage.pubsub, storage.pubsub_subscriptions,
                              ctx.reactor.seconds, limits)
    service = PubSubService(resource)
    resource.send = service.send
    return Feature(
        "pubsub", service=resource,
        components=(internal_component(ctx.router, jid, service),),
        items=(DiscoItem(JID(jid), name="Publish-subscribe"),),
        forget=lambda user: resource.forget(f"{user}@{ctx.domain}"),
        clear=resource.clear,
        describe=lambda: {"pubsub_jid": jid, "pubsub_nodes": resource.describe()})
