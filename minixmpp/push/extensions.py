"""Tigase's push extensions (``shared/specs/tigase-push-extensions.md``): priority,
muted senders, group chats, ignore-unknown, encrypted payloads and Jingle calls.

:func:`parse` reads the children of ``<enable/>`` into :class:`Extensions` (stored with
the registration as a plain dict); the rest are plain functions the notifier calls.
"""

from __future__ import annotations

import base64
import binascii
import json
import os
import re
from collections.abc import Callable
from dataclasses import asdict, dataclass
from typing import Any

from twisted.words.protocols.jabber import error
from twisted.words.xish import domish

from minixmpp import addressing, ns
from minixmpp.push.message import PushMessage

#: Every feature advertised on the account's bare JID (disco#info, §4.1 of each).
FEATURES = (ns.PUSH_PRIORITY, ns.PUSH_MUTED, ns.PUSH_GROUPCHAT, ns.PUSH_IGNORE_UNKNOWN,
            ns.PUSH_ENCRYPT, ns.PUSH_ENCRYPT_AES_128_GCM, ns.PUSH_JINGLE)
ALLOW = ("always", "never", "mentioned")
#: Body placeholder in an encrypted payload for an end-to-end encrypted message.
ENCRYPTED_BODY = "New encrypted message"

#: ``(user, room bare JID) -> nickname or None``: MUC can answer this later.
NickLookup = Callable[[str, str], "str | None"]


@dataclass(frozen=True)
class Room:
    """One room rule of the groupchat filter."""

    jid: str
    allow: str  # always | never | mentioned
    nick: str | None = None


@dataclass(frozen=True)
class Extensions:
    """Which extensions a registration enabled, and their state."""

    priority: bool = False
    muted: tuple[str, ...] = ()
    groupchat: tuple[Room, ...] | None = None  # None: filter not enabled
    ignore_unknown: bool = False
    encrypt: dict[str, Any] | None = None  # {"alg", "key" (base64), "max_size"}
    jingle: bool = False

    def to_dict(self) -> dict[str, Any]:
        """A JSON-able dict for the store (only what is on)."""
        out: dict[str, Any] = {}
        for name, value in asdict(self).items():
            if value not in (False, (), None, []):
                out[name] = list(value) if isinstance(value, tuple) else value
        return out

    @classmethod
    def from_dict(cls, data: dict[str, Any] | None) -> Extensions:
        data = data or {}
        rooms = data.get("groupchat")
        return cls(priority=bool(data.get("priority")), muted=tuple(data.get("muted", ())),
                   groupchat=None if rooms is None else tuple(Room(**r) for r in rooms),
                   ignore_unknown=bool(data.get("ignore_unknown")),
                   encrypt=data.get("encrypt"), jingle=bool(data.get("jingle")))

    def summary(self) -> str:
        """For the enable log line: ``priority muted=1 groupchat=2 encrypt ...``."""
        parts = []
        if self.priority:
            parts.append("priority")
        if self.muted:
            parts.append(f"muted={len(self.muted)}")
        if self.groupchat is not None:
            parts.append(f"groupchat={len(self.groupchat)}")
        if self.ignore_unknown:
            parts.append("ignore-unknown")
        if self.encrypt:
            parts.append(f"encrypt={self.encrypt['alg']}")
        if self.jingle:
            parts.append("jingle")
        return " ".join(parts) or "none"


def _bad(text: str) -> error.StanzaError:
    return error.StanzaError("bad-request", text=text)


def _bare(value: str | None, what: str) -> str:
    try:
        return addressing.parse(value or "").userhost()
    except Exception:  # noqa: BLE001 - any unparsable JID is the client's mistake
        raise _bad(f"{what}: {value!r} is not a valid JID") from None


def parse(enable: domish.Element) -> Extensions:
    """The extensions requested by the children of ``<enable/>``; what is absent is off
    (re-enabling replaces every extension's state). Bad input: ``bad-request``."""
    values: dict[str, Any] = {}
    for child in enable.elements():
        if child.uri == ns.PUSH_PRIORITY and child.name == "priority":
            values["priority"] = True
        elif child.uri == ns.PUSH_MUTED and child.name == "muted":
            values["muted"] = tuple(dict.fromkeys(
                _bare(i.getAttribute("jid"), "muted item") for i in child.elements()
                if i.name == "item"))
        elif child.uri == ns.PUSH_GROUPCHAT and child.name == "groupchat":
            rooms = []
            for room in child.elements():
                if room.name != "room":
                    continue
                allow = room.getAttribute("allow") or "always"
                if allow not in ALLOW:
                    raise _bad(f"groupchat room allow must be one of {', '.join(ALLOW)}")
                rooms.append(Room(_bare(room.getAttribute("jid"), "groupchat room"), allow,
                                  room.getAttribute("nick") or None))
            values["groupchat"] = tuple(rooms)
        elif child.uri == ns.PUSH_IGNORE_UNKNOWN and child.name == "ignore-unknown":
            values["ignore_unknown"] = True
        elif child.uri == ns.PUSH_ENCRYPT and child.name == "encrypt":
            values["encrypt"] = _encrypt(child)
        elif child.uri == ns.PUSH_JINGLE and child.name == "jingle":
            values["jingle"] = True
    return Extensions(**values)


