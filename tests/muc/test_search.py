"""Extended channel search (XEP-0433) on the group chat service: the form, keyword search
in name, description and address, the minimum of users, both sort keys, XEP-0059 pages
bounded by ``--muc-search-max``, the errors of §4.2.2; public, open rooms only."""

from __future__ import annotations

import xml.etree.ElementTree as ET

import pytest
from slixmpp.exceptions import IqError

from minixmpp import ns
from tests.helpers import close
from tests.muc.helpers import create, join, muc_login
from tests.muc.test_rules import ALICE, BOB, CAROL, Muc

SERVICE = "conference.localhost"
BY_USERS = f"{{{ns.CHANNEL_SEARCH_ORDER}}}nusers"
BY_ADDRESS = f"{{{ns.CHANNEL_SEARCH_ORDER}}}address"


def search(**fields: str | list[str]) -> str:
    """A submitted search form (a list: several values); ``rsm`` is the ``<set/>``."""
    rsm = fields.pop("rsm", "")
    values = "".join(
        f"<field var='{var}'>" + "".join(f"<value>{v}</value>" for v in (
            value if isinstance(value, list) else [value])) + "</field>"
        for var, value in fields.items())
    return (f"<search xmlns='{ns.CHANNEL_SEARCH}'>{rsm}<x xmlns='{ns.X_DATA}' type='submit'>"
            f"<field var='FORM_TYPE' type='hidden'><value>{ns.CHANNEL_SEARCH_PARAMS}</value>"
            f"</field>{values}</x></search>")


def rsm(**parts: str) -> str:
    return (f"<set xmlns='{ns.RSM}'>" + "".join(f"<{k}>{v}</{k}>" for k, v in parts.items())
            + "</set>")


def rooms(muc: Muc) -> Muc:
    """Five rooms: three public (garden, cellar, attic: 2, 1 and 3 occupants), one hidden,
    one locked."""
    def room(name: str, occupants: tuple[str, ...], **config: str) -> None:
        jid = f"{name}@{SERVICE}"
        muc.feed(f"<presence from='{ALICE}' to='{jid}/Al'><x xmlns='{ns.MUC}'/></presence>")
        fields = "".join(f"<field var='muc#roomconfig_{k}'><value>{v}</value></field>"
                         for k, v in config.items())
        muc.iq(ALICE, "set", f"<query xmlns='{ns.MUC_OWNER}'><x xmlns='{ns.X_DATA}' "
                             f"type='submit'>{fields}</x></query>", to=jid)
        for i, full in enumerate(occupants):
            muc.feed(f"<presence from='{full}' to='{jid}/u{i}'/>")

    room("garden", (BOB,), roomname="The Garden", roomdesc="flowers and tea", lang="en")
    room("cellar", (), roomname="Wine Cellar", roomdesc="quiet",
         membersonly="1", whois="anyone")
    room("attic", (BOB, CAROL), roomname="Attic", roomdesc="dust and flowers")
    room("secret", (BOB,), roomname="Flowers Secret", publicroom="0")
    muc.feed(f"<presence from='{ALICE}' to='locked@{SERVICE}/Al'><x xmlns='{ns.MUC}'/>"
             "</presence>")  # never configured: locked
    return muc


def results(muc: Muc, payload: str, sender: str = CAROL) -> list[str]:
    [answer] = muc.iq(sender, "get", payload, to=SERVICE)
    assert answer["type"] == "result", answer.toXml()
    return [item["address"].partition("@")[0] for item in answer.result.elements(
        ns.CHANNEL_SEARCH, "item")]


def refusal(muc: Muc, payload: str) -> tuple[str, str, str]:
    [answer] = muc.iq(CAROL, "get", payload, to=SERVICE)
    assert answer["type"] == "error"
    conditions = [c for c in answer.error.elements() if c.name != "text"]
    return answer.error["type"], conditions[0].name, conditions[1].name


# -- without sockets ------------------------------------------------------------------------

