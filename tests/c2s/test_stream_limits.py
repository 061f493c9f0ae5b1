"""XEP-0478 stream limits: ``<limits/>`` in the stream features before and after
authentication, from ``--max-stanza-size`` and ``--idle-timeout`` (no ``<idle-seconds/>``
when streams are never closed for silence); slixmpp's own ``feature_limits`` reads them."""

from __future__ import annotations

import re

import pytest

from tests.helpers import close, login
from tests.rawtext import Raw, plain
from tests.xmlassert import assert_xml

LIMITS = "urn:xmpp:stream-limits:0"


def limits_of(features: str) -> str:
    found = re.findall(rf"<limits xmlns='{LIMITS}'>.*?</limits>", features)
    assert len(found) == 1, features
    return found[0]


async def features_before_and_after(server) -> tuple[str, str]:
    raw = await Raw.connect(server)
    before = await raw.open_stream()
    raw.send(f"<auth xmlns='urn:ietf:params:xml:ns:xmpp-sasl' mechanism='PLAIN'>"
             f"{plain('alice', 'alice')}</auth>")
    await raw.read_until("<success")
    after = await raw.open_stream()
    raw.close()
    return before, after


@pytest.mark.server_options(max_stanza_size=4096, idle_timeout=120)
async def test_limits_are_announced_before_and_after_authentication(server) -> None:
    before, after = await features_before_and_after(server)
    assert "<mechanisms" in before and "urn:ietf:params:xml:ns:xmpp-bind" in after
    for features in (before, after):
        assert_xml(limits_of(features), f"<limits xmlns='{LIMITS}'><max-bytes>4096</max-bytes>"
                   "<idle-seconds>120</idle-seconds></limits>", exact=True)
    alice = await login(server, "alice")
    assert (alice.limits.max_bytes, alice.limits.idle_seconds) == (4096, 120)
    await close(alice)


async def test_without_an_idle_timeout_only_the_size_is_announced(server) -> None:
    before, after = await features_before_and_after(server)
    for features in (before, after):
        assert_xml(limits_of(features), f"<limits xmlns='{LIMITS}'><max-bytes>262144"
                   "</max-bytes></limits>", exact=True)
    alice = await login(server, "alice")
    assert (alice.limits.max_bytes, alice.limits.idle_seconds) == (262144, None)
    await close(alice)
