"""p2, Conversations' App Server (iNPUTmice/p2, ``PushController``), on the in-process
App Server: registration by an ad-hoc command (XEP-0050), and what a publish must carry.

- ``register-push-fcm`` / ``register-push-apns``, executed with a submitted form
  (``token``, ``device-id`` or ``android-id``, optional ``muc``): completed, with a form
  of ``jid`` (the App Server), ``node`` and ``secret``. The same device again keeps its
  node and secret (the token is replaced). No form, no token or no device: bad-request;
  another service: item-not-found.
- ``unregister-push-*`` with the device: completed; item-not-found when nothing matched.
- A publish to such a node needs the secret in its publish-options and a bare ``from``
  of the registering account's domain, else ``forbidden``; a node unregistered since
  answers ``item-not-found``.

The client then enables push with that node and
``<x type='submit'><field var='secret'>…</field></x>`` as publish-options (XEP-0357 §5).
"""

from __future__ import annotations

import base64
import hashlib
import os
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from twisted.words.protocols.jabber import error
from twisted.words.protocols.jabber.jid import JID
from twisted.words.xish import domish
from wokkel import disco
from wokkel.iwokkel import IDisco
from wokkel.subprotocols import IQHandlerMixin, XMPPHandler
from zope.interface import implementer

from minixmpp import addressing, forms, ns

REGISTER, UNREGISTER = "register-push-", "unregister-push-"
SERVICES = ("fcm", "apns")
COMMAND = f"/iq[@type='set']/command[@xmlns='{ns.COMMANDS}']"


@dataclass
class Target:
    """One registered device (p2's ``Target``)."""

    service: str
    device: str  # sha1 of the account's bare JID and the device id (p2's combineAndHash)
    channel: str  # the same for a room (``muc``), else ""
    domain: str
    token: str
    node: str
    secret: str


def _random(length: int) -> str:
    """p2's ``Utils.random``: base64 of 3·length random bytes."""
    return base64.b64encode(os.urandom(3 * length)).decode()


def _hash(*parts: str) -> str:
    return hashlib.sha1("\0".join(parts).encode()).hexdigest()


class Targets:
    """The registered devices, by node."""

    def __init__(self) -> None:
        self.by_node: dict[str, Target] = {}
        #: nodes unregistered since (their publishes: item-not-found)
        self.gone: set[str] = set()

    def check(self, node: str | None, sender: JID | None, options: dict[str, str]) -> None:
        """p2's pubsubHandler for a publish to ``node``: raise the StanzaError p2 answers
        with (nothing for a node that is not p2's)."""
        if node in self.gone:
            raise error.StanzaError("item-not-found", text="no such node (unregistered)")
        target = self.by_node.get(node or "")
        if target is None:
            return
        secret = options.get("secret")
        if sender is None or sender.resource is not None or secret is None:
            raise error.StanzaError("forbidden", text="publish from a bare JID with the "
                                    "secret in publish-options")
        if sender.host != target.domain or secret != target.secret:
            raise error.StanzaError("forbidden", text="wrong domain or secret")

    def clear(self) -> None:
        self.by_node.clear()
        self.gone.clear()


@implementer(IDisco)
class P2Commands(XMPPHandler, IQHandlerMixin):
    """The register and unregister commands on the App Server's JID."""

    iqHandlers = {COMMAND: "onCommand"}

    def __init__(self, jid: str, targets: Targets, clock: Callable[[], float]) -> None:
        super().__init__()
        self.jid = jid
        self.targets = targets
        self.clock = clock

    def connectionInitialized(self) -> None:
        self.xmlstream.addObserver(COMMAND, self.handleRequest)

    def getDiscoInfo(self, requestor: Any, target: Any, nodeIdentifier: str = "") -> list[Any]:
        return [] if nodeIdentifier else [disco.DiscoFeature(ns.COMMANDS)]

    def getDiscoItems(self, requestor: Any, target: Any, nodeIdentifier: str = "") -> list[Any]:
        if nodeIdentifier != ns.COMMANDS:
            return []
        return [disco.DiscoItem(JID(self.jid), f"{verb}{s}", f"{verb}{s}")
                for verb in (REGISTER, UNREGISTER) for s in SERVICES]

    def onCommand(self, iq: domish.Element) -> domish.Element:
        command = next(iq.elements(ns.COMMANDS, "command"))
        node = command.getAttribute("node") or ""
        if (command.getAttribute("action") or "execute") != "execute":
            raise error.StanzaError("bad-request")
        x = next(command.elements(ns.X_DATA, "x"), None)
        values = forms.values(x) if x is not None else None
        account = addressing.parse(iq["from"])
        for verb, run in ((REGISTER, self._register), (UNREGISTER, self._unregister)):
            if node.startswith(verb):
                service = node[len(verb):].lower()
                if service not in SERVICES:
                    raise error.StanzaError("item-not-found", text=f"{service} is not a "
                                            "known push service")
                if values is None:
                    raise error.StanzaError("bad-request", text="submit the form")
                return run(node, service, account, values)
        raise error.StanzaError("bad-request")

    def _device(self, account: JID, values: dict[str, str]) -> tuple[str, str, str]:
        device_id = (values.get("device-id") or values.get("android-id") or "").strip()
        if not device_id:
            raise error.StanzaError("bad-request", text="device-id is required")
        muc = (values.get("muc") or "").strip()
        if muc and "/" in muc:
            raise error.StanzaError("bad-request", text="muc must be a bare JID")
        channel = _hash(muc, device_id) if muc else ""
        return _hash(account.userhost(), device_id), channel, device_id

    def _register(self, node: str, service: str, account: JID,
                  values: dict[str, str]) -> domish.Element:
        token = (values.get("token") or "").strip()
        if not token:
            raise error.StanzaError("bad-request", text="token is required")
        device, channel, _ = self._device(account, values)
        target = next((t for t in self.targets.by_node.values() if (t.service, t.device,
                       t.channel) == (service, device, channel)), None)
        if target is None:
            target = Target(service, device, channel, account.host, token, _random(3),
                            _random(6))
            self.targets.by_node[target.node] = target
        target.token = token
        result = forms.form(None, "form")
        forms.field(result, "jid", "jid-single", [self.jid])
        forms.field(result, "node", "text-single", [target.node])
        forms.field(result, "secret", "text-single", [target.secret])
        return self._completed(node, result)

    def _unregister(self, node: str, service: str, account: JID,
                    values: dict[str, str]) -> domish.Element:
        device, channel, _ = self._device(account, values)
        gone = [t for t in self.targets.by_node.values() if t.device == device
                and (t.channel == channel if channel else t.service == service)]
        if not gone:
            raise error.StanzaError("item-not-found", text="no such device")
        for target in gone:
            del self.targets.by_node[target.node]
            self.targets.gone.add(target.node)
        return self._completed(node, None)

    def _completed(self, node: str, payload: domish.Element | None) -> domish.Element:
        command = domish.Element((ns.COMMANDS, "command"))
        command["node"], command["status"] = node, "completed"
        command["sessionid"] = str(int(self.clock() * 1000))  # p2: the time in ms
        if payload is not None:
            command.addChild(payload)
        return command
