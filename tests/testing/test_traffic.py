"""Traffic capture (docs/api.md "Traffic"): every element in and out of every stream,
from Python (``traffic()``, ``expect()``) and over HTTP (``/api/traffic``, ``/wait``)."""

from __future__ import annotations

import pytest
from twisted.internet import defer

from tests.helpers import barrier, close, future, http, login

CARBON = "/message/received[@xmlns='urn:xmpp:carbons:2']"


async def carbons_on(server, resource: str):
    c = await login(server, "alice", resource=resource, plugins=("xep_0280",))
    await c["xep_0280"].enable()
    return c


async def test_expect_sees_a_carbon_copy_arrive(test_server) -> None:
    server = test_server.server
    phone = await carbons_on(server, "phone")
    laptop = await carbons_on(server, "laptop")
    bob = await login(server, "bob")
    mark = test_server.mark()
    copy = future(test_server.expect("alice@localhost/laptop", CARBON, since=mark))
    bob.send_message(mto="alice@localhost/phone", mbody="to the phone", mtype="chat")
    seen = await copy
    assert seen.direction == "out" and seen.jid == "alice@localhost/laptop"
    forwarded = seen.element.received.forwarded.message
    assert str(forwarded.body) == "to the phone"
    assert forwarded["to"] == "alice@localhost/phone"
    # the message itself went in on bob's stream and out on the phone's
    ins = test_server.traffic("bob@localhost/test", since=mark, direction="in")
    assert [str(e.element.body) for e in ins if e.element.name == "message"] == \
        ["to the phone"]
    outs = test_server.traffic("alice@localhost/phone", since=mark, direction="out")
    assert any(e.element is not None and e.element.name == "message" for e in outs)
    await close(phone, laptop, bob)


async def test_expect_with_a_predicate_times_out_when_nothing_matches(test_server) -> None:
    alice = await login(test_server.server, "alice")
    with pytest.raises(defer.TimeoutError):
        await future(test_server.expect(
            "alice@localhost", lambda e: e.name == "message", timeout=0.3,
            since=test_server.mark()))
    await close(alice)


async def test_passwords_and_sasl_payloads_are_masked(test_server) -> None:
    alice = await login(test_server.server, "alice")
    auth = [e for e in test_server.traffic(direction="in") if "<auth" in e.xml]
    assert auth and all("***" in e.xml for e in auth)
    assert not any("alice" in e.xml for e in auth)
    await close(alice)


@pytest.mark.server_options(traffic=5)
async def test_the_ring_never_grows_beyond_its_bound(test_server) -> None:
    alice = await login(test_server.server, "alice")
    for _ in range(5):
        await barrier(alice)
    kept = test_server.traffic()
    assert len(kept) == 5
    assert [e.seq for e in kept] == sorted(e.seq for e in kept)
    status, body = await http("GET", f"{test_server.http_url}/api/traffic")
    assert status == 200 and len(body) == 5
    await close(alice)


async def test_http_lists_and_long_polls_the_traffic(test_server) -> None:
    api = f"{test_server.http_url}/api"
    alice = await login(test_server.server, "alice")
    bob = await login(test_server.server, "bob")
    status, before = await http("GET", f"{api}/traffic?jid=alice@localhost")
    assert status == 200 and before
    assert {e["jid"] for e in before} == {"alice@localhost/test"}
    assert set(before[0]) == {"seq", "time", "direction", "stream", "jid", "xml"}
    since = before[-1]["seq"]
    waiting = http("GET", f"{api}/traffic/wait?jid=alice@localhost/test&direction=out"
                          f"&contains=over%20http&since={since}&timeout=5")
    bob.send_message(mto="alice@localhost/test", mbody="over http", mtype="chat")
    status, got = await waiting
    assert status == 200 and got["direction"] == "out" and "over http" in got["xml"]
    assert got["stream"].startswith("c2s ")
    status, body = await http("GET", f"{api}/traffic/wait?jid=nobody@localhost"
                                     f"&timeout=0.2")
    assert status == 408 and "no matching element" in body["error"]
    for bad in ("direction=sideways", "since=-1", "since=x", "timeout=0", "timeout=301"):
        status, body = await http("GET", f"{api}/traffic?{bad}" if "timeout" not in bad
                                  else f"{api}/traffic/wait?{bad}")
        assert status == 400, bad
    status, _ = await http("DELETE", f"{api}/traffic")
    assert status == 204
    status, after = await http("GET", f"{api}/traffic?since={since}")
    assert status == 200 and not any("over http" in e["xml"] for e in after)
    await close(alice, bob)


@pytest.mark.server_options(traffic=0)
async def test_capture_off_is_a_clear_404(test_server) -> None:
    status, body = await http("GET", f"{test_server.http_url}/api/traffic")
    assert status == 404 and "--traffic 0" in body["error"]
    with pytest.raises(RuntimeError, match="off"):
        test_server.traffic()


@pytest.mark.server_options(component=("pushapp.localhost:s3cret",),
                             components="tcp:0:interface=127.0.0.1")
