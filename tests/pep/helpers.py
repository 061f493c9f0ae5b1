"""Helpers for the PEP tests: slixmpp clients with pubsub plugins and +notify interests."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from typing import Any

from slixmpp.exceptions import IqError

from minixmpp.storage.interfaces import RosterItem
from tests.helpers import Client, eventually, login

NS = "urn:example:pep"
TUNE = "http://jabber.org/protocol/tune"
PLUGINS = ("xep_0030", "xep_0115", "xep_0060", "xep_0163", "xep_0004", "xep_0199")


async def pep_client(server: Any, user: str, resource: str = "pep",
                     interests: tuple[str, ...] = (), presence: bool = True,
                     plugins: tuple[str, ...] = (), show: str | None = None) -> Client:
    """A logged-in slixmpp client whose caps say ``NODE+notify`` for ``interests``; with
    ``presence`` it is available and the server knows its interests on return."""
    c = await login(server, user, resource=resource, presence=False,
                    plugins=PLUGINS + plugins)
    c.events: list[Any] = []  # type: ignore[misc]
    for event in ("pubsub_publish", "pubsub_retract", "pubsub_purge", "pubsub_delete"):
        c.add_event_handler(event, lambda m, e=event: c.events.append((e, m)))
    for ns in interests:
        c["xep_0030"].add_feature(f"{ns}+notify")
    await c["xep_0115"].update_caps(broadcast=False)
    if presence:
        c.send_presence(pshow=show) if show else c.send_presence()
        full = f"{user}@{server.settings.domain}/{resource}"
        wanted = set(interests)
        await eventually(lambda: wanted <= set(
            server.service("pep").interests.get((user, full), ())) and _present(server, full))
    return c


def _present(server: Any, full: str) -> bool:
    from twisted.words.protocols.jabber.jid import JID

    session = server.sessions.get(JID(full))
    return session is not None and session.available


def friends(server: Any, a: str, b: str, groups: tuple[str, ...] = ()) -> None:
    """A mutual presence subscription (``both``) between two accounts, set in storage."""
    domain = server.settings.domain
    server.storage.rosters.put(a, RosterItem(f"{b}@{domain}", subscription="both", groups=groups))
    server.storage.rosters.put(b, RosterItem(f"{a}@{domain}", subscription="both"))


def payload(ns: str, name: str = "entry", text: str | None = None, **attrs: str
            ) -> ET.Element:
    e = ET.Element(f"{{{ns}}}{name}", **attrs)
    if text is not None:
        e.text = text
    return e


def options(fields: dict[str, str], form_type: str = "http://jabber.org/protocol/pubsub"
            "#publish-options", c: Client | None = None) -> Any:
    """A submitted data form (slixmpp's own stanza)."""
    from slixmpp.plugins.xep_0004 import stanza

    form = stanza.Form()
    form["type"] = "submit"
    form.add_field(var="FORM_TYPE", ftype="hidden", value=form_type)
    for var, value in fields.items():
        form.add_field(var=var, value=value)
    return form


async def pubsub_error(awaitable: Any) -> tuple[str, str | None]:
    """(stanza condition, pubsub#errors condition or None) of a failing request."""
    try:
        await awaitable
    except IqError as e:
        app = None
        error = e.iq.xml.find("{jabber:client}error")
        for child in error if error is not None else ():
            if child.tag.startswith("{http://jabber.org/protocol/pubsub#errors}"):
                app = child.tag.split("}", 1)[1]
        return e.iq["error"]["condition"], app
    raise AssertionError("expected an IQ error, got a result")


def ids(result: Any) -> list[str]:
    return [i["id"] for i in result["pubsub"]["items"]]


async def notified(c: Client, event: str = "pubsub_publish", count: int = 1) -> Any:
    """Wait until ``c`` got ``count`` events of that kind; return the last one."""
    await eventually(lambda: len([m for e, m in c.events if e == event]) >= count)
    return [m for e, m in c.events if e == event][-1]


def element(ns: str, name: str = "entry", text: str | None = None) -> Any:
    """A payload as a slixmpp stanza (what xep_0163/xep_0222/xep_0223 take)."""
    from slixmpp.xmlstream import ElementBase

    return ElementBase(payload(ns, name, text))
