"""Several domains in one server, and the authentication modes (``--domain`` repeatable,
``--auth``; docs/domains.md): each domain has its own accounts and services, and they talk
across the router as two servers would."""

from __future__ import annotations

import asyncio
import base64

import pytest

from minixmpp.config import ConfigError, Settings
from tests.helpers import Client, close, enable_push, eventually, future, http, login
from tests.rawtext import Raw, plain

TWO = {"domains": ["a.test", "b.test"], "user": ("alice@a.test:alice", "bob@b.test:bob",
                                                  "carol@b.test:carol")}


async def login_at(server, jid: str, password: str, **kw) -> Client:
    """A slixmpp client for an account on any served domain (``login`` takes the
    server's first domain)."""
    user, _, domain = jid.partition("@")

    class Domain:  # what login() reads of the server
        port, tls, settings = server.port, server.tls, type("S", (), {"domain": domain})

    return await login(Domain, user, password, **kw)


@pytest.mark.server_options(**TWO)
async def test_two_domains_exchange_a_message_and_a_subscription(server) -> None:
    assert set(server.hosts) == {"a.test", "b.test"}
    alice = await login_at(server, "alice@a.test", "alice")
    bob = await login_at(server, "bob@b.test", "bob")
    alice.send_message(mto="bob@b.test", mbody="across domains", mtype="chat")
    got = await bob.next_message()
    assert got["body"] == "across domains" and got["from"].bare == "alice@a.test"
    # RFC 6121 §3: a subscription request and its approval cross the router too
    subscribed = asyncio.get_running_loop().create_future()
    alice.add_event_handler("presence_subscribed",
                            lambda p: subscribed.done() or subscribed.set_result(p))
    bob.add_event_handler("presence_subscribe",
                          lambda p: bob.send_presence(pto=p["from"].bare, ptype="subscribed"))
    alice.send_presence(pto="bob@b.test", ptype="subscribe")
    await asyncio.wait_for(subscribed, 5)
    await eventually(lambda: (server.host("a.test").storage.rosters.get("alice", "bob@b.test")
                              or None) and server.host("a.test").storage.rosters.get(
                                  "alice", "bob@b.test").subscription == "to")
    assert server.host("b.test").storage.rosters.get("bob", "alice@a.test").subscription \
        == "from"
    # each domain has its own accounts: alice is not an account of b.test
    assert not server.host("b.test").accounts.exists("alice")
    await close(alice, bob)


@pytest.mark.server_options(**TWO)
async def test_a_push_for_the_second_domain_reaches_its_own_app_server(server) -> None:
    carol = await login_at(server, "carol@b.test", "carol", resource="phone")
    await enable_push(carol, "carol-node", jid="push.b.test")
    await close(carol)
    await eventually(lambda: not server.host("b.test").sessions.of("carol"))
    alice = await login_at(server, "alice@a.test", "alice")
    alice.send_message(mto="carol@b.test", mbody="wake up", mtype="chat")
    appserver = server.host("b.test").service("appserver")
    notification = await future(appserver.wait_for(server.reactor, account="carol"))
    assert notification.node == "carol-node" and appserver.jid == "push.b.test"
    assert notification.fields["last-message-sender"] == "alice@a.test/test"
    assert server.appserver.find(account="carol") == []  # not the first domain's
    await close(alice)


@pytest.mark.server_options(**TWO)
async def test_a_stream_for_another_domain_is_host_unknown_and_the_api_takes_a_domain(
        server) -> None:
    raw = await Raw.connect(server)
    raw.send("<?xml version='1.0'?><stream:stream xmlns='jabber:client' "
             "xmlns:stream='http://etherx.jabber.org/streams' to='c.test' version='1.0'>")
    closed = await raw.read_to_close()
    assert "<host-unknown xmlns='urn:ietf:params:xml:ns:xmpp-streams'/>" in closed
    api = f"http://127.0.0.1:{server.ports().http}/api"
    status, accounts = await http("GET", f"{api}/accounts?domain=b.test")
    assert status == 200 and {a["jid"] for a in accounts} == {"bob@b.test", "carol@b.test"}
    status, accounts = await http("GET", f"{api}/accounts")  # the first domain
    assert [a["jid"] for a in accounts] == ["alice@a.test"]
    assert (await http("GET", f"{api}/accounts?domain=c.test"))[0] == 404


