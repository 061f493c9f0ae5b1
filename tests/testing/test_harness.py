"""The unit-test tools themselves: the structural XML assertion, the handler harness and
the raw client's reading of a stream as whole elements."""

from __future__ import annotations

import pytest

from minixmpp.im.ping import PingHandler
from tests.harness import Harness
from tests.xmlassert import as_element, assert_xml, matches


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


def test_a_raw_stream_is_read_as_whole_elements_whatever_the_chunks() -> None:
    from tests.raw import Received

    received = Received()
    stream = (b"<?xml version='1.0'?><stream:stream xmlns='jabber:client' xmlns:stream="
              b"'http://etherx.jabber.org/streams' from='localhost' version='1.0'>"
              b"<stream:features><bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'/>"
              b"</stream:features><message id='m1'><body>h\xc3\xa9</body></message>"
              b"<iq type='result' id='p'/></stream:stream>")
    for i in range(0, len(stream), 7):  # a chunk boundary anywhere, even inside a character
        received.feed(stream[i:i + 7])
    assert_xml(received.header, "<stream:stream from='localhost' version='1.0'/>")
    assert received.ended and received.not_xml is None
    # taken by pattern, in arrival order; what is passed over stays pending
    assert_xml(received.take("<iq/>", "<message/>"), "<message id='m1'><body>hé</body></message>")
    assert received.take("<presence/>") is None
    assert_xml(received.take("<iq/>"), "<iq type='result' id='p'/>")
    assert [e.name for e in received.pending] == ["features"]


def test_a_frame_must_declare_its_own_namespaces() -> None:
    from tests.raw import element

    frame = element("<stream:features xmlns:stream='http://etherx.jabber.org/streams'/>")
    assert_xml(frame, "<stream:features/>")  # a pattern may use stream: undeclared
    with pytest.raises(AssertionError, match="not one XML element"):
        element("<stream:features/>")  # on the wire, a message says what it is
    with pytest.raises(AssertionError, match="not one XML element"):
        element("<a/><b/>")


def test_failures_show_what_arrived() -> None:
    from tests.xmlassert import assert_any, child_text

    stanzas = [as_element("<message><body>a</body></message>"),
               as_element("<presence type='unavailable'/>")]
    assert assert_any(stanzas, "<presence/>") is stanzas[1]
    with pytest.raises(AssertionError, match="none matches <iq/>; got:\n    <message>"):
        assert_any(stanzas, "<iq/>")
    assert child_text(stanzas[0], "<body/>") == "a"
    with pytest.raises(AssertionError, match="no child matching <thread/>"):
        child_text(stanzas[0], "<thread/>")


def test_the_guard_hears_a_destroyed_task_and_an_unhandled_error_in_a_deferred(noise) -> None:
    """tests/conftest.py fails a test during which either is logged; here both are made
    on purpose, heard, and taken back so that this test passes."""
    import asyncio
    import gc
    import threading

    from twisted.internet.defer import Deferred

    async def forever() -> None:
        await asyncio.Event().wait()

    def start_and_leave(tasks: list) -> None:  # a loop of its own, in a thread of its own
        loop = asyncio.new_event_loop()
        tasks.append(loop.create_task(forever()))
        loop.run_until_complete(asyncio.sleep(0))  # the task started and waits, forever
        loop.close()

    tasks: list = []
    thread = threading.Thread(target=start_and_leave, args=(tasks,))
    thread.start()
    thread.join()
    del tasks
    failing: Deferred = Deferred()
    failing.errback(ValueError("nobody handles this"))
    del failing
    gc.collect()
    heard = sorted(line[:27] for line in noise.take())
    assert heard == ["Task was destroyed but it i", "Unhandled error in Deferred"]
