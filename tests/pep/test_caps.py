"""Entity capabilities (XEP-0115) for PEP's +notify: asked once per hash, verified."""

from __future__ import annotations

from tests.helpers import close
from tests.pep.helpers import (
    TUNE,
    friends,
    notified,
    payload,
    pep_client,
)


async def test_caps_are_asked_once_per_hash(server) -> None:
    friends(server, "alice", "bob")
    alice = await pep_client(server, "alice")
    before = server.service("pep").caps.queries_sent
    bob1 = await pep_client(server, "bob", "one", interests=(TUNE,))
    bob2 = await pep_client(server, "bob", "two", interests=(TUNE,))
    # Same software, same features: one disco#info query for both (bob's own account
    # learning its resources' caps, and alice's, share the cache).
    assert server.service("pep").caps.queries_sent - before == 1
    await alice["xep_0060"].publish(None, TUNE, payload=payload(TUNE, "tune"))
    await notified(bob1, "pubsub_publish")
    await notified(bob2)
    await close(alice, bob1, bob2)


def test_verification_string_is_xep_0115_example() -> None:
    import base64
    import hashlib

    from minixmpp.pep.caps import verification_string
    from minixmpp.stanza import parse

    query = parse("<query xmlns='http://jabber.org/protocol/disco#info'>"
                  "<identity category='client' name='Exodus 0.9.1' type='pc'/>"
                  "<feature var='http://jabber.org/protocol/caps'/>"
                  "<feature var='http://jabber.org/protocol/disco#info'/>"
                  "<feature var='http://jabber.org/protocol/disco#items'/>"
                  "<feature var='http://jabber.org/protocol/muc'/></query>", neutral=False)
    digest = hashlib.sha1(verification_string(query).encode()).digest()
    assert base64.b64encode(digest).decode() == "QgayPKawpkPSDYmwT/WM94uAlu0="  # §5.2


async def test_a_forged_caps_hash_is_not_cached_for_others(server) -> None:
    from twisted.internet.task import Clock

    from minixmpp.pep.caps import CapsCache
    from minixmpp.stanza import parse

    sent = []
    caps = CapsCache(sent.append, Clock())
    presence = parse("<presence from='a@x/1'><c xmlns='http://jabber.org/protocol/caps' "
                     "hash='sha-1' node='n' ver='forged='/></presence>")
    caps.observe("a@x/1", presence, "o@x", lambda: None)
    reply = parse(f"<iq type='result' id='{sent[0]['id']}' from='a@x/1'><query "
                  "xmlns='http://jabber.org/protocol/disco#info'><feature var='t+notify'/>"
                  "</query></iq>", neutral=False)
    assert caps.answered(reply)
    assert caps.features("a@x/1") == {"t+notify"}
    caps.observe("b@x/1", parse(presence.toXml().replace("a@x/1", "b@x/1")), "o@x",
                 lambda: None)
    assert caps.features("b@x/1") == frozenset() and len(sent) == 2  # asked again
