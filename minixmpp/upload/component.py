"""The slot service at upload.DOMAIN (XEP-0363 §3 discovery, §4 slots, §5 errors).

An internal component on the router, like the push App Server: the router is its
only way in and out, so an external upload component could replace it.
"""

from __future__ import annotations

from typing import Any

from twisted.words.protocols.jabber import error, jid
from twisted.words.xish import domish
from wokkel import data_form
from wokkel.subprotocols import IQHandlerMixin, XMPPHandler

from minixmpp import addressing, ns
from minixmpp.discovery import Discoverable
from minixmpp.internal import internal_component
from minixmpp.upload.slots import FileTooLarge, NotAcceptable, QuotaReached, UploadService

REQUEST = f"/iq[@type='get']/request[@xmlns='{ns.UPLOAD}']"


class SlotHandler(Discoverable, XMPPHandler, IQHandlerMixin):
    """Answers slot requests from the server's own accounts."""

    disco_identities = (("store", "file", "HTTP File Upload"),)
    disco_features = (ns.UPLOAD,)

    iqHandlers = {REQUEST: "onRequest"}

    def __init__(self, service: UploadService, domain: str) -> None:
        super().__init__()
        self.service = service
        self.domain = domain

    def connectionInitialized(self) -> None:
        self.xmlstream.addObserver(REQUEST, self.handleRequest)

    def onRequest(self, iq: domish.Element) -> domish.Element:
        try:
            sender = addressing.parse(iq["from"])
        except (jid.InvalidFormat, KeyError):
            raise error.StanzaError("bad-request") from None
        if sender.user is None or sender.host != self.domain:
            raise error.StanzaError("forbidden", text="Only local accounts may upload")
        request = iq.request
        filename = request.getAttribute("filename") or ""
        try:
            size = int(request.getAttribute("size") or "")
        except ValueError:
            raise error.StanzaError("bad-request", text="size must be an integer") from None
        try:
            upload = self.service.request_slot(sender.user, filename, size,
                                               request.getAttribute("content-type"))
        except FileTooLarge as e:
            condition = domish.Element((ns.UPLOAD, "file-too-large"))
            condition.addElement("max-file-size", content=str(e.max_size))
            raise error.StanzaError("not-acceptable", type="modify", text=str(e),
                                    appCondition=condition) from None
        except NotAcceptable as e:
            raise error.StanzaError("not-acceptable", type="modify", text=str(e)) from None
        except QuotaReached as e:
            raise error.StanzaError("resource-constraint", type="wait", text=str(e)) from None
        url = self.service.url(upload)
        slot = domish.Element((ns.UPLOAD, "slot"))
        slot.addElement("put")["url"] = url
        slot.addElement("get")["url"] = url
        return slot

    def disco_info(self, requestor: Any, target: Any) -> list[Any]:
        """§3: identity, feature, and the ``max-file-size`` form (XEP-0128)."""
        form = data_form.Form("result", formNamespace=ns.UPLOAD)
        form.addField(data_form.Field(var="max-file-size", value=str(self.service.max_size)))
        return [*super().disco_info(requestor, target), form]


def build_component(router: Any, upload_jid: str, service: UploadService, domain: str) -> Any:
    """The slot service as a wokkel internal component on ``router`` at ``upload_jid``."""
    return internal_component(router, upload_jid, SlotHandler(service, domain))
