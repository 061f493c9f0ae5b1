"""Hostile clients (bounded, loopback only): each gets the right error, memory stays
bounded, and a bystander pair keeps talking throughout."""

from __future__ import annotations

import asyncio
import resource

import pytest
from twisted.words.protocols.jabber.jid import JID

from tests.helpers import block, close, eventually, iq_error, login, push_iq
from tests.raw import SASL, STANZA_ERRORS, STREAM_ERRORS, Raw, plain, raw_login
from tests.xmlassert import assert_xml, child_text

STREAM = ("<?xml version='1.0'?><stream:stream xmlns='jabber:client' "
          "xmlns:stream='http://etherx.jabber.org/streams' to='localhost' version='1.0'>")
LAUGHS = ("<?xml version='1.0'?><!DOCTYPE lolz [<!ENTITY lol 'lol'>"
          + "".join(f"<!ENTITY lol{i} '{'&lol' + str(i - 1) + ';' if i > 1 else '&lol;'}"
                    f"{('&lol' + str(i - 1) + ';') * 9 if i > 1 else '&lol;' * 9}'>"
                    for i in range(1, 10))
          + "]><stream:stream xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/"
            "streams' to='localhost' version='1.0'><message><body>&lol9;</body></message>")


def rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


class Bystanders:
    """Two clients that must keep exchanging messages while others misbehave."""

    def __init__(self, a, b) -> None:
        self.a, self.b, self.n = a, b, 0

    async def check(self) -> None:
        self.n += 1
        self.a.send_message(mto="bob@localhost/bystander", mbody=f"still here {self.n}",
                            mtype="chat")
        got = await self.b.next_message(timeout=5)
        assert got["body"] == f"still here {self.n}"


@pytest.fixture
def bystanders(server):
    a = block(login(server, "alice", resource="bystander"))
    b = block(login(server, "bob", resource="bystander"))
    yield Bystanders(a, b)
    block(close(a, b))


def query(client, namespace: str, name: str = "query", to: str = "alice@localhost"):
    """An IQ set with one empty child, addressed to someone else's bare JID."""
    import xml.etree.ElementTree as ET

    iq = client.make_iq(itype="set", ito=to)
    iq.xml.append(ET.Element(f"{{{namespace}}}{name}"))
    return iq


async def hostile(server, data: bytes | str, chunk: int = 65536) -> Raw:
    """A client that sends ``data`` as fast as the server reads it, until it is closed."""
    raw = await Raw.connect(server)
    data = data.encode() if isinstance(data, str) else data
    for i in range(0, len(data), chunk):
        if raw.reader.at_eof() or raw.writer.is_closing():
            break
        raw.send(data[i:i + chunk])
        try:
            await asyncio.wait_for(raw.writer.drain(), 5)
        except (TimeoutError, ConnectionError):
            break
    return raw


HOSTILE = [
    ("billion-laughs", LAUGHS, "restricted-xml"),
    ("10MB-stanza", STREAM + "<message><body>" + "x" * (10 * 1024 * 1024) + "</body></message>",
     "policy-violation"),
    ("10000-nested", STREAM + "<message>" + "<a>" * 10000 + "</a>" * 10000 + "</message>",
     "policy-violation"),
    ("invalid-utf8", STREAM.encode() + b"<message><body>\xff\xfe\xc3\x28</body></message>",
     "not-well-formed"),
    ("stanza-before-header", "<message to='bob@localhost'><body>hi</body></message>",
     "invalid-namespace"),
    ("message-before-auth", STREAM + "<message to='bob@localhost'><body>hi</body></message>",
     "not-authorized"),
    ("processing-instruction", STREAM + "<?evil stuff?>", "restricted-xml"),
    ("comment", STREAM + "<!-- hello -->", "restricted-xml"),
    ("unknown-top-level", STREAM + "<foo xmlns='urn:example'/>", "unsupported-stanza-type"),
]


@pytest.mark.parametrize("name, data, condition", HOSTILE, ids=[h[0] for h in HOSTILE])
async def test_hostile_input_gets_the_right_stream_error(server, bystanders, name, data,
                                                         condition) -> None:
    before = rss_mb()
    raw = await hostile(server, data)
    await raw.stream_error(condition, timeout=10)
    assert rss_mb() - before < 100, "memory must stay bounded"
    await bystanders.check()


async def test_invalid_jid_in_to_is_jid_malformed(server, bystanders) -> None:
    raw = await raw_login(server, "carol")
    raw.send("<message to='a@b@c' type='chat' id='bad'><body>x</body></message>")
    assert_xml(await raw.next("<message id='bad'/>"), "<message type='error' id='bad'><error>"
               f"<jid-malformed xmlns='{STANZA_ERRORS}'/></error></message>")
    raw.send("<iq to='@localhost' type='get' id='bad2'><ping xmlns='urn:xmpp:ping'/></iq>")
    assert_xml(await raw.next("<iq id='bad2'/>"), "<iq type='error' id='bad2'><error>"
               f"<jid-malformed xmlns='{STANZA_ERRORS}'/></error></iq>")
    raw.close()
    await bystanders.check()