def test_the_service_announces_search_and_gives_its_form() -> None:
    muc = Muc()
    [info] = muc.iq(CAROL, "get", f"<query xmlns='{ns.DISCO_INFO}'/>", to=SERVICE)
    assert ns.CHANNEL_SEARCH in {f["var"] for f in info.query.elements(ns.DISCO_INFO,
                                                                           "feature")}
    [form] = muc.iq(CAROL, "get", f"<search xmlns='{ns.CHANNEL_SEARCH}'/>", to=SERVICE)
    fields = {f["var"]: f for f in form.search.x.elements(ns.X_DATA, "field")}
    assert str(fields["FORM_TYPE"].value) == ns.CHANNEL_SEARCH_PARAMS
    assert {"q", "all", "sinname", "sindescription", "sinaddr", "min_users", "types",
            "key"} <= set(fields)
    assert fields["key"]["type"] == "list-single" and str(fields["key"].value) == BY_USERS
    assert {str(o.value) for o in fields["key"].elements(ns.X_DATA, "option")} == {
        BY_USERS, BY_ADDRESS}


def test_keywords_are_found_in_name_description_and_address() -> None:
    muc = rooms(Muc())
    assert results(muc, search(q="flowers")) == ["attic", "garden"]  # most users first
    assert results(muc, search(q="FLOWERS tea")) == ["garden"]  # every term, any case
    assert results(muc, search(q="flowers", sindescription="false")) == []
    assert results(muc, search(q="cellar")) == ["cellar"]  # its name and address
    assert results(muc, search(q="cellar@", sinname="false")) == ["cellar"]
    assert results(muc, search(q="cellar@", sinaddr="false")) == []
    assert results(muc, search(q="cellar@", sinaddress="false")) == []  # §6.1's name


def test_all_min_users_types_and_both_orders() -> None:
    muc = rooms(Muc())
    assert results(muc, search(all="true")) == ["attic", "garden", "cellar"]
    assert results(muc, search(all="true", key=BY_ADDRESS)) == ["attic", "cellar", "garden"]
    assert results(muc, search(all="true", min_users="3")) == ["attic"]
    assert results(muc, search(all="true", types="xep-0369")) == []  # never other types
    assert results(muc, search(all="true", types=["xep-0369", "xep-0045"])) != []


def test_items_say_what_a_searcher_shows() -> None:
    muc = rooms(Muc())
    [answer] = muc.iq(CAROL, "get", search(all="true", key=BY_ADDRESS), to=SERVICE)
    items = {i["address"]: i for i in answer.result.elements(ns.CHANNEL_SEARCH, "item")}
    garden = items[f"garden@{SERVICE}"]
    text = {c.name: str(c) for c in garden.elements()}
    assert text["name"] == "The Garden" and text["description"] == "flowers and tea"
    assert str(garden.nusers) == "2" and str(garden.language) == "en"
    assert str(next(garden.elements(ns.CHANNEL_SEARCH, "is-open"))) == "true"
    assert str(next(garden.elements(ns.CHANNEL_SEARCH, "service-type"))) == "xep-0045"
    assert str(next(garden.elements(ns.CHANNEL_SEARCH, "anonymity-mode"))) == \
        "muc_semianonymous"
    cellar = items[f"cellar@{SERVICE}"]
    assert next(cellar.elements(ns.CHANNEL_SEARCH, "is-open"), None) is None  # members only
    assert str(next(cellar.elements(ns.CHANNEL_SEARCH, "anonymity-mode"))) == \
        f"{{{ns.CHANNEL_SEARCH_ANONYMITY}}}none"


def test_pages_follow_rsm_and_are_bounded() -> None:
    muc = rooms(Muc(search=2))
    [first] = muc.iq(CAROL, "get", search(all="true", key=BY_ADDRESS, rsm=rsm(max="10")),
                     to=SERVICE)
    got = [i["address"] for i in first.result.elements(ns.CHANNEL_SEARCH, "item")]
    assert got == [f"attic@{SERVICE}", f"cellar@{SERVICE}"]  # at most --muc-search-max
    paging = first.result.set
    assert str(paging.count) == "3" and str(paging.last) == f"cellar@{SERVICE}"
    assert paging.first["index"] == "0"
    rest = results(muc, search(all="true", key=BY_ADDRESS,
                               rsm=rsm(max="2", after=f"cellar@{SERVICE}")))
    assert rest == ["garden"]
    assert results(muc, search(all="true", key=BY_ADDRESS,
                               rsm=rsm(max="1", before=""))) == ["garden"]
    assert results(muc, search(q="nothing like it")) == []  # §5: a result, not an error


