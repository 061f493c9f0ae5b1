"""Small things clients ask the server: entity time (XEP-0202), last activity
(XEP-0012), external services (XEP-0215), all over real slixmpp streams."""

from __future__ import annotations

import base64
import datetime
import hashlib
import hmac

import pytest
from slixmpp.xmlstream import ET

from tests.helpers import close, eventually, iq_error, login

NS_EXTDISCO = "urn:xmpp:extdisco:2"


async def test_entity_time_of_the_server_is_utc(server) -> None:
    alice = await login(server, "alice", plugins=("xep_0202",))
    before = datetime.datetime.now(datetime.UTC).replace(microsecond=0)
    iq = await alice.plugin["xep_0202"].get_entity_time("localhost", timeout=5)
    after = datetime.datetime.now(datetime.UTC)
    time = iq.xml.find("{urn:xmpp:time}time")
    assert time.find("{urn:xmpp:time}tzo").text == "+00:00"
    utc = time.find("{urn:xmpp:time}utc").text
    assert utc.endswith("Z")  # XEP-0082 DateTime in UTC
    parsed = datetime.datetime.fromisoformat(utc.replace("Z", "+00:00"))
    assert before - datetime.timedelta(seconds=1) <= parsed <= after
    info = await alice.plugin["xep_0030"].get_info("localhost", timeout=5)
    assert "urn:xmpp:time" in info["disco_info"]["features"]
    await close(alice)


async def test_last_activity_uptime_and_offline_contact(server) -> None:
    alice = await login(server, "alice", plugins=("xep_0012",))
    bob = await login(server, "bob", plugins=("xep_0012",))
    carol = await login(server, "carol", plugins=("xep_0012",))
    last = alice.plugin["xep_0012"]
    uptime = await last.get_last_activity("localhost", timeout=5)
    assert int(uptime["last_activity"]["seconds"]) >= 0
    # alice subscribes to bob's presence; bob accepts
    bob.auto_authorize = None
    alice.send_presence(pto="bob@localhost", ptype="subscribe")
    await eventually(lambda: alice.client_roster["bob@localhost"]["pending_out"])
    bob.send_presence(pto="alice@localhost", ptype="subscribed")
    await eventually(lambda: alice.client_roster["bob@localhost"]["subscription"] == "to")
    online = await last.get_last_activity("bob@localhost", timeout=5)
    assert online["last_activity"]["seconds"] == 0  # bob is available
    bob.send_presence(ptype="unavailable", pstatus="gone fishing")
    await close(bob)
    await eventually(lambda: not server.sessions.of("bob"))
    offline = await last.get_last_activity("bob@localhost", timeout=5)
    assert offline["last_activity"]["seconds"] >= 0
    assert offline["last_activity"]["status"] == "gone fishing"
    # carol is not subscribed to bob: nothing is revealed
    iq = carol.make_iq_get(ito="bob@localhost")
    iq.enable("last_activity")
    assert await iq_error(iq) == "forbidden"
    await close(alice, carol)


def expected_turn_password(secret: str, username: str) -> str:
    return base64.b64encode(hmac.new(secret.encode(), username.encode(),
                                     hashlib.sha1).digest()).decode()


def services_iq(client, tag: str = "services", **attrs: str):
    iq = client.make_iq_get(ito="localhost")
    element = ET.Element(f"{{{NS_EXTDISCO}}}{tag}", attrs)
    iq.append(element)
    return iq, element


@pytest.mark.server_options(stun=("stun.example:3478",),
                            turn=("turn.example:3478:s3cret",), turn_ttl=600)
async def test_external_services_with_coturn_rest_credentials(server) -> None:
    alice = await login(server, "alice", plugins=("xep_0030",))
    info = await alice.plugin["xep_0030"].get_info("localhost", timeout=5)
    assert NS_EXTDISCO in info["disco_info"]["features"]
    iq, _ = services_iq(alice)
    result = await iq.send(timeout=5)
    services = [dict(s.attrib) for s in result.xml.iter(f"{{{NS_EXTDISCO}}}service")]
    assert {(s["type"], s["host"], s["port"], s["transport"]) for s in services} == {
        ("stun", "stun.example", "3478", "udp"), ("turn", "turn.example", "3478", "udp"),
        ("turn", "turn.example", "3478", "tcp")}
    turn = next(s for s in services if s["type"] == "turn")
    expiry, _, user = turn["username"].partition(":")
    assert user == "alice" and turn["restricted"] == "1"
    assert turn["password"] == expected_turn_password("s3cret", turn["username"])
    expires = datetime.datetime.fromisoformat(turn["expires"].replace("Z", "+00:00"))
    assert int(expires.timestamp()) == int(expiry)
    now = datetime.datetime.now(datetime.UTC).timestamp()
    assert now < int(expiry) <= now + 601
    # only one type
    iq, _ = services_iq(alice, type="stun")
    result = await iq.send(timeout=5)
    assert [s.get("type") for s in result.xml.iter(f"{{{NS_EXTDISCO}}}service")] == ["stun"]
    # credentials for one service (§3.3)
    iq, element = services_iq(alice, "credentials")
    ET.SubElement(element, f"{{{NS_EXTDISCO}}}service", {"host": "turn.example",
                                                         "type": "turn"})
    result = await iq.send(timeout=5)
    (cred,) = list(result.xml.iter(f"{{{NS_EXTDISCO}}}service"))
    assert cred.get("password") == expected_turn_password("s3cret", cred.get("username"))
    iq, element = services_iq(alice, "credentials")
    ET.SubElement(element, f"{{{NS_EXTDISCO}}}service", {"host": "nowhere.example"})
    assert await iq_error(iq) == "item-not-found"
    await close(alice)


async def test_no_external_services_configured_is_an_empty_list(server) -> None:
    alice = await login(server, "alice")
    iq, _ = services_iq(alice)
    result = await iq.send(timeout=5)
    assert result.xml.find(f"{{{NS_EXTDISCO}}}services") is not None
    assert list(result.xml.iter(f"{{{NS_EXTDISCO}}}service")) == []
    await close(alice)


