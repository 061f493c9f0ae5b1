"""Tigase's push extensions end to end (shared/specs/tigase-push-extensions.md): each is
enabled by its child of <enable/>, stored with the registration and applied to what the
in-process App Server receives."""

from __future__ import annotations

import base64
import json

import pytest

from minixmpp.storage.interfaces import RosterItem
from tests.helpers import barrier, close, eventually, iq_error, login, wait_push
from tests.push.helpers import KEY64, child, decrypt, enable_iq, pushes
from tests.raw import raw_login

FEATURES = {"tigase:push:priority:0", "tigase:push:filter:muted:0",
            "tigase:push:filter:groupchat:0", "tigase:push:filter:ignore-unknown:0",
            "tigase:push:encrypt:0", "tigase:push:encrypt:aes-128-gcm",
            "tigase:push:jingle:0"}


async def offline_alice(server, node: str, *children: str) -> None:
    alice = await login(server, "alice", resource="phone")
    await enable_iq(alice, node, *children).send(timeout=5)
    await close(alice)
    await eventually(lambda: not server.sessions.of("alice"))


async def test_account_disco_advertises_every_extension(server) -> None:
    alice = await login(server, "alice")
    alice.register_plugin("xep_0030")
    info = (await alice["xep_0030"].get_info(jid="alice@localhost"))["disco_info"]
    assert FEATURES <= set(info["features"])
    await close(alice)


async def test_priority_high_for_a_body(server) -> None:
    await offline_alice(server, "n", "<priority xmlns='tigase:push:priority:0'/>")
    bob = await login(server, "bob")
    bob.send_message(mto="alice@localhost", mbody="Hi", mtype="chat")
    n = await wait_push(server, account="alice")
    assert child(n, "tigase:push:priority:0", "priority").text == "high"
    assert n.fields["last-message-body"] == "Hi"  # the summary is still there
    await close(bob)


async def test_without_the_priority_child_there_is_no_priority(server) -> None:
    await offline_alice(server, "n")
    bob = await login(server, "bob")
    bob.send_message(mto="alice@localhost", mbody="Hi", mtype="chat")
    n = await wait_push(server, account="alice")
    assert child(n, "tigase:push:priority:0", "priority") is None
    await close(bob)


async def test_muted_senders_never_push(server) -> None:
    await offline_alice(server, "n", "<muted xmlns='tigase:push:filter:muted:0'>"
                                         "<item jid='bob@localhost'/></muted>")
    [registration] = server.storage.push.registrations("alice")
    assert registration.extensions["muted"] == ["bob@localhost"]
    bob = await login(server, "bob")
    carol = await login(server, "carol")
    bob.send_message(mto="alice@localhost", mbody="from bob", mtype="chat")
    await barrier(bob)
    assert pushes(server) == []
    carol.send_message(mto="alice@localhost", mbody="from carol", mtype="chat")  # control
    n = await wait_push(server, account="alice")
    assert n.fields["last-message-body"] == "from carol"
    assert server.storage.offline.count("alice") == 2  # muting never drops the message
    await close(bob, carol)


async def test_ignore_unknown_pushes_only_for_roster_contacts_with_a_subscription(
        server) -> None:
    server.storage.rosters.put("alice", RosterItem("bob@localhost", subscription="both"))
    server.storage.rosters.put("alice", RosterItem("carol@localhost", subscription="none"))
    await offline_alice(server, "n",
                            "<ignore-unknown xmlns='tigase:push:filter:ignore-unknown:0'/>")
    carol = await login(server, "carol")
    dave = await raw_login(server, "carol", resource="other")  # same unknown sender
    carol.send_message(mto="alice@localhost", mbody="stranger", mtype="chat")
    await barrier(carol)
    assert pushes(server) == []
    bob = await login(server, "bob")
    bob.send_message(mto="alice@localhost", mbody="friend", mtype="chat")
    n = await wait_push(server, account="alice")
    assert n.fields["last-message-body"] == "friend"
    dave.close()
    await close(bob, carol)


