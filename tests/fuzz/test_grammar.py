"""Grammar fuzzing of PEP/pubsub, group chat, registration and SASL2/Bind2/FAST over TCP,
WebSocket and BOSH, against the real ``twistd`` (issue 22).

Per example: the server stays up; its log shows no traceback; every IQ request gets a
result or an error, and a stream answers a probe or ends with a stream error (no
silence: every wait is bounded); a bystander pair keeps exchanging messages. A quarter of
the examples have their bytes mutated (then only the stream-level property holds).
``MINIXMPP_FUZZ_SECONDS=N`` runs each test for N seconds (tests/fuzz/conftest.py).
"""

from __future__ import annotations

import base64
import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tests.fuzz.clients import DOMAIN, SASL, SASL2, Stream, ht_proof, plain
from tests.fuzz.conftest import Fuzz, fuzz_settings
from tests.fuzz.grammar import (
    Authenticate,
    Request,
    muc_actions,
    pubsub_requests,
    register_requests,
    sasl2_exchange,
)

pytestmark = pytest.mark.launch

TRANSPORTS = ["tcp", "websocket", "bosh"]


@st.composite
def mutations(draw) -> tuple[tuple[float, int | None], ...] | None:
    """None (most examples), or byte edits: (where, a byte to insert or None: delete)."""
    if draw(st.integers(0, 3)):
        return None
    return tuple(draw(st.lists(st.tuples(st.floats(0, 1), st.one_of(
        st.none(), st.integers(0, 255))), min_size=1, max_size=4)))


def mutate(data: bytes, edits: tuple[tuple[float, int | None], ...]) -> bytes:
    out = bytearray(data)
    for where, byte in edits:
        pos = min(len(out), int(where * len(out)))
        if byte is None:
            del out[pos:pos + 1]
        else:
            out.insert(pos, byte)
    return bytes(out)


def exchange(fuzz: Fuzz, stream: Stream, actions: list[Request | str], edits,
             *, may_end: bool = False, mutated: bool = False) -> None:
    """Send the actions (as drawn, or mutated as one payload), then the verdict."""
    mark = stream.mark()
    payloads = [a.xml if isinstance(a, Request) else a for a in actions]
    if edits is None:
        stream.send(*payloads)
    else:
        stream.send(mutate("".join(payloads).encode(), edits))
    probe = f"probe{fuzz.unique()}"
    stream.send(f"<iq type='get' id='{probe}' to='{DOMAIN}'><ping xmlns='urn:xmpp:ping'/>"
                "</iq>")
    idents = [a.ident for a in actions if isinstance(a, Request)] if edits is None else []
    fuzz.verdict(stream, mark, idents, probe, strict=edits is None and not mutated,
                 may_end=may_end)


@pytest.mark.parametrize("transport", TRANSPORTS)
def test_pubsub_and_pep_requests_are_answered(fuzz: Fuzz, transport: str) -> None:
    """XEP-0060/0163 publish (with publish-options), items, retract, create/configure
    with forms, subscribe...; private XML and vCard, both built on PEP."""

    @fuzz_settings()
    @given(requests=pubsub_requests(f"fuzz1@{DOMAIN}"), edits=mutations())
    def prop(requests: list[Request], edits) -> None:
        with fuzz.session(transport, "fuzz1") as stream:
            exchange(fuzz, stream, requests, edits)

    fuzz.explore(prop)


@pytest.mark.parametrize("transport", TRANSPORTS)
def test_group_chat_requests_are_answered(fuzz: Fuzz, transport: str) -> None:
    """XEP-0045: joins with odd nicks and history requests, admin and owner IQs,
    configuration forms, messages, invitations, voice requests; room MAM and moderation."""

    @fuzz_settings()
    @given(actions=muc_actions(), edits=mutations())
    def prop(actions: list[Request | str], edits) -> None:
        with fuzz.session(transport, "fuzz3") as stream:
            exchange(fuzz, stream, actions, edits)

    fuzz.explore(prop)


