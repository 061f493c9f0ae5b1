"""--push-profile: the same scenario list under every profile, each asserting that
profile's documented outcome (docs/push.md, "Profiles")."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from typing import Any

import pytest
from twisted.words.protocols.jabber.jid import JID

from tests.helpers import (
    ROOT,
    barrier,
    close,
    disable_push,
    enable_push,
    eventually,
    iq_error,
    kill_tcp,
    login,
    push_iq,
    wait_push,
)
from tests.raw import Raw, stanza_error
from tests.xmlassert import assert_xml

PROFILES = ("minixmpp", "tigase", "prosody", "ejabberd", "mongooseim")
NS_X = "{jabber:x:data}"

#: profile → the documented outcome of each scenario (docs/push.md, "Profiles").
EXPECTED: dict[str, dict[str, Any]] = {
    "minixmpp": dict(away_feature=True, extensions=True, no_node="result",
                     form=("submit", {"message-count": "1"}, False),
                     other_resource_online=0, errors_cancel=[False] * 3,
                     errors_wait=[True] * 3, disable_one_node=["n2"], disable_nothing="result",
                     hibernated=1, before_auth="not-authorized"),
    "tigase": dict(away_feature=True, extensions=True, no_node="bad-request",
                   form=("submit", {"message-count": "1"}, False),
                   other_resource_online=0, errors_cancel=[False] * 3,
                   errors_wait=[True] * 3, disable_one_node=["n2"], disable_nothing="result",
                   hibernated=1, before_auth="not-authorized"),
    "prosody": dict(away_feature=False, extensions=False, no_node="result",
                    form=("form", {"message-count": "1", "pending-subscription-count": None},
                          False),
                    other_resource_online=1, errors_cancel=[True] * 3,
                    errors_wait=[True] * 3, disable_one_node=["n2"], disable_nothing="result",
                    hibernated=1, before_auth="service-unavailable"),
    "ejabberd": dict(away_feature=False, extensions=False, no_node="feature-not-implemented",
                     form=("submit", {}, True),
                     other_resource_online=1, errors_cancel=[False] * 3,
                     errors_wait=[True] * 3, disable_one_node=[],
                     disable_nothing="item-not-found", hibernated=2,
                     before_auth="not-authorized"),
    "mongooseim": dict(away_feature=False, extensions=False, no_node="bad-request",
                       form=("submit", {"message-count": "1"}, False),
                       other_resource_online=0, errors_cancel=[False] * 3,
                       errors_wait=[True] * 3, disable_one_node=["n2"],
                       disable_nothing="result", hibernated=0,
                       before_auth="not-authorized"),
}


def expected(profile: str, scenario: str) -> Any:
    return EXPECTED[profile][scenario]


async def offline_alice(server, node: str = "n") -> None:
    alice = await login(server, "alice", resource="phone")
    await enable_push(alice, node)
    await close(alice)
    await eventually(lambda: not server.sessions.of("alice"))


def pushes(server) -> list[Any]:
    return server.appserver.find(account="alice")


profiles = pytest.mark.parametrize("profile", PROFILES)


@profiles
async def test_profile_account_features(server_factory, profile) -> None:
    server = server_factory(push_profile=profile)
    alice = await login(server, "alice")
    alice.register_plugin("xep_0030")
    features = set((await alice["xep_0030"].get_info(jid="alice@localhost")
                    )["disco_info"]["features"])
    assert "urn:xmpp:push:0" in features
    assert ("tigase:push:away:0" in features) == expected(profile, "away_feature")
    assert ("tigase:push:encrypt:0" in features) == expected(profile, "extensions")
    assert ("tigase:push:priority:0" in features) == expected(profile, "extensions")
    await close(alice)


@profiles
async def test_profile_enable_without_node(server_factory, profile) -> None:
    server = server_factory(push_profile=profile)
    alice = await login(server, "alice")
    outcome = expected(profile, "no_node")
    if outcome == "result":
        await enable_push(alice, None)
        assert [r.node for r in server.storage.push.registrations("alice")] == [None]
    else:
        assert await iq_error(push_iq(alice, "enable", node=None)) == outcome
        assert server.storage.push.registrations("alice") == []
    await close(alice)


@profiles
async def test_profile_summary_form(server_factory, profile) -> None:
    server = server_factory(push_profile=profile)
    await offline_alice(server)
    bob = await login(server, "bob", resource="desk")
    bob.send_message(mto="alice@localhost", mbody="Hi", mtype="chat")
    n = await wait_push(server, account="alice")
    form_type, extra, labels = expected(profile, "form")
    x = ET.fromstring(n.xml).find(".//{urn:xmpp:push:0}notification/" + NS_X + "x")
    assert x.get("type") == form_type
    fields = {f.get("var"): f for f in x.findall(NS_X + "field")}
    values = {var: (f.findtext(NS_X + "value")) for var, f in fields.items()}
    assert values == {"FORM_TYPE": "urn:xmpp:push:summary", **extra,
                      "last-message-sender": "bob@localhost/desk", "last-message-body": "Hi"}
    assert (fields["last-message-body"].get("label") is not None) == labels
    await close(bob)


@profiles
async def test_profile_message_while_another_resource_is_online(server_factory, profile
                                                                 ) -> None:
    """The registration's own session is gone, another resource is plainly available:
    Prosody and ejabberd push the archived message anyway."""
    server = server_factory(push_profile=profile)
    await offline_alice(server)
    desktop = await login(server, "alice", resource="desktop")
    bob = await login(server, "bob")
    bob.send_message(mto="alice@localhost", mbody="hello", mtype="chat")
    assert (await desktop.next_message())["body"] == "hello"
    await barrier(bob)
    assert len(pushes(server)) == expected(profile, "other_resource_online")
    await close(desktop, bob)


@pytest.mark.parametrize("condition, kind, scenario", [
    ("item-not-found", "cancel", "errors_cancel"),
    ("internal-server-error", "wait", "errors_wait")])
@profiles
async def test_profile_error_policy(server_factory, profile, condition, kind, scenario
                                    ) -> None:
    """Three messages, each published unless the registration is gone: is it kept?"""
    server = server_factory(push_profile=profile)
    await offline_alice(server, "bad")
    server.appserver.fail("bad", condition, type=kind)
    bob = await login(server, "bob")
    kept = []
    for i in range(3):
        bob.send_message(mto="alice@localhost", mbody=str(i), mtype="chat")
        await barrier(bob)
        kept.append(bool(server.storage.push.registrations("alice")))
    assert kept == expected(profile, scenario)
    # Positive control: a registration that is kept still pushes once the App Server
    # recovers.
    server.appserver.recover("bad")
    if kept[-1]:
        bob.send_message(mto="alice@localhost", mbody="ok", mtype="chat")
        assert (await wait_push(server, account="alice")).node == "bad"
    await close(bob)


@profiles
async def test_profile_disable_one_node(server_factory, profile) -> None:
    server = server_factory(push_profile=profile)
    alice = await login(server, "alice", resource="phone")
    await enable_push(alice, "n1")
    await enable_push(alice, "n2")
    await disable_push(alice, "n1")
    assert [r.node for r in server.storage.push.registrations("alice")] == expected(
        profile, "disable_one_node")
    await close(alice)


@profiles
async def test_profile_disable_that_matches_nothing(server_factory, profile) -> None:
    server = server_factory(push_profile=profile)
    alice = await login(server, "alice")
    outcome = expected(profile, "disable_nothing")
    if outcome == "result":
        await disable_push(alice, "nothing")
    else:
        assert await iq_error(push_iq(alice, "disable", node="nothing")) == outcome
    await close(alice)


@profiles
async def test_profile_hibernated_session(server_factory, profile) -> None:
    """Two messages queued for a hibernated session: how many pushes."""
    server = server_factory(push_profile=profile)
    alice = await login(server, "alice", resource="phone", plugins=("xep_0198",))
    await eventually(lambda: server.sessions.get(JID("alice@localhost/phone")).sm
                         is not None)
    await enable_push(alice, "n")
    session = server.sessions.get(JID("alice@localhost/phone"))
    # everything acknowledged: an unacknowledged stanza would push when it hibernates
    await eventually(lambda: not session.sm.queue)
    kill_tcp(alice)
    await eventually(lambda: session.hibernated)
    bob = await login(server, "bob")
    bob.send_message(mto="alice@localhost", mbody="one", mtype="chat")
    bob.send_message(mto="alice@localhost", mbody="two", mtype="chat")
    await barrier(bob)
    count = expected(profile, "hibernated")
    if profile == "prosody":  # batched on a 1 s timer: one push, for the first important
        n = await wait_push(server, account="alice")
        assert n.fields["last-message-body"] == "one"
        await barrier(bob)
    assert len(pushes(server)) == count
    if count:
        assert pushes(server)[0].fields["last-message-body"] in ("one", "two")
    else:  # positive control: the messages did reach the hibernated queue
        assert [str(s.body) for s in session.sm.queue if s.body] [-2:] == ["one", "two"]
    await close(bob)


@profiles
async def test_profile_enable_before_authentication(server_factory, profile) -> None:
    server = server_factory(push_profile=profile)
    raw = await Raw.connect(server)
    await raw.open_stream()
    raw.send("<iq type='set' id='e'><enable xmlns='urn:xmpp:push:0' jid='push.localhost' "
             "node='n'/></iq>")
    outcome = expected(profile, "before_auth")
    if outcome == "not-authorized":
        await raw.stream_error("not-authorized")
    else:
        assert_xml(await raw.next("<iq/>"), stanza_error("iq", outcome, id="e"))
        raw.close()
    assert server.storage.push.users() == []


def test_every_profile_is_documented_and_uses_known_choices() -> None:
    from minixmpp.push.profiles import CHOICES
    from minixmpp.push.profiles import PROFILES as TABLE

    assert tuple(TABLE) == PROFILES == tuple(EXPECTED)
    for p in TABLE.values():
        for name, allowed in CHOICES.items():
            assert getattr(p, name) in allowed, (p.name, name)
    doc = (ROOT / "docs" / "push.md").read_text()
    header = next(line for line in doc.splitlines() if line.startswith("| behaviour |"))
    assert [c.strip() for c in header.strip("|").split("|")][1:] == list(PROFILES)


@pytest.mark.parametrize("option, value, message", [
    ("push_profile", "openfire", "--push-profile must be one of minixmpp, tigase, prosody, "
                                 "ejabberd, mongooseim, not 'openfire'"),
    ("push_groupchat", "sometimes", "--push-groupchat must be never, mentions or always"),
])
def test_bad_push_profile_or_groupchat_is_one_clear_line(option, value, message) -> None:
    from minixmpp.config import ConfigError, Settings

    with pytest.raises(ConfigError) as raised:
        Settings.build({option: value})
    assert message in str(raised.value) and "\n" not in str(raised.value)
