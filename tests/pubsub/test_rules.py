"""The pubsub service's rules without sockets: its edge and resource fed stanzas through the
harness (wokkel's ``XmlStreamStub``), asserted on what they send. Each XEP-0060 section
is cited; the end-to-end tests are in ``test_service.py``."""

from __future__ import annotations

import pytest
from twisted.words.xish import domish
from wokkel import disco

from minixmpp import ns
from minixmpp.fallback import IQFallback
from minixmpp.internal import DiscoSelf
from minixmpp.pubsub import rsm
from minixmpp.pubsub.errors import PubSubRefusal
from minixmpp.pubsub.resource import Limits, PubSubResource
from minixmpp.pubsub.service import PubSubService
from minixmpp.storage.memory import MemoryPepStore, MemorySubscriptionStore
from tests.harness import Harness, element
from tests.xmlassert import assert_xml, matches

JID = "pubsub.localhost"
ALICE, BOB, CAROL = "alice@localhost/a", "bob@localhost/b", "carol@localhost/c"


def error(condition: str, app: str | None = None) -> str:
    extra = f"<{app} xmlns='{ns.PUBSUB_ERRORS}'/>" if app else ""
    return f"<iq type='error'><error><{condition} xmlns='{ns.STANZAS}'/>{extra}</error></iq>"


def form(form_type: str, **values: str) -> str:
    fields = "".join(f"<field var='pubsub#{k}'><value>{v}</value></field>"
                     for k, v in values.items())
    return (f"<x xmlns='{ns.X_DATA}' type='submit'><field var='FORM_TYPE' type='hidden'>"
            f"<value>{form_type}</value></field>{fields}</x>")


class Service:
    """One service with its disco, wired as ``pubsub.build`` wires it."""

    def __init__(self, **limits: int) -> None:
        self.resource = PubSubResource(JID, "localhost", MemoryPepStore(),
                                       MemorySubscriptionStore(), lambda: 1000.0,
                                       Limits(**limits))
        service = PubSubService(self.resource)
        self.harness = Harness(service, DiscoSelf(), disco.DiscoHandler(), IQFallback())
        self.resource.send = service.send

    def feed(self, xml: str) -> list[domish.Element]:
        return self.harness.feed(element(xml))

    def iq(self, sender: str, kind: str, payload: str, owner: bool = False
           ) -> list[domish.Element]:
        uri = ns.PUBSUB_OWNER if owner else ns.PUBSUB
        return self.feed(f"<iq type='{kind}' id='q1' from='{sender}' to='{JID}'>"
                         f"<pubsub xmlns='{uri}'>{payload}</pubsub></iq>")

    def answer(self, sender: str, kind: str, payload: str, owner: bool = False
               ) -> domish.Element:
        """The IQ answer among what was sent."""
        return [s for s in self.iq(sender, kind, payload, owner) if s.name == "iq"][-1]

    def create(self, node: str = "n", **config: str) -> None:
        configure = f"<configure>{form(ns.NODE_CONFIG, **config)}</configure>" if config \
            else ""
        assert_xml(self.answer(ALICE, "set", f"<create node='{node}'/>{configure}"),
                   "<iq type='result'/>")

    def publish(self, sender: str, item: str, node: str = "n") -> list[domish.Element]:
        return self.iq(sender, "set", f"<publish node='{node}'><item id='{item}'>"
                                      "<entry xmlns='urn:example'/></item></publish>")

    def affiliate(self, **affiliations: str) -> domish.Element:
        items = "".join(f"<affiliation jid='{j}@localhost' affiliation='{a}'/>"
                        for j, a in affiliations.items())
        return self.answer(ALICE, "set", f"<affiliations node='n'>{items}</affiliations>",
                           owner=True)

    def subscribe(self, sender: str, node: str = "n") -> list[domish.Element]:
        bare = sender.split("/")[0]
        return self.iq(sender, "set", f"<subscribe node='{node}' jid='{bare}'/>")


def test_publish_only_publishes_and_retracts_its_own_items_only() -> None:
    """§4.1: publish-only publishes, deletes its own items (the * note), reads nothing."""
    s = Service()
    s.create()
    assert_xml(s.affiliate(bob="publish-only", carol="publisher"), "<iq type='result'/>")
    assert_xml(s.publish(BOB, "b")[-1], "<iq type='result'/>")
    assert_xml(s.publish(CAROL, "c")[-1], "<iq type='result'/>")
    assert_xml(s.answer(BOB, "set", "<retract node='n'><item id='c'/></retract>"),
               error("forbidden"))
    assert_xml(s.answer(BOB, "set", "<retract node='n'><item id='b'/></retract>"),
               "<iq type='result'/>")
    assert_xml(s.answer(BOB, "get", "<items node='n'/>"), error("forbidden"))
    assert_xml(s.subscribe(BOB)[-1], error("forbidden"))
    assert_xml(s.answer(BOB, "set", "<purge node='n'/>", owner=True), error("forbidden"))
    assert_xml(s.answer(CAROL, "set", "<purge node='n'/>", owner=True), "<iq type='result'/>")


