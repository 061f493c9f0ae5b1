"""Contact addresses of the service (XEP-0157): an extended disco#info form (XEP-0128) on
the server's domain, from ``--contact-address KIND=URI``."""

from __future__ import annotations

from typing import Any

from twisted.words.protocols.jabber.jid import JID
from wokkel import data_form
from wokkel.subprotocols import XMPPHandler

from minixmpp import ns
from minixmpp.discovery import Discoverable
from minixmpp.feature import Context, Feature

#: XEP-0157 §4 (registered field names, without the ``-addresses`` suffix)
KINDS = ("abuse", "admin", "feedback", "sales", "security", "status", "support")


class ContactAddresses(Discoverable, XMPPHandler):
    """``FORM_TYPE`` serverinfo with one ``KIND-addresses`` list-multi per kind given."""

    def __init__(self, addresses: dict[str, tuple[str, ...]]) -> None:
        super().__init__()
        self.addresses = addresses

    def form(self) -> data_form.Form:
        form = data_form.Form("result", formNamespace=ns.SERVERINFO)
        for kind in KINDS:
            if kind in self.addresses:
                form.addField(data_form.Field("list-multi", var=f"{kind}-addresses",
                                              values=list(self.addresses[kind])))
        return form

    def disco_info(self, requestor: JID, target: JID) -> list[Any]:
        return [self.form()] if self.addresses else []


def build(ctx: Context) -> Feature:
    """The ``contact`` feature: the XEP-0157 form from ``--contact-address``."""
    return Feature("contact", handlers=(ContactAddresses(ctx.settings.contact_addresses),))