@pytest.mark.parametrize("transport", TRANSPORTS)
def test_registration_before_and_after_authentication_is_answered(fuzz: Fuzz,
                                                                   transport: str) -> None:
    """XEP-0077: odd registration IQs on an unauthenticated stream; then a fresh account
    registered, logged in on the same stream, and odd IQs again (password changes,
    removal: the stream may then end)."""

    @fuzz_settings()
    @given(before=register_requests(), after=register_requests(), edits=mutations())
    def prop(before: list[Request], after: list[Request], edits) -> None:
        stream = fuzz.stream(transport)
        try:
            stream.open()
            mark = stream.mark()
            probe = f"probe{fuzz.unique()}"
            stream.send(*(r.xml for r in before),
                        f"<iq type='get' id='{probe}'><query xmlns='jabber:iq:register'/></iq>")
            fuzz.verdict(stream, mark, [r.ident for r in before], probe, strict=True)
            user = fuzz.unique()
            stream.send(f"<iq type='set' id='reg'><query xmlns='jabber:iq:register'>"
                        f"<username>{user}</username><password>{user}</password></query></iq>")
            assert stream.read_until("id='reg'"), stream.text[-500:]
            assert "type='result'" in stream.text[-300:], stream.text[-500:]
            stream.send(f"<auth xmlns='{SASL}' mechanism='PLAIN'>{plain(user, user)}</auth>")
            assert stream.read_until("<success"), stream.text[-500:]
            stream.open()
            stream.send("<iq type='set' id='bind'><bind xmlns='urn:ietf:params:xml:ns:"
                        "xmpp-bind'/></iq>")
            assert stream.read_until("id='bind'.*?</iq>"), stream.text[-500:]
            removes = any("<remove/>" in r.xml and "type='set'" in r.xml for r in after)
            exchange(fuzz, stream, list(after), edits, may_end=removes or edits is not None)
        finally:
            stream.close()

    fuzz.explore(prop)


def initial_response(fuzz: Fuzz, name: str | None, user: str) -> str | None:
    if name is None:
        return None
    return {
        "plain": plain(user, user),
        "plain-wrong": plain(user, "wrong"),
        "plain-authzid": base64.b64encode(f"{user}@{DOMAIN}\0{user}\0{user}".encode()).decode(),
        "ht": ht_proof(user, fuzz.token or "no-token"),
        "scram-first": base64.b64encode(f"n,,n={user},r=fuzzfuzz".encode()).decode(),
        "garbage": "!!not base64!!",
        "empty": "",
        "equals": "=",
    }.get(name) or (plain(user, name.removeprefix("password:"))
                    if name.startswith("password:") else
                    name.removeprefix("value:").replace("&", "&amp;").replace("<", "&lt;"))


@pytest.mark.parametrize("transport", TRANSPORTS)
def test_sasl2_bind2_and_fast_are_answered(fuzz: Fuzz, transport: str) -> None:
    """XEP-0388 ``<authenticate/>`` with odd mechanisms, initial responses and
    user-agents; Bind2 and SM inline; FAST counts, invalidation and tokens (a real token
    of the account's, kept fresh). Every ``<authenticate/>`` gets a challenge, success or
    failure (or a stream error); the stream then answers a ping (bound) or ends with a
    stream error."""
    if not fuzz.token:
        fuzz.token = fresh_token(fuzz)

    @fuzz_settings(8)
    @given(auth=sasl2_exchange(), edits=mutations())
    def prop(auth: Authenticate, edits) -> None:
        stream = fuzz.stream(transport)
        try:
            stream.open()
            mark = stream.mark()
            data = initial_response(fuzz, auth.initial, "fuzz2")
            initial = "" if data is None else f"<initial-response>{data}</initial-response>"
            element = (f"<authenticate xmlns='{SASL2}' mechanism='{escape(auth.mechanism)}'>"
                       f"{initial}{auth.extra}</authenticate>")
            stream.send(mutate(element.encode(), edits) if edits else element)
            stream.read_until(f"<(challenge|success|failure) xmlns=['\"]{SASL2}['\"]"
                              "|</stream:stream>|<close |type='terminate'")
            assert fuzz.sasl2_answered(stream, mark) or edits is not None, \
                f"{transport}: no answer to <authenticate/>: {stream.since(mark)[-800:]}"
            if auth.agent == "fuzz-agent":
                token = re.search(r"<token [^>]*token='([^']+)'", stream.since(mark))
                if token:
                    fuzz.token = token.group(1)
            for then in auth.then:
                stream.send(then)
            exchange(fuzz, stream, [], None, mutated=edits is not None)
        finally:
            stream.close()

    fuzz.explore(prop)


def escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace("'", "&apos;")


def fresh_token(fuzz: Fuzz) -> str:
    """A FAST token for (fuzz2, fuzz-agent), by a SASL2 PLAIN login that asks for one."""
    stream = fuzz.stream("tcp")
    try:
        stream.open()
        stream.send(f"<authenticate xmlns='{SASL2}' mechanism='PLAIN'><initial-response>"
                    f"{plain('fuzz2', 'fuzz2')}</initial-response><user-agent id='fuzz-agent'/>"
                    "<request-token xmlns='urn:xmpp:fast:0' mechanism='HT-SHA-256-NONE'/>"
                    "</authenticate>")
        assert stream.read_until("</success>"), stream.text[-500:]
        return re.search(r"<token [^>]*token='([^']+)'", stream.text).group(1)
    finally:
        stream.close()
