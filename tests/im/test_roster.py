"""The roster (RFC 6121 §2): set, get, remove with pushes to every resource, someone
else's roster, versioning (§2.6)."""

from __future__ import annotations

from twisted.words.xish import domish

from tests.helpers import close, eventually, iq_error, login
from tests.raw import raw_authenticated, raw_login
from tests.xmlassert import assert_xml

ROSTER = "jabber:iq:roster"


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


async def roster_get(raw, qid: str, ver: str | None) -> domish.Element:
    """The answer to a roster get (with ``ver``: RFC 6121 §2.6.3)."""
    attr = f" ver='{ver}'" if ver is not None else ""
    raw.send(f"<iq type='get' id='{qid}'><query xmlns='{ROSTER}'{attr}/></iq>")
    return await raw.next(f"<iq id='{qid}'/>")


async def test_roster_versioning_empty_result_when_current_then_pushes(server) -> None:
    _, features = await raw_authenticated(server, "alice")
    assert_xml(features, "<stream:features><ver xmlns='urn:xmpp:features:rosterver'/>"
                         "</stream:features>")
    raw = await raw_login(server, "alice")
    try:
        first = await roster_get(raw, "r1", "")
        assert_xml(first, f"<iq type='result' id='r1'><query xmlns='{ROSTER}' ver='*'/></iq>")
        ver = first.query["ver"]
        same = await roster_get(raw, "r2", ver)
        assert_xml(same, "<iq type='result' id='r2'/>")
        assert list(same.elements()) == []  # an empty result
        # a change comes as a push carrying the new version...
        raw.send(f"<iq type='set' id='s1'><query xmlns='{ROSTER}'>"
                 "<item jid='carol@localhost' name='Carol'/></query></iq>")
        push = await raw.next("<iq type='set'/>")
        assert_xml(push, f"<iq type='set'><query xmlns='{ROSTER}' ver='*'>"
                         "<item jid='carol@localhost'/></query></iq>")
        new_ver = push.query["ver"]
        assert new_ver != ver
        # ...and the old version now gets the full roster
        full = await roster_get(raw, "r3", ver)
        assert_xml(full, f"<iq type='result' id='r3'><query xmlns='{ROSTER}' ver='{new_ver}'>"
                         "<item jid='carol@localhost'/></query></iq>")
        current = await roster_get(raw, "r4", new_ver)
        assert_xml(current, "<iq type='result' id='r4'/>")
        assert list(current.elements()) == []
    finally:
        raw.close()


async def test_slixmpp_keeps_its_roster_version(server) -> None:
    alice = await login(server, "alice")
    try:
        assert "rosterver" in alice.features
        assert alice.client_roster.version  # the server's ver attribute was taken
    finally:
        await close(alice)