@pytest.mark.server_options(auth="anonymous")
async def test_an_anonymous_login_works_and_leaves_nothing_behind(server) -> None:
    raw = await Raw.connect(server)
    features = await raw.open_stream()
    assert "<mechanism>ANONYMOUS</mechanism>" in features and ">PLAIN<" not in features
    raw.send("<auth xmlns='urn:ietf:params:xml:ns:xmpp-sasl' mechanism='ANONYMOUS'>"
             f"{base64.b64encode(b'trace').decode()}</auth>")
    assert "<success" in await raw.read_until("<success|<failure")
    await raw.open_stream()
    raw.send("<iq type='set' id='b'><bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'/></iq>")
    bound = await raw.read_until("</iq>")
    user = bound.split("<jid>")[1].split("@")[0]
    assert user.startswith("anon-") and server.accounts.exists(user)
    # it stores something like any account: a roster item and an offline message for it
    raw.send("<iq type='set' id='r'><query xmlns='jabber:iq:roster'><item "
             "jid='bob@localhost'/></query></iq>")
    await raw.read_until("id='r'")
    assert server.storage.rosters.items(user)
    raw.send("</stream:stream>")
    await raw.read_to_close()
    await eventually(lambda: not server.accounts.exists(user))
    assert server.storage.rosters.items(user) == []
    assert server.storage.offline.count(user) == 0 and server.storage.archive.messages(user) == []


@pytest.mark.server_options(auth="anonymous")
async def test_slixmpp_logs_in_anonymously(server) -> None:
    client = Client("localhost", "")  # no user: slixmpp takes SASL ANONYMOUS
    client.enable_direct_tls = client.enable_starttls = False
    client.enable_plaintext = True
    started = asyncio.get_running_loop().create_future()
    client.add_event_handler("session_start", lambda _: started.done() or
                             started.set_result(True))
    client.connect("127.0.0.1", server.port)
    await asyncio.wait_for(started, 5)
    assert client.boundjid.user.startswith("anon-") and client.boundjid.domain == "localhost"
    await close(client)


@pytest.mark.server_options(auth="any-password")
async def test_any_password_creates_an_unknown_account_on_first_login(server) -> None:
    assert not server.accounts.exists("zed")
    raw = await Raw.connect(server)
    features = await raw.open_stream()
    assert "<mechanism>PLAIN</mechanism>" in features and "SCRAM" not in features
    raw.send(f"<auth xmlns='urn:ietf:params:xml:ns:xmpp-sasl' mechanism='PLAIN'>"
             f"{plain('zed', 'whatever')}</auth>")
    assert "<success" in await raw.read_until("<success|<failure")
    raw.close()
    assert server.accounts.exists("zed")
    zed = await login(server, "zed", "something else")  # any password, and slixmpp too
    await close(zed)


def test_open_modes_need_loopback_listeners_and_modes_are_checked() -> None:
    with pytest.raises(ConfigError, match="--auth anonymous lets anyone log in"):
        Settings.build({"auth": "anonymous", "c2s": "tcp:5222:interface=0.0.0.0"})
    assert Settings.build({"auth": "anonymous", "c2s": "tcp:5222:interface=0.0.0.0",
                           "allow_insecure_auth": True}).auth_mode == "anonymous"
    with pytest.raises(ConfigError, match="the mode must be accounts, anonymous, any-password"):
        Settings.build({"auth": "guest"})
    with pytest.raises(ConfigError, match="c.test is not a served domain"):
        Settings.build({"auth": "c.test=anonymous"})
    with pytest.raises(ConfigError, match="not a served domain"):
        Settings.build({"user": ("x@c.test:pw",)})