async def test_encrypted_payload_decrypts_with_the_clients_key(server) -> None:
    await offline_alice(server, "n",
                            f"<encrypt xmlns='tigase:push:encrypt:0' alg='aes-128-gcm'>"
                            f"{KEY64}</encrypt>",
                            "<priority xmlns='tigase:push:priority:0'/>")
    bob = await login(server, "bob", resource="desk")
    bob.send_message(mto="alice@localhost", mbody="Hi Alice", mtype="chat")
    n = await wait_push(server, account="alice")
    assert n.fields == {}  # no summary form: it is replaced by <encrypted/>
    assert "Hi Alice" not in n.xml
    _, payload = decrypt(n)
    assert payload == {"unread": 1, "sender": "bob@localhost", "type": "chat",
                       "message": "Hi Alice"}
    assert child(n, "tigase:push:priority:0", "priority").text == "high"
    bob.send_message(mto="alice@localhost", mbody="again", mtype="chat")
    second = await wait_push(server, account="alice", since=n.seq)
    assert decrypt(second)[1]["unread"] == 2
    await close(bob)


async def test_encrypted_body_is_cut_to_fit_max_size(server) -> None:
    await offline_alice(server, "n",
                            f"<encrypt xmlns='tigase:push:encrypt:0' alg='aes-128-gcm' "
                            f"max-size='200'>{KEY64}</encrypt>")
    bob = await login(server, "bob")
    long_body = "é" * 400
    bob.send_message(mto="alice@localhost", mbody=long_body, mtype="chat")
    n = await wait_push(server, account="alice")
    encrypted, payload = decrypt(n)
    assert len(encrypted.text) <= 200
    assert payload["message"] and long_body.startswith(payload["message"])
    assert len(payload["message"]) < len(long_body)
    await close(bob)


@pytest.mark.parametrize("encrypt, why", [
    (f"<encrypt xmlns='tigase:push:encrypt:0' alg='aes-128-gcm'>"
     f"{base64.b64encode(b'short').decode()}</encrypt>", "key of 5 bytes"),
    (f"<encrypt xmlns='tigase:push:encrypt:0' alg='aes-256-cbc'>{KEY64}</encrypt>",
     "unknown alg"),
    ("<encrypt xmlns='tigase:push:encrypt:0' alg='aes-128-gcm'>not base64!</encrypt>",
     "not base64"),
    (f"<encrypt xmlns='tigase:push:encrypt:0' alg='aes-128-gcm' max-size='x'>{KEY64}"
     f"</encrypt>", "bad max-size"),
    ("<groupchat xmlns='tigase:push:filter:groupchat:0'><room jid='r@muc.localhost' "
     "allow='sometimes'/></groupchat>", "bad allow"),
], ids=lambda v: "extension" if v.startswith("<") else v)  # no random key in the id:
async def test_bad_extension_is_bad_request_and_stores_nothing(server, encrypt, why
                                                               ) -> None:
    alice = await login(server, "alice")
    assert await iq_error(enable_iq(alice, "n", encrypt)) == "bad-request"
    assert server.storage.push.registrations("alice") == []
    await close(alice)


def propose(sid: str, *media: str) -> str:
    descriptions = "".join(f"<description xmlns='urn:xmpp:jingle:apps:rtp:1' "
                           f"media='{m}'/>" for m in media)
    return (f"<message to='alice@localhost' type='chat' id='{sid}-m'>"
            f"<propose xmlns='urn:xmpp:jingle-message:0' id='{sid}'>{descriptions}"
            f"</propose></message>")


