"""Remote disabling (XEP-0357 §8): an App Server takes the user's publish affiliation
away and may tell the user's bare JID so:

```xml
<message from='push-5.client.example' to='user@example.com'>
  <pubsub xmlns='http://jabber.org/protocol/pubsub' node='yxs32uqsflafdk3iuqo'>
    <affiliation jid='user@example.com' affiliation='none'/>
  </pubsub>
</message>
```

"Upon receiving an affiliation change event, the server MAY remove the received JID and
node combination": with ``Profile.remote_disable`` it does, as Tigase does
(``AbstractPushNotifications.processMessage``, which reads exactly this shape). Also read:
the ``<affiliations node='…'>`` wrapper of a XEP-0060 §8.9.4 affiliation notice, and
either inside ``http://jabber.org/protocol/pubsub#event``. Only the App Server the
registration names may remove it, only for the account the message is addressed to.
The message itself is delivered like any other (a client may want to know).
"""

from __future__ import annotations

from collections.abc import Callable

from twisted.logger import Logger
from twisted.words.protocols.jabber import jid
from twisted.words.xish import domish

from minixmpp import addressing
from minixmpp.push.message import PushMessage
from minixmpp.storage.interfaces import IPushStore, PushRegistration


def changes(pubsub: domish.Element) -> list[tuple[str, str]]:
    """(node, affiliated JID) of each affiliation set to ``none``."""
    out = []
    node = pubsub.getAttribute("node")
    for child in pubsub.elements():
        if child.name == "affiliations":
            for item in child.elements():
                if item.name == "affiliation":
                    out.append((child.getAttribute("node") or node, item))
        elif child.name == "affiliation":
            out.append((node, child))
    return [(n, item.getAttribute("jid") or "") for n, item in out
            if n and item.getAttribute("affiliation") == "none"]


def _bare(value: str) -> str | None:
    try:
        return addressing.parse(value).userhost()
    except jid.InvalidFormat:
        return None


class RemoteDisable:
    """Removes the registrations an App Server's affiliation change names."""

    log = Logger()

    def __init__(self, store: IPushStore, domain: str,
                 on_event: Callable[[str, str, PushRegistration, str], None] | None) -> None:
        self.store = store
        self.domain = domain
        self.on_event = on_event

    def __call__(self, stanza: domish.Element, user: str, m: PushMessage) -> None:
        assert m.pubsub is not None
        sender = stanza.getAttribute("from") or ""
        senders = (sender, _bare(sender))
        account = f"{user}@{self.domain}"
        for node, affiliated in changes(m.pubsub):
            if _bare(affiliated) != account:
                continue
            for r in self.store.registrations(user):
                if r.node != node or r.jid not in senders:
                    continue
                self.store.remove(user, r.jid, r.node)
                detail = (f"XEP-0357 §8: {sender} set the affiliation of {account} with "
                          f"node {node} to none")
                self.log.info("push remote-disabled: {user} → {service} node={node} "
                              "({detail})", user=user, service=r.jid, node=node,
                              detail=detail)
                if self.on_event is not None:
                    self.on_event("remote-disabled", user, r, detail)