def test_refusals_carry_the_conditions_of_the_xep() -> None:
    muc = rooms(Muc())
    assert refusal(muc, search(q="tea", all="true")) == (
        "modify", "bad-request", "conflicting-fields")
    assert refusal(muc, search(sinname="true")) == (
        "cancel", "bad-request", "no-search-conditions")
    assert refusal(muc, search(q="  ")) == ("modify", "bad-request", "invalid-search-terms")
    assert refusal(muc, search(q="tea", key="{urn:other}stars")) == (
        "modify", "feature-not-implemented", "invalid-sort-key")
    [bad] = muc.iq(CAROL, "get", search(all="true", rsm=rsm(after="nowhere")), to=SERVICE)
    assert bad.error.firstChildElement().name == "item-not-found"
    [bad] = muc.iq(CAROL, "get", search(all="maybe"), to=SERVICE)
    assert bad.error.firstChildElement().name == "bad-request"
    assert results(muc, search(q="", all="true")) != []  # a form sent back whole


# -- end to end ------------------------------------------------------------------------------

async def test_slixmpp_finds_public_rooms_and_pages_through_them(server):
    alice = await muc_login(server, "alice")
    bob = await muc_login(server, "bob")
    for name in ("one", "two", "three"):
        await create(alice, room=f"{name}@{SERVICE}", roomname=f"Room {name}",
                     roomdesc="a test room")
    await create(alice, room=f"hidden@{SERVICE}", publicroom=False, roomname="test hidden")
    await join(bob, f"two@{SERVICE}", "Bob")
    info = await bob["xep_0030"].get_info(jid=SERVICE)
    assert ns.CHANNEL_SEARCH in info["disco_info"]["features"]

    async def ask(payload: str) -> ET.Element:
        iq = bob.make_iq_get(ito=SERVICE)
        iq.append(ET.fromstring(payload))
        answer = await iq.send(timeout=5)
        return answer.xml.find(f"{{{ns.CHANNEL_SEARCH}}}result")

    found = await ask(search(q="test"))
    items = found.findall(f"{{{ns.CHANNEL_SEARCH}}}item")
    assert items[0].get("address") == f"two@{SERVICE}"  # two users: first
    assert items[0].findtext(f"{{{ns.CHANNEL_SEARCH}}}nusers") == "2"
    assert sorted(i.get("address") for i in items) == sorted(
        f"{n}@{SERVICE}" for n in ("one", "two", "three"))
    seen, after = [], None
    while True:
        found = await ask(search(all="true", key=BY_ADDRESS,
                                 rsm=rsm(max="2", **({"after": after} if after else {}))))
        page = [i.get("address") for i in found.findall(f"{{{ns.CHANNEL_SEARCH}}}item")]
        if not page:
            break
        seen += page
        after = found.find(f"{{{ns.RSM}}}set").findtext(f"{{{ns.RSM}}}last")
    assert seen == sorted(f"{n}@{SERVICE}" for n in ("one", "three", "two"))
    with pytest.raises(IqError) as refused:
        await ask(search(q="x", all="true"))
    assert refused.value.condition == "bad-request"
    assert refused.value.iq.xml.find(
        f".//{{{ns.CHANNEL_SEARCH_ERROR}}}conflicting-fields") is not None
    await close(alice, bob)


@pytest.mark.server_options(muc_search_max=1)
async def test_the_page_size_is_an_option(server):
    alice = await muc_login(server, "alice")
    for name in ("one", "two"):
        await create(alice, room=f"{name}@{SERVICE}")
    iq = alice.make_iq_get(ito=SERVICE)
    iq.append(ET.fromstring(search(all="true", rsm=rsm(max="50"))))
    answer = await iq.send(timeout=5)
    found = answer.xml.find(f"{{{ns.CHANNEL_SEARCH}}}result")
    assert len(found.findall(f"{{{ns.CHANNEL_SEARCH}}}item")) == 1
    assert found.find(f"{{{ns.RSM}}}set").findtext(f"{{{ns.RSM}}}count") == "2"
    await close(alice)