def test_an_owner_denies_or_approves_a_request_and_only_an_owner_counts() -> None:
    """§8.6: the authorization form goes to the owners; a non-owner's answer and a
    cancelled form change nothing; denial is told as ``none``."""
    s = Service()
    s.create(access_model="authorize")
    out = s.subscribe(BOB)
    request = next(o for o in out if o.name == "message")
    assert_xml(request, f"<message from='{JID}' to='alice@localhost'><x xmlns='{ns.X_DATA}' "
                        "type='form'><field var='pubsub#subscriber_jid'><value>bob@localhost"
                        "</value></field></x></message>")
    assert_xml(out[-1], f"<iq type='result'><pubsub xmlns='{ns.PUBSUB}'><subscription "
                        "subscription='pending'/></pubsub></iq>")
    deny = form(ns.SUBSCRIBE_AUTHORIZATION, node="n", subscriber_jid="bob@localhost",
                allow="false")
    assert s.feed(f"<message from='{CAROL}' to='{JID}'>{deny}</message>") == []
    cancel = deny.replace("type='submit'", "type='cancel'")
    assert s.feed(f"<message from='{ALICE}' to='{JID}'>{cancel}</message>") == []
    [told] = s.feed(f"<message from='{ALICE}' to='{JID}'>{deny}</message>")
    assert_xml(told, f"<message to='bob@localhost'><event xmlns='{ns.PUBSUB_EVENT}'>"
                     "<subscription node='n' jid='bob@localhost' subscription='none'/>"
                     "</event></message>")
    assert s.resource.members.subscriptions(JID, "n") == []


def test_an_approved_subscription_stays_so_when_asked_again() -> None:
    s = Service()
    s.create(access_model="authorize")
    s.subscribe(BOB)
    allow = form(ns.SUBSCRIBE_AUTHORIZATION, node="n", subscriber_jid="bob@localhost",
                 allow="1")
    s.feed(f"<message from='{ALICE}' to='{JID}'>{allow}</message>")
    assert_xml(s.subscribe(BOB)[-1], f"<iq type='result'><pubsub xmlns='{ns.PUBSUB}'>"
                                     "<subscription subscription='subscribed'/></pubsub></iq>")
    assert_xml(s.answer(BOB, "get", "<items node='n'/>"), "<iq type='result'/>")


def test_notifications_follow_the_node_configuration() -> None:
    """§16.4.4: ``notification_type``, ``deliver_payloads``; §8.2.5 ``notify_config``;
    §8.4.2 a delete's ``<redirect/>``."""
    s = Service()
    s.create(notification_type="normal", deliver_payloads="false", notify_config="true")
    s.subscribe(BOB)
    [event, _] = s.publish(ALICE, "i1")
    assert_xml(event, f"<message type='normal' to='bob@localhost' from='{JID}'><event "
                      f"xmlns='{ns.PUBSUB_EVENT}'><items node='n'><item id='i1'/></items>"
                      "</event></message>")
    assert event.event.items.item.firstChildElement() is None  # no payload
    assert event.firstChildElement().uri == ns.PUBSUB_EVENT and not list(
        event.elements(ns.DELAY, "delay"))
    out = s.answer(ALICE, "set", f"<configure node='n'>{form(ns.NODE_CONFIG, title='T')}"
                                 "</configure>", owner=True)
    assert_xml(out, "<iq type='result'/>")
    out = s.iq(ALICE, "set", "<delete node='n'><redirect uri='xmpp:pubsub.localhost?;"
                             "node=m'/></delete>", owner=True)
    assert matches(out[0], f"<message><event xmlns='{ns.PUBSUB_EVENT}'><delete node='n'>"
                           "<redirect uri='xmpp:pubsub.localhost?;node=m'/></delete></event>"
                           "</message>")


def test_configuration_notifications_and_a_closed_node_drop_subscribers() -> None:
    s = Service()
    s.create(notify_config="true")
    s.subscribe(BOB)
    s.affiliate(carol="member")
    s.subscribe(CAROL)
    closed = form(ns.NODE_CONFIG, access_model="whitelist")
    out = s.iq(ALICE, "set", f"<configure node='n'>{closed}</configure>", owner=True)
    told = [o for o in out if o.name == "message" and o.event.subscription]
    assert [(t["to"], t.event.subscription["subscription"]) for t in told] == [
        ("bob@localhost", "none")]  # §8.8.4; carol, a member, stays
    configured = [o for o in out if o.name == "message" and o.event.configuration]
    assert [c["to"] for c in configured] == ["carol@localhost"]
    assert [x.jid for x in s.resource.members.subscriptions(JID, "n")] == ["carol@localhost"]