def _encrypt(element: domish.Element) -> dict[str, Any]:
    alg = element.getAttribute("alg")
    if alg != "aes-128-gcm":
        raise _bad(f"unknown encryption algorithm {alg!r} (aes-128-gcm is supported)")
    text = "".join(str(element).split())
    try:
        key = base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        raise _bad("the encryption key is not base64") from None
    if len(key) != 16:
        raise _bad(f"an AES-128-GCM key is 16 bytes, not {len(key)}")
    max_size = element.getAttribute("max-size")
    if max_size is not None and (not max_size.isdigit() or int(max_size) < 64):
        raise _bad("max-size must be an integer of at least 64")
    return {"alg": alg, "key": text, "max_size": int(max_size) if max_size else None}


# -- filters: a filter only removes pushes ------------------------------------------------

def mentions(body: str | None, nick: str | None) -> bool:
    """The body names ``nick`` (case-insensitive, as a whole word)."""
    if not body or not nick:
        return False
    return re.search(rf"(?<!\w){re.escape(nick)}(?!\w)", body, re.IGNORECASE) is not None


def groupchat_allowed(ext: Extensions, message: PushMessage, user: str, default: str,
                      nick: NickLookup) -> bool:
    """Does this groupchat message push? The registration's room rules when it enabled
    the groupchat filter (an unlisted room: no), else ``default``
    (``--push-groupchat never|mentions|always``)."""
    room = message.sender_bare
    if ext.groupchat is not None:
        rule = next((r for r in ext.groupchat if r.jid == room), None)
        if rule is None:
            return False
        allow, name = rule.allow, rule.nick
    else:
        allow, name = {"mentions": "mentioned"}.get(default, default), None
    if allow == "always":
        return True
    if allow == "mentioned":
        return mentions(message.body, name or nick(user, room) or user)
    return False


def muted(ext: Extensions, message: PushMessage) -> bool:
    return message.sender_bare in ext.muted


# -- what the notification carries ---------------------------------------------------------

def important(message: PushMessage) -> bool:
    """High priority: a body, an encrypted payload, or a Jingle propose."""
    return (message.body is not None or message.encrypted
            or (message.call is not None and message.call.action == "propose"))


def priority_element(message: PushMessage) -> domish.Element:
    e = domish.Element((ns.PUSH_PRIORITY, "priority"))
    e.addContent("high" if important(message) else "low")
    return e


def jingle_element(message: PushMessage) -> domish.Element:
    """``<jingle xmlns='tigase:push:jingle:0' action sid><media/>…</jingle>``."""
    assert message.call is not None
    e = domish.Element((ns.PUSH_JINGLE, "jingle"))
    e["action"], e["sid"] = message.call.action, message.call.sid
    for media in message.call.media:
        e.addElement("media", content=media)
    return e


def payload(message: PushMessage, unread: int, max_size: int | None) -> dict[str, Any]:
    """Tigase's JSON payload: unread, sender, type, message (+ nickname, sid, media)."""
    data: dict[str, Any] = {"unread": unread, "sender": message.sender_bare}
    if message.call is not None:
        data.update(type="voip", sender=message.sender, sid=message.call.sid,
                    media=list(message.call.media))
    elif message.type == "groupchat":
        data.update(type="groupchat", nickname=message.nick)
    else:
        data["type"] = "chat"
    body = ENCRYPTED_BODY if message.encrypted else message.body
    if body is not None:
        data["message"] = body
        if max_size is not None:
            data["message"] = _fit(data, body, max_size)
    return data


def _json(data: dict[str, Any]) -> bytes:
    return json.dumps(data, ensure_ascii=False, separators=(",", ":")).encode()


def _plain_limit(max_size: int) -> int:
    """Plaintext bytes whose base64 ciphertext (+16-byte tag) fits in ``max_size``."""
    return (max_size // 4) * 3 - 16


def _fit(data: dict[str, Any], body: str, max_size: int) -> str:
    limit = _plain_limit(max_size)
    encoded = body.encode()
    while encoded:
        data["message"] = encoded.decode("utf-8", "ignore")
        size = len(_json(data))
        if size <= limit:
            return data["message"]
        over = size - limit
        encoded = encoded[:max(0, len(encoded) - max(over, 1))]
    return ""


def encrypted_element(message: PushMessage, unread: int, encrypt: dict[str, Any],
                      iv: bytes | None = None) -> domish.Element:
    """``<encrypted xmlns='tigase:push:encrypt:0' iv='…'>`` holding the AES-128-GCM
    ciphertext (tag appended) of :func:`payload` under the client's key."""
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM

    iv = iv or os.urandom(12)
    data = payload(message, unread, encrypt.get("max_size"))
    sealed = AESGCM(base64.b64decode(encrypt["key"])).encrypt(
        iv, _json(data), None)
    e = domish.Element((ns.PUSH_ENCRYPT, "encrypted"))
    e["iv"] = base64.b64encode(iv).decode()
    if data["type"] == "voip":
        e["type"] = "voip"
    e.addContent(base64.b64encode(sealed).decode())
    return e
