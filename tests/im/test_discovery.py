"""What clients and compliance testers look for: caps (XEP-0115) in the stream features
with a ver that matches the server's disco#info, and contact addresses (XEP-0157)."""

from __future__ import annotations

import pytest
from twisted.words.xish import domish

from tests.helpers import close, login
from tests.raw import Raw, raw_authenticated
from tests.xmlassert import assert_xml, find

CONTACTS = dict(contact_address=("admin=xmpp:admin@localhost", "admin=mailto:a@example.org",
                                 "abuse=mailto:abuse@example.org"))


def caps_ver(features: domish.Element) -> tuple[str, str]:
    """(ver, node) of the caps (XEP-0115 §6.3) in the stream features."""
    assert_xml(features, "<stream:features><c xmlns='http://jabber.org/protocol/caps' "
                         "hash='sha-1' ver='*' node='*'/></stream:features>")
    c = find(features, "<c xmlns='http://jabber.org/protocol/caps'/>")
    return c["ver"], c["node"]


@pytest.mark.server_options(**CONTACTS)
async def test_caps_in_stream_features_match_the_disco_info(server) -> None:
    raw = await Raw.connect(server)
    ver, node = caps_ver(await raw.open_stream())
    raw.close()
    _, after_auth = await raw_authenticated(server, "alice")
    assert caps_ver(after_auth) == (ver, node)
    alice = await login(server, "alice", plugins=("xep_0030", "xep_0115", "xep_0128"))
    try:
        info = await alice["xep_0030"].get_info(jid="localhost")
        assert alice["xep_0115"].generate_verstring(info["disco_info"], "sha-1") == ver
        # the XEP-0157 form is part of the hash input
        form_types = [x.findtext("{jabber:x:data}field[@var='FORM_TYPE']/{jabber:x:data}value")
                      for x in info.xml.iter("{jabber:x:data}x")]
        assert "http://jabber.org/network/serverinfo" in form_types
        # §6.2: disco#info on NODE#ver answers the same
        by_node = await alice["xep_0030"].get_info(jid="localhost", node=f"{node}#{ver}")
        assert alice["xep_0115"].generate_verstring(by_node["disco_info"], "sha-1") == ver
    finally:
        await close(alice)


async def test_caps_ver_changes_with_the_disco_info(server_factory) -> None:
    plain, with_contacts = server_factory(), server_factory(**CONTACTS)
    ver = plain.service("caps").element()["ver"]
    assert ver and ver != with_contacts.service("caps").element()["ver"]


@pytest.mark.server_options(**CONTACTS)
async def test_contact_addresses_from_the_option(server) -> None:
    alice = await login(server, "alice", plugins=("xep_0030", "xep_0128"))
    try:
        info = await alice["xep_0030"].get_info(jid="localhost")
        # the serverinfo form among the server's forms (XEP-0455's urn:xmpp:sos:0 too)
        form = next(f for f in info["disco_info"]["forms"]
                    if "http://jabber.org/network/serverinfo" in str(
                        f.get_fields()["FORM_TYPE"]["value"]))
        fields = form.get_fields()
        form_type = fields["FORM_TYPE"]["value"]  # slixmpp gives a list on result forms
        assert form_type in ("http://jabber.org/network/serverinfo",
                             ["http://jabber.org/network/serverinfo"])
        assert fields["admin-addresses"]["value"] == ["xmpp:admin@localhost",
                                                      "mailto:a@example.org"]
        assert fields["abuse-addresses"]["value"] == ["mailto:abuse@example.org"]
        assert "support-addresses" not in fields
    finally:
        await close(alice)


def test_contact_address_option_is_checked() -> None:
    from minixmpp.config import ConfigError, Settings

    with pytest.raises(ConfigError, match="expected KIND=URI"):
        Settings.build({"contact_address": ("boss=xmpp:x@y",)})


