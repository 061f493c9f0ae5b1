"""What clients and compliance testers look for: caps (XEP-0115) in the stream features
with a ver that matches the server's disco#info, contact addresses (XEP-0157), roster
versioning (RFC 6121 §2.6) and subscription pre-approval (RFC 6121 §3.4)."""

from __future__ import annotations

import re

import pytest

from tests.helpers import Raw, close, login, raw_authenticated, raw_login

CONTACTS = dict(contact_address=("admin=xmpp:admin@localhost", "admin=mailto:a@example.org",
                                 "abuse=mailto:abuse@example.org"))


def caps_ver(features: str) -> str:
    c = re.search(r"<c xmlns='http://jabber.org/protocol/caps'[^>]*/>", features).group(0)
    assert "hash='sha-1'" in c
    return re.search(r"ver='([^']+)'", c).group(1), re.search(r"node='([^']+)'", c).group(1)


@pytest.mark.server_options(**CONTACTS)
async def test_caps_in_stream_features_match_the_disco_info(server) -> None:
    raw = await Raw.connect(server)
    ver, node = caps_ver(await raw.open_stream())
    raw.close()
    _, after_auth = await raw_authenticated(server, "alice")
    assert caps_ver(after_auth) == (ver, node)
    alice = await login(server, "alice", plugins=("xep_0030", "xep_0115", "xep_0128"))
    try:
        info = await alice["xep_0030"].get_info(jid="localhost")
        assert alice["xep_0115"].generate_verstring(info["disco_info"], "sha-1") == ver
        assert "serverinfo" in str(info)  # the XEP-0157 form is part of the hash input
        # §6.2: disco#info on NODE#ver answers the same
        by_node = await alice["xep_0030"].get_info(jid="localhost", node=f"{node}#{ver}")
        assert alice["xep_0115"].generate_verstring(by_node["disco_info"], "sha-1") == ver
    finally:
        await close(alice)


async def test_caps_ver_changes_with_the_disco_info(server_factory) -> None:
    plain, with_contacts = server_factory(), server_factory(**CONTACTS)
    ver = plain.service("caps").element()["ver"]
    assert ver and ver != with_contacts.service("caps").element()["ver"]


@pytest.mark.server_options(**CONTACTS)
async def test_contact_addresses_from_the_option(server) -> None:
    alice = await login(server, "alice", plugins=("xep_0030", "xep_0128"))
    try:
        info = await alice["xep_0030"].get_info(jid="localhost")
        form = info["disco_info"]["form"]
        fields = form.get_fields()
        form_type = fields["FORM_TYPE"]["value"]  # slixmpp gives a list on result forms
        assert form_type in ("http://jabber.org/network/serverinfo",
                             ["http://jabber.org/network/serverinfo"])
        assert fields["admin-addresses"]["value"] == ["xmpp:admin@localhost",
                                                      "mailto:a@example.org"]
        assert fields["abuse-addresses"]["value"] == ["mailto:abuse@example.org"]
        assert "support-addresses" not in fields
    finally:
        await close(alice)


def test_contact_address_option_is_checked() -> None:
    from minixmpp.config import ConfigError, Settings

    with pytest.raises(ConfigError, match="expected KIND=URI"):
        Settings.build({"contact_address": ("boss=xmpp:x@y",)})


async def roster_get(raw, qid: str, ver: str | None) -> str:
    raw.buffer = b""
    attr = f" ver='{ver}'" if ver is not None else ""
    raw.send(f"<iq type='get' id='{qid}'><query xmlns='jabber:iq:roster'{attr}/></iq>")
    return await raw.read_until(f"id='{qid}'[^>]*(/>|>.*?</iq>)")


async def test_roster_versioning_empty_result_when_current_then_pushes(server) -> None:
    _, features = await raw_authenticated(server, "alice")
    assert "<ver xmlns='urn:xmpp:features:rosterver'/>" in features
    raw = await raw_login(server, "alice")
    try:
        first = await roster_get(raw, "r1", "")
        ver = re.search(r"<query xmlns='jabber:iq:roster' ver='([^']+)'", first).group(1)
        same = await roster_get(raw, "r2", ver)
        assert re.search(r"<iq [^>]*id='r2'[^>]*/>", same), same  # empty result
        # a change comes as a push carrying the new version...
        raw.buffer = b""
        raw.send("<iq type='set' id='s1'><query xmlns='jabber:iq:roster'>"
                 "<item jid='carol@localhost' name='Carol'/></query></iq>")
        push = await raw.read_until(r"type='set'.*?</iq>")
        new_ver = re.search(r"<query xmlns='jabber:iq:roster' ver='([^']+)'", push).group(1)
        assert new_ver != ver and "carol@localhost" in push
        # ...and the old version now gets the full roster
        full = await roster_get(raw, "r3", ver)
        assert f"ver='{new_ver}'" in full and "carol@localhost" in full
        assert re.search(r"<iq [^>]*id='r4'[^>]*/>",
                         await roster_get(raw, "r4", new_ver))
    finally:
        raw.close()


async def test_slixmpp_keeps_its_roster_version(server) -> None:
    alice = await login(server, "alice")
    try:
        assert "rosterver" in alice.features
        assert alice.client_roster.version  # the server's ver attribute was taken
    finally:
        await close(alice)


async def test_pre_approved_subscription_is_granted_without_asking(server) -> None:
    _, features = await raw_authenticated(server, "alice")
    assert "<sub xmlns='urn:xmpp:features:pre-approval'/>" in features
    alice = await login(server, "alice")
    bob = await login(server, "bob")
    try:
        alice.send_presence(pto="bob@localhost", ptype="subscribed")  # before any request
        item = None
        for _ in range(50):
            item = server.storage.rosters.get("alice", "bob@localhost")
            if item is not None:
                break
            await bob.get_roster()  # a round trip on another stream as a barrier
        assert item is not None and item.approved and item.subscription == "none"
        bob.send_presence(pto="alice@localhost", ptype="subscribe")
        subscribed = await bob.next("presence_subscribed")
        assert subscribed["from"].bare == "alice@localhost"
        item = server.storage.rosters.get("alice", "bob@localhost")
        assert item.subscription == "from" and not item.approved and not item.pending_in
        # alice was never asked (positive control: she does get presence from bob later)
        assert not [p for p in alice.presences if p["type"] == "subscribe"]
    finally:
        await close(alice, bob)
