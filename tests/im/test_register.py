"""In-band registration (XEP-0077) end to end with slixmpp's xep_0077: register before
authentication, conflict / not-acceptable, password change, removal (streams close, data
goes), the per-address rate limit and --registration off; memory and SQLite."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from tests.helpers import Client, client_ssl_context, close, login
from tests.raw import Raw, raw_login, stanza_error
from tests.xmlassert import assert_xml, find

STORAGE = ["memory", "sqlite"]
REGISTER = "jabber:iq:register"
FEATURE = "http://jabber.org/features/iq-register"


@pytest.fixture(params=STORAGE)
def any_storage(request, server_factory, tmp_path):
    def make(**options: Any):
        if request.param == "sqlite":
            options["data_dir"] = str(tmp_path / "data")
        return server_factory(**options)
    return make


async def register(server, user: str, password: str) -> tuple[Client, Any]:
    """slixmpp registering ``user`` in-band, then logging in with it; returns the client
    and the registration result (an Iq, or the error condition)."""
    c = Client(f"{user}@localhost/reg", password, ssl_context=client_ssl_context(server))
    c.enable_direct_tls = False
    c.enable_starttls = True
    c.register_plugin("xep_0077")
    c["xep_0077"].force_registration = True
    done: asyncio.Future = asyncio.get_event_loop().create_future()
    outcome: dict[str, Any] = {}

    async def on_register(_: Any) -> None:
        iq = c.Iq()
        iq["type"] = "set"
        iq["register"]["username"] = user
        iq["register"]["password"] = password
        try:
            outcome["result"] = await iq.send()
        except Exception as e:  # noqa: BLE001  (IqError: keep the condition)
            outcome["result"] = e.iq["error"]["condition"]
            done.done() or done.set_result("refused")
            c.disconnect()

    c.add_event_handler("register", on_register)
    c.add_event_handler("session_start", lambda _: done.done() or done.set_result("in"))
    c.add_event_handler("failed_all_auth", lambda _: done.done() or done.set_result("fail"))
    c.connect("127.0.0.1", server.port)
    state = await asyncio.wait_for(done, 10)
    return c, (state, outcome.get("result"))


async def test_feature_and_form_before_authentication(server) -> None:
    raw = await Raw.connect(server)
    features = await raw.open_stream()
    assert_xml(features, f"<stream:features><register xmlns='{FEATURE}'/></stream:features>")
    raw.send(f"<iq type='get' id='g'><query xmlns='{REGISTER}'/></iq>")
    assert_xml(await raw.next("<iq id='g'/>"), f"""
        <iq type='result' id='g'><query xmlns='{REGISTER}'>
          <username/><password/><x xmlns='jabber:x:data'/>
        </query></iq>""")
    raw.close()


async def test_register_log_in_change_password_and_remove(any_storage) -> None:
    server = any_storage()
    dave, (state, _) = await register(server, "dave", "first")
    assert state == "in" and dave.boundjid.full == "dave@localhost/reg"
    assert server.accounts.exists("dave")
    try:
        await dave["xep_0077"].change_password("second")
        assert server.accounts.check_password("dave", "second")
        assert not server.accounts.check_password("dave", "first")
    finally:
        await close(dave)
    # the new password logs in; the old one does not
    with pytest.raises(AssertionError):
        await login(server, "dave", "first", timeout=5)
    dave = await login(server, "dave", "second", plugins=("xep_0077",))
    other = await login(server, "dave", "second", resource="other")
    bob = await login(server, "bob")
    dave.send_presence(pto="bob@localhost", ptype="subscribe")
    bob.send_message(mto="dave@localhost/other", mbody="barrier", mtype="chat")
    await other.next_message()
    assert server.storage.rosters.items("dave")
    # removal: the result, then both of dave's streams close; the data is gone
    ended: asyncio.Future = asyncio.get_event_loop().create_future()
    other.add_event_handler("disconnected", lambda _: ended.done() or ended.set_result(1))
    await dave["xep_0077"].cancel_registration()
    await asyncio.wait_for(ended, 10)
    assert "not-authorized" in other.stream_errors
    assert not server.accounts.exists("dave") and not server.storage.rosters.items("dave")
    assert not list(server.sessions.of("dave"))
    await close(dave, other, bob)


async def test_conflict_and_not_acceptable(server) -> None:
    c, (state, condition) = await register(server, "alice", "whatever")
    assert (state, condition) == ("refused", "conflict")
    raw = await Raw.connect(server)
    await raw.open_stream()
    for qid, query in (("bad", "<username>a b@c</username><password>x</password>"),
                       ("nopw", "<username>erin</username>"),
                       ("empty", "<username></username><password>x</password>")):
        raw.send(f"<iq type='set' id='{qid}'><query xmlns='{REGISTER}'>{query}</query></iq>")
        assert_xml(await raw.next(f"<iq id='{qid}'/>"),
                   stanza_error("iq", "not-acceptable", id=qid))
    # positive control: a good name on the same stream is accepted
    raw.send(f"<iq type='set' id='ok'><query xmlns='{REGISTER}'>"
             "<username>erin</username><password>pw</password></query></iq>")
    assert_xml(await raw.next("<iq id='ok'/>"), "<iq type='result' id='ok'/>")
    raw.close()
    assert server.accounts.check_password("erin", "pw")


@pytest.mark.server_options(registration_limit=2)
async def test_per_address_rate_limit(server) -> None:
    raw = await Raw.connect(server)
    await raw.open_stream()
    replies = []
    for n in range(3):
        raw.send(f"<iq type='set' id='r{n}'><query xmlns='{REGISTER}'>"
                 f"<username>user{n}</username><password>pw</password></query></iq>")
        replies.append(await raw.next(f"<iq id='r{n}'/>"))
    raw.close()
    assert_xml(replies[0], "<iq type='result'/>")
    assert_xml(replies[1], "<iq type='result'/>")
    assert_xml(replies[2], stanza_error("iq", "resource-constraint", "wait"))
    assert not server.accounts.exists("user2")


@pytest.mark.server_options(registration="off")
async def test_registration_off(server) -> None:
    raw = await Raw.connect(server)
    features = await raw.open_stream()
    assert find(features, f"<register xmlns='{FEATURE}'/>") is None
    raw.send(f"<iq type='set' id='r'><query xmlns='{REGISTER}'>"
             "<username>mallory</username><password>pw</password></query></iq>")
    assert_xml(await raw.next("<iq id='r'/>"), stanza_error("iq", "service-unavailable"))
    raw.close()
    assert not server.accounts.exists("mallory")
    alice = await raw_login(server, "alice")
    alice.send(f"<iq type='set' id='c'><query xmlns='{REGISTER}'>"
               "<username>alice</username><password>new</password></query></iq>")
    assert_xml(await alice.next("<iq id='c'/>"), stanza_error("iq", "service-unavailable"))
    alice.close()
    assert server.accounts.check_password("alice", "alice")


async def test_cannot_change_another_accounts_password(server) -> None:
    alice = await raw_login(server, "alice")
    alice.send(f"<iq type='set' id='c'><query xmlns='{REGISTER}'>"
               "<username>bob</username><password>stolen</password></query></iq>")
    assert_xml(await alice.next("<iq id='c'/>"), stanza_error("iq", "not-allowed"))
    alice.close()
    assert server.accounts.check_password("bob", "bob")
