"""Bad pubsub requests get stanza errors (pep/errors.py), never an internal error."""

from __future__ import annotations

import pytest

from tests.helpers import barrier, close
from tests.pep.helpers import (
    NS,
    options,
    payload,
    pep_client,
    pubsub_error,
)
from tests.raw import raw_login, stanza_error
from tests.xmlassert import assert_xml

BAD = [
    ("<pubsub xmlns='http://jabber.org/protocol/pubsub'><items/></pubsub>", "get",
     "bad-request"),
    ("<pubsub xmlns='http://jabber.org/protocol/pubsub'><items node='n' max_items='x'/>"
     "</pubsub>", "get", "bad-request"),
    ("<pubsub xmlns='http://jabber.org/protocol/pubsub'><items node='n' max_items='-1'/>"
     "</pubsub>", "get", "bad-request"),
    ("<pubsub xmlns='http://jabber.org/protocol/pubsub'><publish node='n'/></pubsub>", "set",
     "bad-request"),
    ("<pubsub xmlns='http://jabber.org/protocol/pubsub'><publish node='n'><item>"
     "<a xmlns='x'/><b xmlns='y'/></item></publish></pubsub>", "set", "bad-request"),
    ("<pubsub xmlns='http://jabber.org/protocol/pubsub'><publish node='n'><item/>"
     "</publish></pubsub>", "set", "bad-request"),
    ("<pubsub xmlns='http://jabber.org/protocol/pubsub'><retract node='n'/></pubsub>", "set",
     "item-not-found"),
    ("<pubsub xmlns='http://jabber.org/protocol/pubsub'><create/></pubsub>", "set",
     "not-acceptable"),
    ("<pubsub xmlns='http://jabber.org/protocol/pubsub'><subscribe node='n' jid='a@b@c'/>"
     "</pubsub>", "set", "bad-request"),
    ("<pubsub xmlns='http://jabber.org/protocol/pubsub'><subscribe node='n' "
     "jid='alice@localhost'/></pubsub>", "set", "item-not-found"),  # no such node
    ("<pubsub xmlns='http://jabber.org/protocol/pubsub'><unknown-verb/></pubsub>", "set",
     "feature-not-implemented"),
    ("<pubsub xmlns='http://jabber.org/protocol/pubsub#owner'><configure node='n'><x "
     "xmlns='jabber:x:data' type='submit'><field var='pubsub#max_items'><value>zero</value>"
     "</field></x></configure></pubsub>", "set", "bad-request"),  # no FORM_TYPE
]


@pytest.mark.parametrize("payload_xml, iq_type, condition", BAD)
async def test_bad_pubsub_requests_get_stanza_errors(server, payload_xml: str, iq_type: str,
                                                     condition: str) -> None:
    raw = await raw_login(server, "alice")
    raw.send(f"<iq type='{iq_type}' id='bad1' to='alice@localhost'>{payload_xml}</iq>")
    assert_xml(await raw.next("<iq id='bad1'/>"), stanza_error("iq", condition, id="bad1"))
    # The stream is still fine, the store untouched.
    await barrier(raw)
    assert server.storage.pep.nodes("alice") == []
    raw.close()


async def test_bad_configure_value_on_an_existing_node_is_not_acceptable(server) -> None:
    alice = await pep_client(server, "alice")
    await alice["xep_0060"].publish(None, NS, payload=payload(NS))
    form = options({"pubsub#max_items": "zero"},
                   "http://jabber.org/protocol/pubsub#node_config")
    assert (await pubsub_error(alice["xep_0060"].set_node_config(None, NS, form)))[
        0] == "not-acceptable"
    await close(alice)
