"""The Feature shape (minixmpp/feature.py) seen from outside: a feature added in one room is
advertised, answers over a real stream and is forgotten with the account, without a line
in server.py; a feature that is off is not there at all."""

from __future__ import annotations

import xml.etree.ElementTree as ET

import pytest
from twisted.words.xish import domish
from wokkel.subprotocols import IQHandlerMixin, XMPPHandler

from minixmpp import addressing
from minixmpp.discovery import SELF, Discoverable
from minixmpp.feature import Context, Feature
from tests.helpers import close, eventually, http, iq_error, login

NS_NOTES = "urn:example:notes"


class NotesHandler(Discoverable, XMPPHandler, IQHandlerMixin):
    """A feature of a test's own: each account keeps one note on its bare JID."""

    disco_features = (NS_NOTES,)
    disco_on = frozenset({SELF})
    iqHandlers = {f"/iq[@type='set']/note[@xmlns='{NS_NOTES}']": "onSet"}

    def __init__(self, notes: dict[str, str]) -> None:
        super().__init__()
        self.notes = notes

    def connectionInitialized(self) -> None:
        self.xmlstream.addObserver(f"/iq/note[@xmlns='{NS_NOTES}']", self.handleRequest)

    def onSet(self, iq: domish.Element) -> None:
        self.notes[addressing.parse(iq["from"]).user or ""] = str(iq.note)


def build(ctx: Context) -> Feature:
    notes: dict[str, str] = {}
    return Feature("notes", service=notes, handlers=(NotesHandler(notes),),
                   forget=lambda user: notes.pop(user, None), clear=notes.clear,
                   describe=lambda: {"notes": len(notes)})


@pytest.fixture
def with_notes(monkeypatch: pytest.MonkeyPatch) -> None:
    from minixmpp import features

    monkeypatch.setattr(features, "FEATURES", (*features.FEATURES, ("notes", __name__)))


def note_iq(client, text: str):
    iq = client.make_iq_set(ito=client.boundjid.bare)
    ET.SubElement(iq.xml, f"{{{NS_NOTES}}}note").text = text
    return iq


async def test_a_new_feature_is_advertised_served_and_forgotten_with_the_account(
        with_notes, server) -> None:
    alice = await login(server, "alice", plugins=("xep_0030", "xep_0077"))
    info = await alice["xep_0030"].get_info(jid="alice@localhost", timeout=5)
    assert NS_NOTES in info["disco_info"]["features"]
    await note_iq(alice, "buy milk").send(timeout=5)
    notes = server.service("notes")
    assert notes == {"alice": "buy milk"}
    # XEP-0077 §3.2: the account removes itself; everything the features keep goes.
    errors: list[str] = alice.stream_errors
    await alice["xep_0077"].cancel_registration(timeout=5)
    await eventually(lambda: errors == ["not-authorized"])
    assert notes == {} and not server.accounts.exists("alice")
    await close(alice)


async def test_reset_clears_every_feature_and_the_state_lists_them(with_notes, server) -> None:
    bob = await login(server, "bob")
    await note_iq(bob, "call alice").send(timeout=5)
    http_url = f"http://127.0.0.1:{server.ports().http}/api"
    status, state = await http("GET", f"{http_url}/state")
    assert status == 200 and "notes" in state["features"] and state["notes"] == 1
    assert (await http("POST", f"{http_url}/reset"))[0] == 200
    assert server.service("notes") == {}
    await close(bob)


@pytest.mark.server_options(registration="off", no_muc=True)
async def test_a_feature_that_is_off_is_not_advertised_and_not_answered(server) -> None:
    alice = await login(server, "alice", plugins=("xep_0030",))
    info = await alice["xep_0030"].get_info(jid="localhost", timeout=5)
    assert "jabber:iq:register" not in info["disco_info"]["features"]
    assert "urn:xmpp:ping" in info["disco_info"]["features"]  # positive control
    items = await alice["xep_0030"].get_items(jid="localhost", timeout=5)
    assert "conference.localhost" not in {i[0] for i in items["disco_items"]["items"]}
    # RFC 6120 §8.4: nobody handles it, so service-unavailable, as Prosody without
    # mod_register; and no route at all to the group chat service.
    query = alice.make_iq_get(ito="localhost")
    ET.SubElement(query.xml, "{jabber:iq:register}query")
    assert await iq_error(query) == "service-unavailable"
    ping = alice.make_iq_get(ito="conference.localhost")
    ET.SubElement(ping.xml, "{urn:xmpp:ping}ping")
    assert await iq_error(ping) == "remote-server-not-found"
    assert "register" not in server.features and "muc" not in server.features
    await close(alice)
