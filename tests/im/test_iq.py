"""IQ routing (RFC 6120 §8, RFC 6121 §8.5.3) and the server's own answers (ping, version,
disco)."""

from __future__ import annotations

from tests.helpers import close, iq_error, login


async def test_iq_to_absent_resource_is_service_unavailable(server) -> None:
    alice = await login(server, "alice")
    await login(server, "bob", resource="here")
    iq = alice.make_iq_get(queryxmlns="jabber:iq:version", ito="bob@localhost/absent")
    assert await iq_error(iq) == "service-unavailable"
    await close(alice)


async def test_iq_to_present_full_jid_reaches_that_client(server) -> None:
    alice = await login(server, "alice")
    bob = await login(server, "bob", resource="here")
    bob.register_plugin("xep_0092")
    alice.register_plugin("xep_0092")
    version = await alice["xep_0092"].get_version("bob@localhost/here")
    assert version["software_version"]["name"] == "Slixmpp"
    await close(alice, bob)


async def test_unknown_namespace_iq_to_server_is_service_unavailable(server) -> None:
    alice = await login(server, "alice")
    iq = alice.make_iq_get(queryxmlns="urn:example:nothing", ito="localhost")
    assert await iq_error(iq) == "service-unavailable"
    await close(alice)


async def test_server_ping_version_and_disco(server) -> None:
    alice = await login(server, "alice")
    for plugin in ("xep_0199", "xep_0092", "xep_0030"):
        alice.register_plugin(plugin)
    await alice["xep_0199"].ping("localhost", timeout=5)
    version = await alice["xep_0092"].get_version("localhost")
    assert version["software_version"]["name"] == "minixmpp"
    info = await alice["xep_0030"].get_info(jid="localhost")
    features = info["disco_info"]["features"]
    assert "urn:xmpp:ping" in features and "jabber:iq:version" in features
    assert ("server", "im", None, "minixmpp") in info["disco_info"]["identities"]
    await close(alice)
