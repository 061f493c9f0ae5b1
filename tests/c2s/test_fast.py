"""FAST tokens (XEP-0484) over SASL2: NONE and ENDP, rotation, invalidation, replay, storage
in --data-dir and expiry."""

from __future__ import annotations

import hashlib

from tests.c2s.sasl2 import (
    FAILURE,
    NOT_AUTHORIZED,
    REQUEST_TOKEN,
    SASL2,
    SUCCESS,
    UA,
    b64,
    connect,
    fast_authenticate,
    ht,
    scram_authenticate,
    token_of,
)
from tests.xmlassert import assert_xml


async def test_fast_token_rotation_invalidation_and_replay(server) -> None:
    raw, _ = await connect(server)
    first = token_of(await scram_authenticate(raw, "alice", REQUEST_TOKEN))
    raw.close()
    assert server.storage.tokens.get("alice", "d4565fa7-4d72-4749-b3d3-740edbf87770")
    # a FAST login asking for a new token: both work until the new one is used
    raw, _ = await connect(server)
    second = token_of(await fast_authenticate(raw, "alice", first, REQUEST_TOKEN,
                                                  count=1))
    raw.close()
    assert second != first
    raw, _ = await connect(server)
    assert_xml(await fast_authenticate(raw, "alice", first, count=2), SUCCESS)
    raw.close()
    raw, _ = await connect(server)
    assert_xml(await fast_authenticate(raw, "alice", second, count=3), SUCCESS)
    raw.close()
    raw, _ = await connect(server)  # the rotation is complete: the old one is gone
    assert_xml(await fast_authenticate(raw, "alice", first, count=4), NOT_AUTHORIZED)
    raw.close()
    raw, _ = await connect(server)  # a replayed count fails
    assert_xml(await fast_authenticate(raw, "alice", second, count=3), NOT_AUTHORIZED)
    raw.close()
    raw, _ = await connect(server)  # log in and invalidate
    proof = b64(b"alice\0" + ht(second, b"Initiator"))
    raw.send(f"<authenticate xmlns='{SASL2}' mechanism='HT-SHA-256-NONE'><initial-response>"
             f"{proof}</initial-response>{UA}"
             "<fast xmlns='urn:xmpp:fast:0' count='6' invalidate='true'/></authenticate>")
    assert_xml(await raw.next(SUCCESS, FAILURE), SUCCESS)
    raw.close()
    raw, _ = await connect(server)
    assert_xml(await fast_authenticate(raw, "alice", second, count=7), NOT_AUTHORIZED)
    raw.close()
    # a wrong token never works (and nobody else's)
    raw, _ = await connect(server)
    assert_xml(await fast_authenticate(raw, "bob", "guess", count=1), NOT_AUTHORIZED)
    raw.close()


async def test_fast_endp_binds_the_token_to_the_certificate(server) -> None:
    raw, features = await connect(server, tls=True)
    token = token_of(await scram_authenticate(
        raw, "alice", "<request-token xmlns='urn:xmpp:fast:0' mechanism='HT-SHA-256-ENDP'/>"))
    raw.close()
    raw, _ = await connect(server, tls=True)
    der = raw.writer.get_extra_info("ssl_object").getpeercert(binary_form=True)
    cb = hashlib.sha256(der).digest()
    success = await fast_authenticate(raw, "alice", token, mech="HT-SHA-256-ENDP", cb=cb,
                                      count=1)
    assert_xml(success, SUCCESS)
    raw.close()
    raw, _ = await connect(server, tls=True)  # without the binding data: refused
    failure = await fast_authenticate(raw, "alice", token, mech="HT-SHA-256-ENDP", count=2)
    assert_xml(failure, NOT_AUTHORIZED)
    raw.close()


async def test_fast_token_kept_in_data_dir_logs_in_to_the_next_server(server_factory,
                                                                      tmp_path) -> None:
    data = str(tmp_path / "data")
    first = server_factory(data_dir=data)
    raw, _ = await connect(first)
    token = token_of(await scram_authenticate(raw, "alice", REQUEST_TOKEN))
    raw.close()
    first.storage.close()  # as at shutdown
    second = server_factory(data_dir=data)  # a new process would read the same file
    raw, _ = await connect(second)
    assert_xml(await fast_authenticate(raw, "alice", token, count=1), SUCCESS)
    raw.close()
    second.admin.remove_account("alice")  # the account goes, and its tokens with it
    assert second.storage.tokens.get("alice", "d4565fa7-4d72-4749-b3d3-740edbf87770") is None


def test_fast_tokens_expire_after_their_lifetime() -> None:
    from minixmpp.c2s.fast import Tokens
    from minixmpp.storage.memory import MemoryTokenStore

    now = [1000.0]
    tokens = Tokens(MemoryTokenStore(), lifetime=60, clock=lambda: now[0])
    token = tokens.issue("alice", "ua", "HT-SHA-256-NONE")
    assert tokens.candidates("alice", "ua", "HT-SHA-256-NONE") == [token.current]
    assert tokens.candidates("alice", "ua", "HT-SHA-256-ENDP") == []  # bound to its mechanism
    assert tokens.candidates("alice", "other-ua", "HT-SHA-256-NONE") == []  # and its client
    now[0] += 61
    assert tokens.candidates("alice", "ua", "HT-SHA-256-NONE") == []
