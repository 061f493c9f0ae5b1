"""The roster (RFC 6121 §2): set, get, remove with pushes to every resource, someone
else's roster, versioning (§2.6)."""

from __future__ import annotations

import re

from tests.helpers import close, eventually, iq_error, login, raw_authenticated, raw_login


async def test_roster_set_get_remove_with_pushes_to_all_resources(server) -> None:
    desk = await login(server, "alice", resource="desk")
    phone = await login(server, "alice", resource="phone")
    pushes: list = []
    phone.add_event_handler("roster_update", pushes.append)
    await desk.update_roster("bob@localhost", name="Bob", groups=["Friends"])
    await eventually(lambda: "bob@localhost" in phone.client_roster)
    assert phone.client_roster["bob@localhost"]["name"] == "Bob"
    assert phone.client_roster["bob@localhost"]["groups"] == ["Friends"]
    # without a ver (RFC 6121 §2.6): the whole roster (slixmpp's get_roster sends its
    # current version and gets an empty result)
    roster = await desk.make_iq_get(queryxmlns="jabber:iq:roster").send()
    items = roster["roster"]["items"]
    assert items["bob@localhost"]["subscription"] == "none"
    await desk.del_roster_item("bob@localhost")
    await eventually(lambda: "bob@localhost" not in phone.client_roster.keys())
    assert pushes, "the other resource got roster pushes"
    await close(desk, phone)


async def test_roster_of_another_account_is_forbidden(server) -> None:
    alice = await login(server, "alice")
    iq = alice.make_iq_get(queryxmlns="jabber:iq:roster", ito="bob@localhost")
    assert await iq_error(iq) == "forbidden"
    await close(alice)


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
