"""Helpers for the group chat tests: slixmpp clients with the MUC plugins."""

from __future__ import annotations

from typing import Any

from tests.helpers import login

ROOM = "lounge@conference.localhost"
MUC_USER = "http://jabber.org/protocol/muc#user"
#: the room's subject: the last stanza of a join (XEP-0045 §7.2.15), on a raw stream
SUBJECT = "<message type='groupchat'><subject/></message>"
MUC_PLUGINS = ("xep_0045", "xep_0004", "xep_0030", "xep_0199", "xep_0313", "xep_0059",
               "xep_0359", "xep_0421", "xep_0425", "xep_0249")


async def muc_login(server: Any, user: str, resource: str = "test", **kw: Any) -> Any:
    """A slixmpp client with the MUC plugins; ``muc_presences`` records room presences."""
    client = await login(server, user, resource=resource, plugins=MUC_PLUGINS, **kw)
    client.muc_presences = []
    client.add_event_handler("groupchat_presence", client.muc_presences.append)
    client.errors = []
    client.add_event_handler("message_error", client.errors.append)
    return client


async def join(client: Any, room: str, nick: str, **kw: Any) -> Any:
    """Join and wait for the whole flow: (self presence, subject, occupants, history)."""
    return await client["xep_0045"].join_muc_wait(room, nick, timeout=5, **kw)


async def submit_config(client: Any, room: str, **values: Any) -> None:
    """Owner configuration (§10.1.2 instant room when no values, else §10.1.3)."""
    form = client["xep_0004"].make_form(ftype="submit")
    form.add_field(var="FORM_TYPE", ftype="hidden",
                   value="http://jabber.org/protocol/muc#roomconfig")
    for var, value in values.items():
        if isinstance(value, bool):
            value = "1" if value else "0"
        form.add_field(var=f"muc#roomconfig_{var}", value=value)
    await client["xep_0045"].set_room_config(room, form)


async def create(client: Any, room: str = ROOM, nick: str = "owner", **config: Any) -> Any:
    """Create ``room`` and configure it (an instant room without ``config``)."""
    result = await join(client, room, nick)
    await submit_config(client, room, **config)
    return result


async def next_groupchat(client: Any, timeout: float = 5) -> Any:
    """The next groupchat message with a body (presences, subjects and the rest skipped)."""
    while True:
        m = await client.next_message(timeout)
        if m["type"] == "groupchat" and m["body"]:
            return m


def codes(stanza: Any) -> set[int]:
    return set(stanza["muc"]["status_codes"])


def expect(client: Any, event: str, timeout: float = 5) -> Any:
    """Start waiting for ``event`` now (before the action that causes it)."""
    import asyncio

    return asyncio.ensure_future(client.wait_until(event, timeout))


def offline_event(room: str = ROOM) -> str:
    return "muc::%s::got_offline" % room


async def next_error(client: Any, timeout: float = 5) -> str:
    """The condition of the next message error the client gets."""
    from tests.helpers import eventually

    await eventually(lambda: client.errors, timeout)
    return client.errors.pop(0)["error"]["condition"]


async def talk(client: Any, *bodies: str) -> list[str]:
    """Send groupchat messages; their stanza ids (XEP-0359) as the room gave them."""
    ids = []
    for body in bodies:
        client.send_message(mto=ROOM, mbody=body, mtype="groupchat")
        ids.append((await next_groupchat(client))["stanza_id"]["id"])
    return ids


async def room_archive(client: Any, **kw: Any) -> list[Any]:
    """The whole room archive (XEP-0313), every page."""
    got = []
    async for message in client["xep_0313"].iterate(jid=ROOM, **kw):
        got.append(message)
    return got
