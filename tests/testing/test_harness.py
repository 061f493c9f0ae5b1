"""The unit-test tools themselves: the structural XML assertion and the handler harness."""

from __future__ import annotations

import pytest

from minixmpp.im.ping import PingHandler
from tests.harness import Harness
from tests.xmlassert import assert_xml, matches


def test_a_pattern_names_what_must_be_there_and_leaves_the_rest_free() -> None:
    stanza = ("<iq type='error' id='1' from='localhost' to='a@localhost/r'><ping "
              "xmlns='urn:xmpp:ping'/><error type='cancel'><service-unavailable "
              "xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/></error></iq>")
    assert_xml(stanza, "<iq type='error' id='*'><error type='cancel'><service-unavailable "
                       "xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/></error></iq>")
    assert not matches(stanza, "<iq type='result'/>")
    assert not matches(stanza, "<iq><error><item-not-found "
                               "xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/></error></iq>")
    assert not matches(stanza, "<iq><ping xmlns='urn:xmpp:ping:other'/></iq>")  # namespace
    assert not matches(stanza, "<iq type='error'/>", exact=True)
    with pytest.raises(AssertionError, match="attribute 'type' is 'error'"):
        assert_xml(stanza, "<iq type='result'/>")


def test_children_match_in_order_and_text_is_compared() -> None:
    message = "<message><body>hi</body><thread>t</thread></message>"
    assert matches(message, "<message><body>hi</body><thread/></message>")
    assert not matches(message, "<message><thread/><body/></message>")
    assert not matches(message, "<message><body>ho</body></message>")


def test_the_harness_feeds_a_handler_and_records_its_answer() -> None:
    harness = Harness(PingHandler())
    out = harness.feed("<iq type='get' id='p1' from='alice@localhost/r' to='localhost'>"
                       "<ping xmlns='urn:xmpp:ping'/></iq>")
    assert len(out) == 1
    assert_xml(out[0], "<iq type='result' id='p1' from='localhost' to='alice@localhost/r'/>",
               exact=True)