def test_requests_about_another_entity_and_bad_values_are_refused() -> None:
    """§6.1.3.1, §6.2.3.3, §6.3.4.1, §8.9 (an affiliation that does not exist), §7.1.3."""
    s = Service()
    s.create()
    s.subscribe(BOB)
    assert_xml(s.answer(CAROL, "set", "<subscribe node='n' jid='bob@localhost'/>"),
               error("bad-request", "invalid-jid"))
    assert_xml(s.answer(CAROL, "set", "<unsubscribe node='n' jid='bob@localhost'/>"),
               error("forbidden"))
    assert_xml(s.answer(CAROL, "get", "<options node='n' jid='bob@localhost'/>"),
               error("forbidden"))
    assert_xml(s.answer(BOB, "get", "<options node='n' jid='bob@localhost'/>"),
               f"<iq type='result'><pubsub xmlns='{ns.PUBSUB}'><options node='n' "
               f"jid='bob@localhost'><x xmlns='{ns.X_DATA}' type='form'><field "
               "var='pubsub#deliver'/></x></options></pubsub></iq>")
    assert_xml(s.affiliate(bob="boss"), error("bad-request"))
    assert_xml(s.answer(ALICE, "set", "<publish node='n'><item id='x'><a xmlns='u'/>"
                                      "<b xmlns='u'/></item></publish>"),
               error("bad-request", "invalid-payload"))
    assert_xml(s.answer(ALICE, "set", "<publish node='n'/>"),
               error("bad-request", "item-required"))
    assert_xml(s.answer("bob@elsewhere.example/x", "set", "<create node='m'/>"),
               error("forbidden"))
    assert_xml(s.answer(ALICE, "set", "<create node='n'/>"), error("conflict"))


def test_node_metadata_and_items_in_disco() -> None:
    """§5.3, §5.4 metadata; §5.5 items; a whitelist node is not shown to strangers."""
    s = Service()
    s.create(title="News")
    s.publish(ALICE, "i1")
    out = s.feed(f"<iq type='get' id='d1' from='{BOB}' to='{JID}'><query xmlns="
                 f"'{ns.DISCO_INFO}' node='n'/></iq>")
    assert_xml(out[-1], f"<iq type='result'><query xmlns='{ns.DISCO_INFO}' node='n'>"
                        "<identity category='pubsub' type='leaf'/><x xmlns='jabber:x:data'>"
                        "<field var='pubsub#title'><value>News</value></field>"
                        "<field var='pubsub#owner'><value>alice@localhost</value></field>"
                        "</x></query></iq>")
    out = s.feed(f"<iq type='get' id='d2' from='{BOB}' to='{JID}'><query xmlns="
                 f"'{ns.DISCO_ITEMS}' node='n'/></iq>")
    assert_xml(out[-1], f"<iq type='result'><query xmlns='{ns.DISCO_ITEMS}' node='n'>"
                        f"<item jid='{JID}' name='i1'/></query></iq>")
    s.create("closed", access_model="whitelist")
    out = s.feed(f"<iq type='get' id='d3' from='{BOB}' to='{JID}'><query xmlns="
                 f"'{ns.DISCO_ITEMS}'/></iq>")
    assert [i["node"] for i in out[-1].query.elements(ns.DISCO_ITEMS, "item")] == ["n"]
    out = s.feed(f"<iq type='get' id='d4' from='{BOB}' to='{JID}'><query xmlns="
                 f"'{ns.DISCO_INFO}' node='closed'/></iq>")
    assert_xml(out[-1], f"<iq type='error'><error><item-not-found xmlns='{ns.STANZAS}'/>"
                        "</error></iq>")


def test_forgetting_an_account_deletes_the_nodes_it_alone_owned() -> None:
    s = Service()
    s.create("alone")
    s.create("shared")
    s.answer(ALICE, "set", "<affiliations node='shared'><affiliation jid='bob@localhost' "
                           "affiliation='owner'/></affiliations>", owner=True)
    s.subscribe(BOB, "alone")
    s.resource.forget("alice@localhost")
    assert [n.name for n in s.resource.store.nodes(JID)] == ["shared"]
    assert s.resource.members.affiliations(JID, "shared") == {"bob@localhost": "owner"}
    assert s.harness.output[-1].event.delete["node"] == "alone"  # bob was told


@pytest.mark.parametrize("request_, shown, first", [
    ({"max": "2"}, ["a", "b"], 0),
    ({"max": "2", "index": "3"}, ["d", "e"], 3),
    ({"max": "10", "after": "c"}, ["d", "e"], 3),
    ({"max": "2", "before": ""}, ["d", "e"], 3),
    ({"max": "2", "before": "b"}, ["a"], 0),
    ({"index": "9"}, [], 5),
])
def test_rsm_pages_of_the_items_in_the_order_kept(request_: dict[str, str], shown: list[str],
                                                  first: int) -> None:
    """XEP-0059 §2.1–§2.6 on the ids oldest first."""
    ids = list("abcde")
    element = domish.Element((ns.RSM, "set"))
    for name, value in request_.items():
        element.addElement(name, content=value)
    at = rsm.page(ids, element)
    assert ids[at.start:at.end] == shown and at.start == first and at.count == 5
    answer = rsm.answer(ids, at)
    assert (answer.first is not None) == bool(shown)
    with pytest.raises(PubSubRefusal):
        bad = domish.Element((ns.RSM, "set"))
        bad.addElement("after", content="z")
        rsm.page(ids, bad)