async def test_websocket_and_component_streams_are_captured(test_server) -> None:
    from tests.c2s.test_websocket import WS
    from tests.push.test_component import start_component

    server = test_server.server
    app = await start_component(server)
    ws = await WS.connect(server)
    await ws.open()
    await ws.login("alice", "web")
    await ws.send("<iq xmlns='jabber:client' type='set' id='p1'>"
                  "<enable xmlns='urn:xmpp:push:0' jid='pushapp.localhost' node='n1'/></iq>")
    await ws.next("<iq id='p1'/>")
    await ws.send("<presence xmlns='jabber:client'><show>away</show></presence>")
    mark = test_server.mark()
    published = future(test_server.expect("pushapp.localhost", "/iq/pubsub/publish",
                                          since=mark))
    await ws.aclose()
    bob = await login(server, "bob")
    bob.send_message(mto="alice@localhost", mbody="for the app server", mtype="chat")
    seen = await published
    assert seen.stream == "component pushapp.localhost" and seen.direction == "out"
    assert seen.element.pubsub.publish["node"] == "n1"
    web = test_server.traffic("alice@localhost/web")
    assert web and all(e.stream.startswith("websocket ") for e in web)
    assert {"in", "out"} <= {e.direction for e in web}
    answered = future(test_server.expect("pushapp.localhost", "/iq[@type='result']",
                                         since=seen.seq, direction="in"))
    assert (await answered).stream == "component pushapp.localhost"
    app.disconnect()
    await close(bob)


async def test_what_came_in_is_kept_byte_for_byte(test_server) -> None:
    import asyncio

    from tests.rawtext import raw_login

    raw = await raw_login(test_server.server, "alice", "raw")
    mark = test_server.mark()
    sent = ["<message to='bob@localhost' type=\"chat\" id='m1'><body>Grüße &amp; 😀</body>"
            "<x xmlns='urn:example'/></message >",
            "<presence/>",
            "<iq type='get' id='p1'><ping xmlns='urn:xmpp:ping'/></iq>"]
    whole = "".join(sent).encode()
    for i in range(0, len(whole), 7):  # arriving in small pieces, split mid-character
        raw.send(whole[i:i + 7])
        await asyncio.sleep(0)
    await raw.read_until("id='p1'")
    ins = test_server.traffic("alice@localhost/raw", since=mark, direction="in")
    assert [e.xml for e in ins] == sent
    assert ins[0].element.body.children == ["Grüße & 😀"]
    raw.send("<presence type='unavailable'/></stream:stream>")
    await raw.read_to_close()
    last = test_server.traffic("alice@localhost/raw", since=ins[-1].seq, direction="in")
    assert [e.xml for e in last] == ["<presence type='unavailable'/>"]


async def test_credentials_are_masked_in_and_out(test_server) -> None:
    import base64
    import re

    from tests.rawtext import Raw, plain

    server = test_server.server
    raw = await Raw.connect(server)
    await raw.open_stream()
    raw.send("<authenticate xmlns='urn:xmpp:sasl:2' mechanism='PLAIN'><initial-response>"
             f"{plain('alice', 'alice')}</initial-response><user-agent id='"
             "d4565fa7-4d72-4749-b3d3-740edbf87770'><software>Tester</software>"
             "</user-agent><request-token xmlns='urn:xmpp:fast:0' mechanism='HT-SHA-256-NONE'"
             "/></authenticate>")
    success = await raw.read_until("</success>")
    token = re.search(r"token='([^']+)'", success)
    captured = " ".join(e.xml for e in test_server.traffic())
    assert plain("alice", "alice") not in captured
    assert base64.b64encode(b"alice").decode() not in captured
    assert "<software>Tester</software>" in captured  # what is no secret stays
    if token is not None:
        assert token.group(1) not in captured and "token='***'" in captured
    raw.send("<iq type='set' id='r1'><query xmlns='jabber:iq:register'><username>alice"
             "</username><password>n3w-s3cret</password></query></iq>")
    await raw.read_until("id='r1'")
    captured = " ".join(e.xml for e in test_server.traffic())
    assert "n3w-s3cret" not in captured and "<password>***</password>" in captured
    raw.close()


async def test_bosh_requests_are_captured_between_released_parsers(test_server) -> None:
    """An idle BOSH stream drops its parser between requests; each later request's
    stanzas are still captured, as the stream read them out of the ``<body/>``."""
    from tests.c2s.bosh import Bosh

    bosh = Bosh(test_server.server)
    await bosh.login("alice", "idle")
    mark = test_server.mark()
    await bosh.send("<iq type='get' id='p1' to='localhost'><ping xmlns='urn:xmpp:ping'/></iq>")
    await bosh.send("<iq xmlns='jabber:client' type='get' id='één' to='localhost'>"
                    "<query xmlns='jabber:iq:version'/></iq>")
    ins = test_server.traffic("alice@localhost/idle", since=mark, direction="in")
    assert [(e.element.name, e.element["id"]) for e in ins] == [("iq", "p1"), ("iq", "één")]
    assert [e.element.firstChildElement().uri for e in ins] == [
        "urn:xmpp:ping", "jabber:iq:version"]
    assert all(e.stream.startswith("bosh ") for e in ins)
    outs = test_server.traffic("alice@localhost/idle", since=mark, direction="out")
    assert {e.element["id"] for e in outs if e.element is not None} >= {"p1", "één"}