async def test_jingle_propose_pushes_only_with_the_jingle_extension(server) -> None:
    await offline_alice(server, "plain")
    alice = await login(server, "alice", resource="tablet", presence=False)
    await enable_iq(alice, "calls", "<jingle xmlns='tigase:push:jingle:0'/>",
                        "<priority xmlns='tigase:push:priority:0'/>").send(timeout=5)
    await close(alice)
    await eventually(lambda: not server.sessions.of("alice"))
    bob = await raw_login(server, "bob", resource="desk")
    bob.send(propose("call-1", "audio", "video"))
    n = await wait_push(server, account="alice")
    assert n.node == "calls"
    jingle = child(n, "tigase:push:jingle:0", "jingle")
    assert jingle.get("action") == "propose" and jingle.get("sid") == "call-1"
    assert [m.text for m in jingle.findall("{tigase:push:jingle:0}media")] == [
        "audio", "video"]
    assert child(n, "tigase:push:priority:0", "priority").text == "high"
    # The retraction pushes too (the phone stops ringing), with low priority.
    bob.send("<message to='alice@localhost' type='chat'><retract "
             "xmlns='urn:xmpp:jingle-message:0' id='call-1'/></message>")
    retract = await wait_push(server, account="alice", since=n.seq)
    assert child(retract, "tigase:push:jingle:0", "jingle").get("action") == "retract"
    assert child(retract, "tigase:push:priority:0", "priority").text == "low"
    # The registration without the extension got neither.
    assert pushes(server, "plain") == []
    bob.close()


async def test_encrypted_jingle_propose_is_voip(server) -> None:
    await offline_alice(server, "calls", "<jingle xmlns='tigase:push:jingle:0'/>",
                            f"<encrypt xmlns='tigase:push:encrypt:0' alg='aes-128-gcm'>"
                            f"{KEY64}</encrypt>")
    bob = await raw_login(server, "bob", resource="desk")
    bob.send(propose("call-2", "audio"))
    n = await wait_push(server, account="alice")
    encrypted, payload = decrypt(n)
    assert encrypted.get("type") == "voip"
    assert payload == {"unread": 1, "sender": "bob@localhost/desk", "type": "voip",
                       "sid": "call-2", "media": ["audio"]}
    bob.close()


async def test_re_enable_replaces_every_extension(server) -> None:
    alice = await login(server, "alice")
    await enable_iq(alice, "n", "<priority xmlns='tigase:push:priority:0'/>",
                        "<muted xmlns='tigase:push:filter:muted:0'><item jid='bob@localhost'/>"
                        "</muted>").send(timeout=5)
    assert set(server.storage.push.registrations("alice")[0].extensions) == {"priority", "muted"}
    await enable_iq(alice, "n", "<jingle xmlns='tigase:push:jingle:0'/>").send(timeout=5)
    assert server.storage.push.registrations("alice")[0].extensions == {"jingle": True}
    await close(alice)


@pytest.mark.server_options(http="tcp:0")
async def test_extensions_in_the_http_api_and_the_enable_log_line(server) -> None:
    from twisted.logger import formatEvent, globalLogPublisher

    from tests.helpers import http

    lines: list[str] = []

    def observer(event) -> None:
        lines.append(formatEvent(event))

    globalLogPublisher.addObserver(observer)
    alice = await login(server, "alice", resource="phone")
    await enable_iq(alice, "n", "<priority xmlns='tigase:push:priority:0'/>",
                        f"<encrypt xmlns='tigase:push:encrypt:0' alg='aes-128-gcm' "
                        f"max-size='512'>{KEY64}</encrypt>").send(timeout=5)
    status, [registration] = await http(
        "GET", f"http://127.0.0.1:{server.ports().http}/api/push/registrations")
    assert status == 200
    assert registration["extensions"] == {"priority": True, "encrypt": {
        "alg": "aes-128-gcm", "max_size": 512}}
    assert KEY64 not in json.dumps(registration)
    [line] = [x for x in lines if x.startswith("push enabled: alice")]
    globalLogPublisher.removeObserver(observer)
    assert "extensions=priority encrypt=aes-128-gcm" in line and KEY64 not in line
    await close(alice)
