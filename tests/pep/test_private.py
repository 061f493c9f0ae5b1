"""Private storage: XEP-0222/0223 on PEP and private XML (XEP-0049)."""

from __future__ import annotations

import xml.etree.ElementTree as ET

from tests.helpers import close
from tests.pep.helpers import element, friends, pep_client, pubsub_error

NS = "urn:example:data"


async def test_xep_0222_public_and_xep_0223_private_storage(server) -> None:
    friends(server, "alice", "bob")
    alice = await pep_client(server, "alice", plugins=("xep_0222", "xep_0223"))
    bob = await pep_client(server, "bob")
    await alice["xep_0222"].store(element(NS, text="public"), node=f"{NS}:pub", id="a")
    await alice["xep_0223"].store(element(NS, text="secret"), node=f"{NS}:priv",
                                      id="a")
    got = await alice["xep_0223"].retrieve(f"{NS}:priv")
    assert list(got["pubsub"]["items"])[0]["payload"].text == "secret"
    public = await bob["xep_0060"].get_items("alice@localhost", f"{NS}:pub")
    assert list(public["pubsub"]["items"])[0]["payload"].text == "public"
    assert await pubsub_error(bob["xep_0060"].get_items(
        "alice@localhost", f"{NS}:priv")) == ("not-allowed", "closed-node")
    # Storing again with the same profile passes the preconditions.
    await alice["xep_0223"].store(element(NS, text="again"), node=f"{NS}:priv",
                                      id="a")
    await close(alice, bob)


async def test_private_xml_is_stored_per_namespace_for_the_account_only(server) -> None:
    from slixmpp.plugins.xep_0049.stanza import PrivateXML
    from slixmpp.xmlstream import ElementBase, register_stanza_plugin

    class Prefs(ElementBase):
        namespace, name, plugin_attrib = "urn:example:prefs", "prefs", "prefs"
        interfaces = {"theme"}
        sub_interfaces = interfaces

    register_stanza_plugin(PrivateXML, Prefs)
    alice = await pep_client(server, "alice", plugins=("xep_0049",))
    empty = await alice["xep_0049"].retrieve("prefs")
    assert empty["private"]["prefs"]["theme"] == ""  # nothing stored: the empty element
    prefs = Prefs()
    prefs["theme"] = "dark"
    await alice["xep_0049"].store(prefs)
    got = await alice["xep_0049"].retrieve("prefs")
    assert got["private"]["prefs"]["theme"] == "dark"
    # Another account's private XML is not readable.
    bob = await pep_client(server, "bob")
    iq = bob.make_iq_get(ito="alice@localhost")
    iq.xml.append(ET.fromstring("<query xmlns='jabber:iq:private'>"
                                "<prefs xmlns='urn:example:prefs'/></query>"))
    from tests.helpers import iq_error

    assert await iq_error(iq) == "forbidden"
    bad = alice.make_iq_set()
    bad.xml.append(ET.fromstring("<query xmlns='jabber:iq:private'><a xmlns='x'/>"
                                 "<b xmlns='y'/></query>"))
    assert await iq_error(bad) == "bad-request"
    await close(alice, bob)
