"""Tigase's push notices and XEP-0357 §8 remote disabling (docs/push.md, "Profiles"):
the message-count 0 push when offline messages are fetched, the account-removal notice,
and an App Server (in-process or external) taking a registration away. Each behaviour
also under a profile that lacks it."""

from __future__ import annotations

import pytest

from tests.helpers import barrier, close, enable_push, eventually, future, http, login
from tests.push.test_component import COMPONENTS, start_component
from tests.rawtext import raw_login

PUBSUB = "{http://jabber.org/protocol/pubsub}"


async def offline_with_a_message(server, profile_node: str = "n") -> None:
    """alice registered and went offline; bob's message pushed (offline) and waits."""
    alice = await login(server, "alice", resource="phone")
    await enable_push(alice, profile_node)
    await close(alice)
    await eventually(lambda: not server.sessions.of("alice"))
    bob = await login(server, "bob", resource="desk")
    bob.send_message(mto="alice@localhost", mbody="while you were out", mtype="chat")
    await barrier(bob)
    await close(bob)


# -- the message-count 0 push ------------------------------------------------------------

@pytest.mark.parametrize("profile, reset", [("tigase", True), ("minixmpp", False)])
async def test_fetching_offline_messages_pushes_message_count_0_under_tigase(
        xmpp_server_factory, profile, reset) -> None:
    test_server = xmpp_server_factory(user=("alice:alice", "bob:bob"), push_profile=profile)
    server = test_server.server
    await offline_with_a_message(server)
    [first] = test_server.notifications(account="alice")
    assert first.fields["message-count"] == "1"
    alice = await login(server, "alice", resource="laptop")  # initial presence: fetched
    assert (await alice.next_message())["body"] == "while you were out"
    await barrier(alice)
    later = test_server.notifications(account="alice", since=first.seq)
    if not reset:
        assert later == []
    else:
        [zero] = later
        assert zero.fields == {"message-count": "0"}  # no sender, no body
        decision = await future(test_server.assert_pushed_because("alice", "count-reset"))
        assert decision.detail == "alice@localhost/laptop fetched 1 offline message(s)"
    await close(alice)


@pytest.mark.server_options(push_count_reset=True)
async def test_push_count_reset_turns_it_on_for_minixmpp(test_server) -> None:
    server = test_server.server
    await offline_with_a_message(server)
    alice = await login(server, "alice", resource="laptop")
    n = await future(test_server.wait_for_push(account="alice", since=1))
    assert n.fields == {"message-count": "0"}
    await close(alice)


# -- the account-removal notice -------------------------------------------------------------

@pytest.mark.parametrize("removed", [True, False])
async def test_deleting_the_account_sends_tigases_removal_notice(xmpp_server_factory,
                                                                  removed) -> None:
    test_server = xmpp_server_factory(user=("alice:alice", "bob:bob"), push_profile="tigase",
                                      push_account_removed=removed, **COMPONENTS)
    server = test_server.server
    app = await start_component(server)
    alice = await login(server, "alice", resource="phone")
    await enable_push(alice, "ext-node", jid="pushapp.localhost")
    await close(alice)
    status, _ = await http("DELETE", f"{test_server.http_url}/api/accounts/alice")
    assert status == 204
    if not removed:
        await barrier(await login(server, "bob"))
        assert app.publishes == []
        return
    await eventually(lambda: app.publishes)
    [iq] = app.publishes
    notification = iq.xml.find(f"{PUBSUB}pubsub/{PUBSUB}publish/{PUBSUB}item/"
                               "{urn:xmpp:push:0}notification")
    event = notification.find("{http://tigase.org/protocol/account#event}event")
    assert event is not None and event.get("name") == "account-removed"
    fields = {f.get("var"): f.findtext("{jabber:x:data}value")
              for f in notification.iter("{jabber:x:data}field")}
    assert fields == {"FORM_TYPE": "urn:xmpp:push:summary", "message-count": "0"}
    assert server.storage.push.registrations("alice") == []
    app.disconnect()


# -- XEP-0357 §8 remote disabling ------------------------------------------------------------

def events(server, account: str = "alice") -> list[dict]:
    return [e for e in server.service("push").events if e["account"] == account]


