"""Group chat and push: Tigase's groupchat filter, --push-groupchat and encrypted
groupchat payloads, with a fake MUC service (an XEP-0114 component)."""

from __future__ import annotations

import pytest

from tests.helpers import Component, barrier, close, login, wait_push
from tests.push.helpers import KEY64, decrypt, enable_iq, pushes

COMPONENTS = dict(component=("conference.localhost:s3cret",), no_muc=True,  # a fake MUC
                  components="tcp:0:interface=127.0.0.1")


async def fake_muc(server) -> Component:
    muc = Component("conference.localhost", "s3cret", server.ports().components)
    await muc.start()
    return muc


def groupchat(muc, room: str, nick: str, body: str) -> None:
    muc.send_message(mto="alice@localhost/phone", mbody=body, mtype="groupchat",
                     mfrom=f"{room}@conference.localhost/{nick}")


async def away_phone(server, *children: str):
    """alice's phone, online but xa, with an away='true' registration: groupchat
    messages reach it and may push (rule 3)."""
    phone = await login(server, "alice", resource="phone", show="xa")
    await enable_iq(phone, "n", *children, away=True).send(timeout=5)
    return phone


@pytest.mark.server_options(**COMPONENTS)
async def test_groupchat_filter_per_room(server) -> None:
    muc = await fake_muc(server)
    phone = await away_phone(
        server, "<groupchat xmlns='tigase:push:filter:groupchat:0'>"
                "<room jid='lobby@conference.localhost' allow='always'/>"
                "<room jid='dev@conference.localhost' allow='mentioned' nick='Ali'/>"
                "<room jid='noise@conference.localhost' allow='never'/></groupchat>")
    for room, body in (("noise", "Ali: never"), ("other", "unlisted Ali"),
                       ("dev", "no mention of alicia"), ("dev", "Alison asks ALI")):
        groupchat(muc, room, "bob", body)
        assert (await phone.next_message())["body"] == body
    await barrier(phone)
    assert [n.fields.get("last-message-body") for n in pushes(server)] == [
        "Alison asks ALI"]  # "Ali" as a whole word, case-insensitive
    groupchat(muc, "dev", "bob", "hey ali, look")
    n = await wait_push(server, account="alice", since=pushes(server)[-1].seq)
    assert n.fields["last-message-sender"] == "dev@conference.localhost/bob"
    groupchat(muc, "lobby", "carol", "anything")
    n = await wait_push(server, account="alice", since=n.seq)
    assert n.fields["last-message-body"] == "anything"
    await close(phone)
    muc.disconnect()


@pytest.mark.server_options(**COMPONENTS)
async def test_groupchat_without_filter_never_pushes_by_default(server) -> None:
    muc = await fake_muc(server)
    phone = await away_phone(server)
    groupchat(muc, "lobby", "bob", "alice: hello")
    assert (await phone.next_message())["body"] == "alice: hello"
    bob = await login(server, "bob")
    bob.send_message(mto="alice@localhost", mbody="direct", mtype="chat")  # control
    n = await wait_push(server, account="alice")
    assert n.fields["last-message-body"] == "direct" and len(pushes(server)) == 1
    await close(phone, bob)
    muc.disconnect()


@pytest.mark.server_options(push_groupchat="mentions", **COMPONENTS)
async def test_push_groupchat_mentions_uses_the_nick_lookup(server) -> None:
    muc = await fake_muc(server)
    phone = await away_phone(server)
    groupchat(muc, "lobby", "bob", "nobody here")
    await phone.next_message()
    await barrier(phone)
    assert pushes(server) == []
    groupchat(muc, "lobby", "bob", "Alice, are you there?")  # default nick: the username
    n = await wait_push(server, account="alice")
    assert n.fields["last-message-body"] == "Alice, are you there?"
    # MUC can plug in the real nickname.
    server.service("push").notifier.nick = (
        lambda user, room: "Queen" if room.startswith("lobby@") else None)
    groupchat(muc, "lobby", "bob", "long live the queen")
    n = await wait_push(server, account="alice", since=n.seq)
    assert n.fields["last-message-body"] == "long live the queen"
    await close(phone)
    muc.disconnect()


@pytest.mark.server_options(push_groupchat="always", **COMPONENTS)
async def test_encrypted_groupchat_payload_has_the_nickname(server) -> None:
    muc = await fake_muc(server)
    phone = await away_phone(server, f"<encrypt xmlns='tigase:push:encrypt:0' "
                                         f"alg='aes-128-gcm'>{KEY64}</encrypt>")
    groupchat(muc, "lobby", "bob", "hello room")
    n = await wait_push(server, account="alice")
    _, payload = decrypt(n)
    assert payload == {"unread": 1, "sender": "lobby@conference.localhost",
                       "type": "groupchat", "nickname": "bob", "message": "hello room"}
    await close(phone)
    muc.disconnect()
