"""wokkel's ``PubSubService`` with client input checked before wokkel parses it.

wokkel reads the ``jid`` attributes of a request (subscribe, options, affiliations,
subscriptions) with Twisted's parser, which fails with an ``IndexError`` on an empty
domain label, and an unexpected exception in its parsing is a logged traceback and
``internal-server-error``. Here a JID that RFC 7622 forbids is ``bad-request`` with
``<invalid-jid/>`` (XEP-0060 §6.1.3.1) and anything else wokkel cannot parse is
``bad-request``. PEP, the pubsub service and the in-process App Server are built on it.
"""

from __future__ import annotations

from collections.abc import Iterator

from twisted.internet import defer
from twisted.words.protocols.jabber import error, jid
from twisted.words.xish import domish
from wokkel import pubsub

from minixmpp import addressing


def _jids(iq: domish.Element) -> Iterator[str]:
    """The ``jid`` attributes of a pubsub request: on the verb and on its children
    (``<affiliation/>``, ``<subscription/>``)."""
    payload = iq.firstChildElement()
    if payload is None:
        return
    for verb in payload.elements():
        for element in (verb, *verb.elements()):
            value = element.getAttribute("jid")
            if value is not None:
                yield value


class PubSubEdge(pubsub.PubSubService):
    """A ``PubSubService`` whose requests are checked at the edge."""

    def _onPubSubRequest(self, iq: domish.Element) -> defer.Deferred:
        for value in _jids(iq):
            try:
                addressing.parse(value)
            except jid.InvalidFormat:
                raise pubsub.PubSubError("bad-request", "invalid-jid",
                                         text=f"{value!r} is not a valid JID") from None
        try:
            pubsub.PubSubRequest.fromElement(iq)
        except (error.StanzaError, NotImplementedError):
            raise
        except Exception as e:  # noqa: BLE001  (client input: any parse failure)
            raise error.StanzaError("bad-request", text=f"cannot parse the request: {e}"
                                    ) from None
        return super()._onPubSubRequest(iq)

    def _toResponse_subscribe(self, result: object, resource: object,
                              request: pubsub.PubSubRequest) -> domish.Element:
        """A resource may answer a subscribe with the whole ``<pubsub/>`` (XEP-0060
        §6.3.6: the subscription and its options form)."""
        if isinstance(result, domish.Element):
            return result
        return super()._toResponse_subscribe(result, resource, request)

    def _toResponse_items(self, result: object, resource: object,
                          request: pubsub.PubSubRequest) -> domish.Element:
        """A resource may answer an items request with the whole ``<pubsub/>`` (XEP-0060
        §6.5.4: the items and their XEP-0059 ``<set/>``)."""
        if isinstance(result, domish.Element):
            return result
        return super()._toResponse_items(result, resource, request)