@pytest.mark.parametrize("profile", ["minixmpp", "tigase"])
async def test_the_app_server_disables_a_registration_remotely_and_pushes_stop(
        xmpp_server_factory, profile) -> None:
    test_server = xmpp_server_factory(user=("alice:alice", "bob:bob"), push_profile=profile)
    server = test_server.server
    await offline_with_a_message(server, "gone-node")
    status, told = await http("POST", f"{test_server.http_url}/api/push/remote-disable",
                              {"node": "gone-node"})
    assert status == 200 and told == {"node": "gone-node", "account": "alice",
                                      "jid": "push.localhost"}
    await eventually(lambda: not server.storage.push.registrations("alice"))
    [event] = [e for e in events(server) if e["event"] == "remote-disabled"]
    assert event["node"] == "gone-node" and event["jid"] == "push.localhost"
    assert event["detail"] == ("XEP-0357 §8: push.localhost set the affiliation of "
                               "alice@localhost with node gone-node to none")
    seen = len(test_server.push_decisions("alice"))
    bob = await login(server, "bob", resource="desk")
    bob.send_message(mto="alice@localhost", mbody="anyone?", mtype="chat")
    await barrier(bob)
    assert len(test_server.notifications(account="alice")) == 1  # only the first
    assert len(test_server.push_decisions("alice")) == seen  # no registration, no decision
    # the notice itself reached alice (stored offline): a client may want to know
    alice = await raw_login(server, "alice", "laptop")
    alice.send("<presence/>")
    text = await alice.read_until("affiliation='none'")
    assert "<pubsub xmlns='http://jabber.org/protocol/pubsub' node='gone-node'>" in text
    alice.close()
    await close(bob)


@pytest.mark.server_options(push_profile="prosody")
async def test_prosody_ignores_remote_disabling_and_counts_the_errors_instead(test_server) -> None:
    server = test_server.server
    await offline_with_a_message(server, "gone-node")
    test_server.remote_disable_push("gone-node")
    bob = await login(server, "bob", resource="desk")
    bob.send_message(mto="alice@localhost", mbody="anyone?", mtype="chat")
    await barrier(bob)
    [r] = server.storage.push.registrations("alice")  # still there
    await eventually(lambda: r.errors == 1)
    assert r.last_error == "forbidden"  # the App Server took the affiliation away
    assert not [e for e in events(server) if e["event"] == "remote-disabled"]
    await future(test_server.assert_pushed_because("alice", "offline"))
    await close(bob)


@pytest.mark.server_options(**COMPONENTS)
async def test_an_external_app_server_disables_remotely_and_only_its_own_registration(
        test_server) -> None:
    server = test_server.server
    app = await start_component(server)
    alice = await login(server, "alice", resource="phone")
    await enable_push(alice, "ext-node", jid="pushapp.localhost")
    await enable_push(alice, "ext-node")  # the same node at the in-process App Server
    bob = await login(server, "bob", resource="desk")

    def notice(sender, node: str = "ext-node", who: str = "alice@localhost",
               stream: str = "jabber:component:accept") -> str:
        return (f"<message xmlns='{stream}' from='{sender}' to='alice@localhost'>"
                f"<pubsub xmlns='http://jabber.org/protocol/pubsub' node='{node}'>"
                f"<affiliation jid='{who}' affiliation='none'/></pubsub></message>")

    # a user cannot do it, nor can it be about another account
    bob.send_raw(notice("bob@localhost", stream="jabber:client").replace(
        " from='bob@localhost'", ""))
    app.send_raw(notice("pushapp.localhost", who="bob@localhost"))
    await barrier(bob)
    assert len(server.storage.push.registrations("alice")) == 2
    app.send_raw(notice("pushapp.localhost"))
    await eventually(lambda: len(server.storage.push.registrations("alice")) == 1)
    [kept] = server.storage.push.registrations("alice")
    assert (kept.jid, kept.node) == ("push.localhost", "ext-node")
    await close(alice, bob)
    app.disconnect()


async def test_the_xep_0060_affiliations_wrapper_is_read_too(test_server) -> None:
    """Also read: ``<affiliations node>`` around the affiliation (XEP-0060 §8.9.4)."""
    server = test_server.server
    alice = await login(server, "alice", resource="phone")
    await enable_push(alice, "n1")
    test_server.appserver.send(affiliations_notice())
    await eventually(lambda: not server.storage.push.registrations("alice"))
    await close(alice)


def affiliations_notice():
    from twisted.words.xish import domish

    message = domish.Element((None, "message"), None,
                             {"from": "push.localhost", "to": "alice@localhost"})
    affiliations = message.addElement(("http://jabber.org/protocol/pubsub#event", "pubsub"))
    affiliations = affiliations.addElement("affiliations")
    affiliations["node"] = "n1"
    affiliation = affiliations.addElement("affiliation")
    affiliation["jid"], affiliation["affiliation"] = "alice@localhost/phone", "none"
    return message