async def test_other_accounts_data_is_out_of_reach(server, bystanders) -> None:
    mallory = await login(server, "carol", resource="m")
    assert await iq_error(query(mallory, "jabber:iq:roster")) == "forbidden"
    assert await iq_error(push_iq(mallory, "enable", node="n", to="alice@localhost")) == "forbidden"
    assert await iq_error(push_iq(mallory, "disable", to="alice@localhost")) == "forbidden"
    assert await iq_error(query(mallory, "urn:xmpp:mam:2")) == "forbidden"
    assert await iq_error(query(mallory, "urn:xmpp:carbons:2", "enable")) == "forbidden"
    await close(mallory)
    await bystanders.check()


@pytest.mark.server_options(auth_fail_limit=3, auth_fail_delay=1)
async def test_sasl_garbage_and_wrong_passwords_in_a_loop(server, bystanders) -> None:
    raw = await Raw.connect(server)
    await raw.open_stream()
    for i in range(6):
        auth = plain("alice", f"wrong{i}") if i % 2 else "!!garbage!!"
        condition = "not-authorized" if i % 2 else "incorrect-encoding"
        # An <abort/> right behind each attempt is answered at once: whether the failed
        # attempt's answer comes before or after it shows whether it was delayed, with
        # no clock involved.
        raw.send(f"<auth xmlns='{SASL}' mechanism='PLAIN'>{auth}</auth>"
                 f"<abort xmlns='{SASL}'/>")
        answers = [await raw.next(f"<failure xmlns='{SASL}'/>") for _ in range(2)]
        failed = f"<failure xmlns='{SASL}'><{condition}/></failure>"
        aborted = f"<failure xmlns='{SASL}'><aborted/></failure>"
        if i < 3:  # the first failures are answered at once
            assert_xml(answers[0], failed)
            assert_xml(answers[1], aborted)
        else:  # past --auth-fail-limit, answers are delayed
            assert_xml(answers[0], aborted)
            assert_xml(answers[1], failed)
        await bystanders.check()
    raw.close()
    # The right password from elsewhere still works.
    alice = await login(server, "alice", resource="fine")
    await close(alice)


@pytest.mark.server_options(auth_timeout=1)
async def test_unauthenticated_stream_times_out(server, bystanders) -> None:
    raw = await Raw.connect(server)
    await raw.open_stream()
    await raw.stream_error("connection-timeout")
    await bystanders.check()


@pytest.mark.server_options(idle_timeout=1)
async def test_idle_stream_times_out(server) -> None:
    raw = await raw_login(server, "carol")
    await raw.stream_error("connection-timeout")


@pytest.mark.server_options(max_connections_per_ip=3)
async def test_connections_per_address_are_limited(server) -> None:
    raws = [await Raw.connect(server) for _ in range(3)]
    extra = await Raw.connect(server)
    error = await extra.stream_error("policy-violation")
    assert "too many connections" in child_text(error, f"<text xmlns='{STREAM_ERRORS}'/>")
    for r in raws:
        r.close()


async def test_disconnects_mid_stanza_tls_and_sasl_leave_no_half_session(server,
                                                                          bystanders) -> None:
    for data in [STREAM + "<message to='bob@localhost'><bo",
                 STREAM + "<starttls xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>",
                 STREAM + "<auth xmlns='urn:ietf:params:xml:ns:xmpp-sasl' "
                          "mechanism='SCRAM-SHA-1'>biwsbj1hbGljZSxyPWFiYw==</auth>"]:
        raw = await Raw.connect(server)
        raw.send(data)
        await raw.next("<stream:features/>")  # the server read this far
        raw.writer.transport.abort()
    raw = await raw_login(server, "carol", resource="half")
    # The pong proves the server read the write that carried the half stanza too.
    raw.send("<iq type='get' id='half' to='localhost'><ping xmlns='urn:xmpp:ping'/></iq>"
             "<message to='bob@localhost'><body>half a sta")
    await raw.next("<iq id='half'/>")
    raw.writer.transport.abort()
    await eventually(lambda: server.sessions.get(JID("carol@localhost/half")) is None)
    assert len(server.c2s_factory.open_streams) == 2  # just the bystanders
    await bystanders.check()


@pytest.mark.server_options(max_send_buffer=200000)
async def test_a_client_that_never_reads_is_dropped(server, bystanders) -> None:
    sleeper = await raw_login(server, "carol", resource="sleeper")
    sleeper.writer.transport.pause_reading()
    sleeper.send("<presence/>")
    bob = await raw_login(server, "bob", resource="flood")
    big = "y" * 20000
    for i in range(300):  # ~6 MB towards a client that never reads
        bob.send(f"<message to='carol@localhost/sleeper' type='chat'><body>{i}{big}</body>"
                 "</message>")
        if i % 20 == 0:
            await asyncio.sleep(0.01)
        if server.sessions.get(JID("carol@localhost/sleeper")) is None:
            break
    await eventually(lambda: server.sessions.get(JID("carol@localhost/sleeper"))
                         is None, timeout=10)
    await bystanders.check()
    bob.close()
    sleeper.close()
