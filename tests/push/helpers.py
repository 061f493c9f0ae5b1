"""Helpers for the push tests: an offline alice with push enabled, enable IQs with
Tigase's extension children, decrypting an encrypted notification."""

from __future__ import annotations

import base64
import json
import os
import xml.etree.ElementTree as ET
from typing import Any

from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from tests.helpers import close, enable_push, eventually, login


async def offline_alice_with_push(server, node="node-1", **kw):
    alice = await login(server, "alice", resource="phone")
    await enable_push(alice, node, **kw)
    await close(alice)
    await eventually(lambda: not server.sessions.of("alice"))


NS_PUSH = "urn:xmpp:push:0"


def enable_iq(client, node: str | None, *children: str, away: bool = False) -> Any:
    iq = client.make_iq_set()
    enable = ET.Element(f"{{{NS_PUSH}}}enable", jid="push.localhost")
    if node is not None:
        enable.set("node", node)
    if away:
        enable.set("away", "true")
    for child in children:
        enable.append(ET.fromstring(child))
    iq.xml.append(enable)
    return iq


def pushes(server, node: str | None = None) -> list[Any]:
    return server.appserver.find(account="alice", node=node)


def child(notification, namespace: str, name: str) -> ET.Element | None:
    root = ET.fromstring(notification.xml)
    return root.find(f".//{{{NS_PUSH}}}notification/{{{namespace}}}{name}")


KEY = os.urandom(16)
KEY64 = base64.b64encode(KEY).decode()


def decrypt(notification) -> tuple[ET.Element, dict[str, Any]]:
    encrypted = child(notification, "tigase:push:encrypt:0", "encrypted")
    assert encrypted is not None
    iv = base64.b64decode(encrypted.get("iv"))
    assert len(iv) == 12
    plain = AESGCM(KEY).decrypt(iv, base64.b64decode(encrypted.text), None)
    return encrypted, json.loads(plain)
