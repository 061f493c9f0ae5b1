"""Contact addresses of the service (XEP-0157): an extended disco#info form (XEP-0128) on
the server's domain, from ``--contact-address KIND=URI``."""

from __future__ import annotations

from twisted.words.protocols.jabber.jid import JID
from wokkel import data_form
from wokkel.iwokkel import IDisco
from wokkel.subprotocols import XMPPHandler
from zope.interface import implementer

NS_SERVERINFO = "http://jabber.org/network/serverinfo"
#: XEP-0157 §4 (registered field names, without the ``-addresses`` suffix)
KINDS = ("abuse", "admin", "feedback", "sales", "security", "status", "support")


@implementer(IDisco)
class ContactAddresses(XMPPHandler):
    """``FORM_TYPE`` serverinfo with one ``KIND-addresses`` list-multi per kind given."""

    def __init__(self, addresses: dict[str, tuple[str, ...]]) -> None:
        super().__init__()
        self.addresses = addresses

    def form(self) -> data_form.Form:
        form = data_form.Form("result", formNamespace=NS_SERVERINFO)
        for kind in KINDS:
            if kind in self.addresses:
                form.addField(data_form.Field("list-multi", var=f"{kind}-addresses",
                                              values=list(self.addresses[kind])))
        return form

    def getDiscoInfo(self, requestor: JID, target: JID, nodeIdentifier: str = ""):
        if target.user is None and not nodeIdentifier and self.addresses:
            return [self.form()]
        return []

    def getDiscoItems(self, requestor: JID, target: JID, nodeIdentifier: str = ""):
        return []
