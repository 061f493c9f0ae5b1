"""Entity capabilities of the server (XEP-0115): the ``<c/>`` it puts in its stream
features (§6.3), with the verification string of its disco#info (§5.1), and the answer to
disco#info on ``NODE#ver`` (§6.2)."""

from __future__ import annotations

import base64
import hashlib
from typing import Any

from twisted.internet import defer
from twisted.words.protocols.jabber.jid import JID, internJID
from twisted.words.xish import domish
from wokkel import data_form, disco
from wokkel.iwokkel import IDisco
from wokkel.subprotocols import XMPPHandler
from zope.interface import implementer

from minixmpp import ns
from minixmpp.feature import Context, Feature

NODE = "https://github.com/minixmpp/minixmpp"


def _escape(text: str) -> str:
    """§5.4: '<' is the separator, so it is escaped in the input."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def verification_string(info: list[Any]) -> str:
    """§5.1: identities, features and extended forms (XEP-0128), sorted, '<'-joined;
    SHA-1, base64."""
    identities, features, forms = [], [], []
    for item in info:
        if isinstance(item, disco.DiscoIdentity):
            identities.append(f"{item.category}/{item.type}//{item.name or ''}")
        elif isinstance(item, disco.DiscoFeature):
            features.append(str(item))
        elif isinstance(item, data_form.Form):
            forms.append(item)
    parts = sorted(identities) + sorted(set(features))
    for form in sorted(forms, key=lambda f: f.formNamespace or ""):
        parts.append(form.formNamespace or "")
        for var in sorted(v for v in form.fields if v != "FORM_TYPE"):
            parts.append(var)
            parts.extend(sorted(str(v) for v in form.fields[var].values))
    text = "".join(_escape(p) + "<" for p in parts)
    return base64.b64encode(hashlib.sha1(text.encode()).digest()).decode()


@implementer(IDisco)
class ServerCaps(XMPPHandler):
    """Computes the server's caps once the handlers are in place; answers ``NODE#ver``
    with the same disco#info as the bare domain (§6.2)."""

    def __init__(self, domain: str) -> None:
        super().__init__()
        self.domain = domain
        self.ver: str | None = None
        self._info: list[Any] = []

    def _gather(self) -> defer.Deferred:
        handler = next(h for h in self.parent if isinstance(h, disco.DiscoHandler))
        domain = internJID(self.domain)
        return handler.info(domain, domain, "")

    def compute(self) -> None:
        """(Re)compute ``ver`` from what the handlers contribute now (synchronously)."""
        results: list[Any] = []
        self._gather().addCallback(results.extend)
        self._info = results
        self.ver = verification_string(results)

    def element(self) -> domish.Element:
        """``<c xmlns='http://jabber.org/protocol/caps' hash node ver/>`` (§4), computed
        when first asked for: by then every feature's handlers are in place."""
        if self.ver is None:
            self.compute()
        c = domish.Element((ns.CAPS, "c"))
        c["hash"], c["node"], c["ver"] = "sha-1", NODE, self.ver
        return c

    def getDiscoInfo(self, requestor: JID, target: JID, nodeIdentifier: str = "") -> Any:
        if target.user is None and nodeIdentifier.startswith(f"{NODE}#"):
            if self.ver is None:
                self.compute()
            if nodeIdentifier == f"{NODE}#{self.ver}":
                return self._gather()
        return []

    def getDiscoItems(self, requestor: JID, target: JID, nodeIdentifier: str = "") -> Any:
        return []


def build(ctx: Context) -> Feature:
    """The ``caps`` feature: the server's ``<c/>`` in stream features (the c2s stages ask
    for ``provides["caps"]``) and the ``NODE#ver`` answer."""
    caps = ServerCaps(ctx.domain)
    return Feature("caps", service=caps, handlers=(caps,), provides={"caps": caps})
