"""Property-based: random and mutated stanza streams never crash the server.

For every generated input (bounded: 60 examples) the connection ends with a stream
error or stays usable (a ping still gets its answer); no unhandled error is logged; a
bystander pair keeps talking.
"""

from __future__ import annotations

import socket
from xml.parsers import expat

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from minixmpp.testing.process import ProcessServer
from tests.raw import BIND, HEADER, SASL, BlockingStream, plain
from tests.xmlassert import find

pytestmark = pytest.mark.launch


NAMES = ["message", "presence", "iq", "body", "query", "enable", "disable", "r", "a",
         "x", "field", "value", "item", "resume", "starttls", "auth", "foo"]
NAMESPACES = [None, "jabber:client", "urn:xmpp:push:0", "jabber:iq:roster", "urn:xmpp:sm:3",
              "urn:xmpp:mam:2", "jabber:x:data", "urn:xmpp:carbons:2", "urn:example"]
VALUES = st.one_of(
    st.sampled_from(["alice@localhost", "bob@localhost/x", "localhost", "push.localhost",
                     "@localhost", "a@b@c", "", "get", "set", "result", "error", "chat",
                     "true", "-1", "4294967296", "x" * 300]),
    st.text(max_size=20))


def escape(text: str) -> str:
    return (text.replace("&", "&amp;").replace("<", "&lt;").replace("'", "&apos;")
            .replace('"', "&quot;"))


@st.composite
def elements(draw, depth: int = 0) -> str:
    name = draw(st.sampled_from(NAMES))
    attrs = draw(st.dictionaries(st.sampled_from(["to", "from", "type", "id", "node", "jid",
                                                  "h", "previd", "away", "var"]),
                                 VALUES, max_size=4))
    ns = draw(st.sampled_from(NAMESPACES))
    head = name + (f" xmlns='{ns}'" if ns else "") + "".join(
        f" {k}='{escape(v)}'" for k, v in attrs.items())
    children = draw(st.lists(elements(depth + 1), max_size=3)) if depth < 3 else []
    text = escape(draw(st.text(max_size=10)))
    return f"<{head}>{text}{''.join(children)}</{name}>"


@st.composite
def inputs(draw) -> tuple[bool, bytes]:
    authenticated = draw(st.booleans())
    body = "".join(draw(st.lists(elements(), min_size=1, max_size=3))).encode()
    if draw(st.booleans()):  # byte-level mutation
        data = bytearray(body)
        for _ in range(draw(st.integers(1, 4))):
            pos = draw(st.integers(0, max(0, len(data) - 1)))
            if draw(st.booleans()) and data:
                del data[pos]
            else:
                data.insert(pos, draw(st.integers(0, 255)))
        body = bytes(data)
    return authenticated, body


class BlockingRaw(BlockingStream):
    """A blocking byte-level client (the server runs in another process)."""

    def __init__(self, port: int) -> None:
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=5)
        self.restart()

    def recv(self, timeout: float) -> bytes | None:
        self.sock.settimeout(timeout)
        try:
            return self.sock.recv(65536)
        except TimeoutError:
            return None
        except ConnectionError:
            return b""

    def send(self, data: bytes | str) -> None:
        self.sock.sendall(data.encode() if isinstance(data, str) else data)

    def open_stream(self) -> None:
        self.restart()
        self.send(HEADER.format(to="localhost"))
        self.next("<stream:features/>")

    def login(self, user: str, resource: str) -> None:
        self.open_stream()
        self.send(f"<auth xmlns='{SASL}' mechanism='PLAIN'>{plain(user, user)}</auth>")
        self.next(f"<success xmlns='{SASL}'/>")
        self.open_stream()
        self.send(f"<iq type='set' id='b'><bind xmlns='{BIND}'>"
                  f"<resource>{resource}</resource></bind></iq>")
        self.next("<iq type='result' id='b'/>")

    def close(self) -> None:
        self.sock.close()


@pytest.fixture(scope="module")
def process(tmp_path_factory):
    server = ProcessServer(tmp_path_factory.mktemp("fuzz"),
                           users=("alice:alice", "bob:bob", "carol:carol"))
    server.start()
    yield server
    server.stop()


def bystander_check(process, n: int) -> None:
    a, b = BlockingRaw(process.port), BlockingRaw(process.port)
    a.login("alice", "by"), b.login("bob", "by")
    a.send(f"<message to='bob@localhost/by' type='chat'><body>still here {n}</body>"
           "</message>")
    b.next(f"<message><body>still here {n}</body></message>")
    a.close(), b.close()


PROBE = b"<iq type='get' id='probe' to='localhost'><ping xmlns='urn:xmpp:ping'/></iq>"


def probe_stands_alone(data: bytes) -> bool:
    """Whether the probe sent after ``data`` is a stanza of its own on the stream. It is
    not when ``data`` ends inside an element, a comment or a CDATA section (``<body>x``):
    the server then rightly waits for the rest, with the probe inside it."""
    parser = expat.ParserCreate()
    depth, closed = [0], []

    def start(name: str, attrs: dict[str, str]) -> None:
        depth[0] += 1

    def end(name: str) -> None:
        depth[0] -= 1
        closed.append((name, depth[0]))

    parser.StartElementHandler, parser.EndElementHandler = start, end
    try:
        parser.Parse(b"<stream>" + data, False)
        if depth[0] != 1:
            return False  # inside an element of data's
        closed.clear()
        parser.Parse(PROBE, False)
    except expat.ExpatError:
        return False  # not XML: the server answers with a stream error
    return closed[-1:] == [("iq", 1)]  # not in a comment or CDATA section either


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(case=inputs())
def test_random_streams_never_break_the_server(process, case) -> None:
    authenticated, data = case
    raw = BlockingRaw(process.port)
    try:
        if authenticated:
            raw.login("carol", "fuzz")
        else:
            raw.open_stream()
        raw.send(data)
        if authenticated:
            raw.send(PROBE)
        try:  # the answer, or the end of the stream (or, unauthenticated, 5 s of nothing)
            answer = raw.next("<iq id='probe'/>")
        except AssertionError:
            answer = None
    finally:
        raw.close()
    received = raw.received
    assert received.not_xml is None, received.describe()  # whatever came, the server's XML
    if received.ended:
        assert find(received.pending, "<stream:error/>") is not None, received.describe()
    elif authenticated and probe_stands_alone(data):
        assert answer is not None, received.describe()
    assert process.process.poll() is None, "the server is still running"


def test_no_unhandled_error_was_logged_and_bystanders_still_talk(process) -> None:
    bystander_check(process, 1)
    process.stop()
    log = process.log_file.read_text()
    assert "Traceback" not in log and "Unhandled" not in log, log[-3000:]
