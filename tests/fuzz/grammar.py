"""Hypothesis grammars of the newer c2s surfaces: PEP and pubsub (XEP-0060), group chat
(XEP-0045), in-band registration (XEP-0077) and SASL2/Bind2/FAST (XEP-0388/0386/0484).

Each strategy draws well-formed XML shaped like the real requests, with odd values where
clients put values: names and nodes that stringprep maps to nothing, over-long parts,
numbers that are not numbers, forms of the wrong type, JIDs that are not JIDs. IQ
requests are drawn as :class:`Request` (an id the test waits for); everything else as
plain text.
"""

from __future__ import annotations

from dataclasses import dataclass

from hypothesis import strategies as st

from tests.fuzz.clients import DOMAIN

MUC_SERVICE = f"conference.{DOMAIN}"
PUBSUB = "http://jabber.org/protocol/pubsub"
X_DATA = "jabber:x:data"
MUC = "http://jabber.org/protocol/muc"

#: values clients get wrong (or attackers choose)
ODD = ["", " ", "a" * 1100, "\u00ad", "\u200b", "\u2168", "\ufb00", "\u212b", "a\u0301",
       "@", "/", "a@b", "x/y", "..", ".", "-1", "0", "1", "4294967296",
       "99999999999999999999999", "1e3", "true", "false", "&", "<x/>", "'", '"', "\t\n",
       "\u00df", "\u0130", "\U0001F600", "none", "2026-13-45T25:61:00Z",
       "1970-01-01T00:00:00Z"]
#: Unicode that XML 1.0 can carry (§2.2 Char), no surrogates or controls
XML_TEXT = st.text(st.characters(blacklist_categories=("Cs", "Cc"),
                                 blacklist_characters="\ufffe\uffff"), max_size=12)
VALUE = st.one_of(st.sampled_from(ODD), XML_TEXT)
#: namespace names: URIs (a value that is no URI reference is not namespace-well-formed)
NAMESPACES = st.one_of(st.sampled_from([
    "urn:x", "jabber:client", "jabber:iq:roster", "http://jabber.org/protocol/pubsub",
    "urn:ietf:params:xml:ns:xmpp-stanzas", "http://example.com/a?b#c"]),
    st.from_regex(r"urn:[a-z]{1,8}:[A-Za-z0-9.%-]{0,12}", fullmatch=True))
JIDS = st.one_of(
    st.sampled_from(["alice@localhost", "nosuch@localhost", "localhost", MUC_SERVICE,
                     f"r1@{MUC_SERVICE}", f"r1@{MUC_SERVICE}/n", "example.com",
                     "@localhost", "a@b@c", "localhost/", "user@localhost/" + "r" * 1100,
                     ".localhost", "local..host", "\u00ad@localhost", "push.localhost"]),
    VALUE)


def esc(text: str) -> str:
    return (text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
            .replace("'", "&apos;").replace('"', "&quot;"))


def attrs(**values: str | None) -> str:
    return "".join(f" {k.rstrip('_').replace('__', ':').replace('_', '-')}='{esc(v)}'"
                   for k, v in values.items() if v is not None)


def maybe(strategy):
    return st.one_of(st.none(), strategy)


@dataclass(frozen=True)
class Request:
    """An IQ get/set: the server must answer ``ident`` (a result or an error)."""

    ident: str
    xml: str


@st.composite
def iq(draw, payload, to=None, kind=None) -> Request:
    ident = f"q{draw(st.integers(0, 10**9))}"
    kind = kind or draw(st.sampled_from(["get", "set"]))
    target = draw(to) if to is not None else None
    return Request(ident, f"<iq type='{kind}' id='{ident}'{attrs(to=target)}>"
                          f"{draw(payload)}</iq>")


# -- data forms (XEP-0004) ------------------------------------------------------------------

@st.composite
def form(draw, form_types, variables, values=VALUE) -> str:
    kind = draw(st.sampled_from(["submit", "submit", "form", "cancel", "result", "", "x"]))
    fields = []
    if draw(st.booleans()):
        fields.append(f"<field var='FORM_TYPE'{attrs(type=draw(maybe(st.just('hidden'))))}>"
                      f"<value>{esc(draw(form_types))}</value></field>")
    for _ in range(draw(st.integers(0, 4))):
        var = draw(st.one_of(variables, VALUE))
        ftype = draw(maybe(st.sampled_from(["boolean", "list-single", "list-multi",
                                            "text-single", "jid-multi", "hidden", "x"])))
        drawn = "".join(f"<value>{esc(v)}</value>" for v in draw(st.lists(values, max_size=3)))
        fields.append(f"<field{attrs(var=var, type=ftype)}>{drawn}</field>")
    return f"<x xmlns='{X_DATA}'{attrs(type=kind)}>{''.join(fields)}</x>"


# -- PEP and pubsub (XEP-0060, XEP-0163; XEP-0049, XEP-0054 built on PEP) ---------------------

NODES = st.one_of(st.sampled_from([
    "urn:xmpp:microblog:0", "eu.siacs.conversations.axolotl.devicelist",
    "eu.siacs.conversations.axolotl.bundles:1", "urn:xmpp:omemo:2:devices",
    "urn:xmpp:avatar:data", "urn:xmpp:avatar:metadata", "storage:bookmarks",
    "urn:xmpp:bookmarks:1", "http://jabber.org/protocol/nick", "urn:xmpp:vcard4",
    "http://jabber.org/protocol/geoloc", "n"]), VALUE)
NODE_OPTIONS = st.sampled_from([
    "pubsub#access_model", "pubsub#persist_items", "pubsub#max_items", "pubsub#publish_model",
    "pubsub#send_last_published_item", "pubsub#notify_retract", "pubsub#deliver_payloads",
    "pubsub#itemreply", "pubsub#notification_type", "pubsub#roster_groups_allowed",
    "pubsub#title", "pubsub#type", "pubsub#deliver_notifications", "pubsub#include_body"])
OPTION_VALUES = ["open", "presence", "roster", "whitelist", "authorize", "max", "0", "1",
                 "-5", "256", "257", "100000000000", "true", "false", "on_sub", "never",
                 "headline", "normal", "publishers"]
FORM_TYPES = st.one_of(st.sampled_from([f"{PUBSUB}#publish-options", f"{PUBSUB}#node_config",
                                        f"{PUBSUB}#subscribe_options", "urn:x"]), VALUE)


def pubsub_form():
    return form(FORM_TYPES, NODE_OPTIONS, st.one_of(st.sampled_from(OPTION_VALUES), VALUE))


@st.composite
def item_payload(draw) -> str:
    v = lambda: esc(draw(VALUE))  # noqa: E731
    j = lambda: esc(draw(JIDS))  # noqa: E731
    return draw(st.sampled_from([
        "",
        f"<storage xmlns='storage:bookmarks'><conference jid='{j()}' autojoin='{v()}' "
        f"name='{v()}'><nick>{v()}</nick><password>{v()}</password></conference>"
        f"<url url='{v()}'/></storage>",
        f"<conference xmlns='urn:xmpp:bookmarks:1' name='{v()}' autojoin='{v()}'>"
        f"<nick>{v()}</nick><extensions><x xmlns='urn:x'/></extensions></conference>",
        f"<metadata xmlns='urn:xmpp:avatar:metadata'><info id='{v()}' bytes='{v()}' "
        f"type='{v()}' width='{v()}' height='{v()}'/></metadata>",
        f"<data xmlns='urn:xmpp:avatar:data'>{v()}</data>",
        f"<nick xmlns='http://jabber.org/protocol/nick'>{v()}</nick>",
        f"<list xmlns='eu.siacs.conversations.axolotl'><device id='{v()}'/></list>",
        f"<vcard xmlns='urn:ietf:params:xml:ns:vcard-4.0'><fn><text>{v()}</text></fn>"
        f"<photo><uri>{v()}</uri></photo></vcard>",
        f"<entry xmlns='http://www.w3.org/2005/Atom'><title>{v()}</title></entry>",
        f"<x xmlns='{draw(NAMESPACES)}'>{v()}</x>"]))


@st.composite
def pubsub_payload(draw) -> str:
    node = lambda: draw(maybe(NODES))  # noqa: E731
    item_id = lambda: draw(maybe(VALUE))  # noqa: E731
    verb = draw(st.sampled_from(["publish", "items", "retract", "create", "subscribe",
                                 "unsubscribe", "configure", "options", "default",
                                 "delete", "purge", "subscriptions", "affiliations",
                                 "private", "vcard", "empty", "two"]))
    if verb == "private":  # XEP-0049
        inner = draw(item_payload()) or "<x xmlns='jabber:iq:private'/>"
        return f"<query xmlns='jabber:iq:private'>{inner}</query>"
    if verb == "vcard":  # XEP-0054
        return (f"<vCard xmlns='vcard-temp'><FN>{esc(draw(VALUE))}</FN><PHOTO><TYPE>"
                f"{esc(draw(VALUE))}</TYPE><BINVAL>{esc(draw(VALUE))}</BINVAL></PHOTO></vCard>")
    if verb == "empty":
        return f"<pubsub xmlns='{draw(st.sampled_from([PUBSUB, PUBSUB + '#owner']))}'/>"
    if verb == "publish":
        items = "".join(f"<item{attrs(id=item_id())}>{draw(item_payload())}</item>"
                        for _ in range(draw(st.integers(0, 2))))
        options = (f"<publish-options>{draw(pubsub_form())}</publish-options>"
                   if draw(st.booleans()) else "")
        return (f"<pubsub xmlns='{PUBSUB}'><publish{attrs(node=node())}>{items}</publish>"
                f"{options}</pubsub>")
    if verb == "items":
        items = "".join(f"<item{attrs(id=item_id())}/>" for _ in range(draw(st.integers(0, 2))))
        head = attrs(node=node(), max_items=item_id(), subid=item_id())
        return (f"<pubsub xmlns='{PUBSUB}'><items{head}>{items}</items><set xmlns='http://jabber.org/protocol/rsm'>"
                f"<max>{esc(draw(VALUE))}</max></set></pubsub>")
    if verb == "retract":
        items = "".join(f"<item{attrs(id=item_id())}/>" for _ in range(draw(st.integers(0, 2))))
        return (f"<pubsub xmlns='{PUBSUB}'><retract{attrs(node=node(), notify=item_id())}>"
                f"{items}</retract></pubsub>")
    if verb == "create":
        configure = (f"<configure>{draw(pubsub_form())}</configure>"
                     if draw(st.booleans()) else "")
        return f"<pubsub xmlns='{PUBSUB}'><create{attrs(node=node())}/>{configure}</pubsub>"
    if verb in ("subscribe", "unsubscribe", "options"):
        options = (f"<options>{draw(pubsub_form())}</options>" if draw(st.booleans()) else "")
        return (f"<pubsub xmlns='{PUBSUB}'><{verb}{attrs(node=node(), jid=draw(maybe(JIDS)))}"
                f"/>{options}</pubsub>")
    if verb == "two":  # two verbs in one request
        return (f"<pubsub xmlns='{PUBSUB}'><items{attrs(node=node())}/>"
                f"<retract{attrs(node=node())}/></pubsub>")
    owner = draw(st.booleans())
    inner = draw(pubsub_form()) if verb == "configure" and draw(st.booleans()) else ""
    return (f"<pubsub xmlns='{PUBSUB}{'#owner' if owner else ''}'><{verb}"
            f"{attrs(node=node())}>{inner}</{verb}></pubsub>")


def pubsub_requests(own: str):
    targets = st.one_of(st.none(), st.just(own), JIDS)
    return st.lists(iq(pubsub_payload(), to=targets), min_size=1, max_size=4)


# -- group chat (XEP-0045, XEP-0249, XEP-0313/0425 on rooms) -----------------------------------

ROOMS = st.one_of(st.sampled_from([f"r{k}@{MUC_SERVICE}" for k in range(4)]),
                  st.builds(lambda v: f"{esc(v)}@{MUC_SERVICE}", VALUE))
NICKS = st.one_of(st.sampled_from(["n", "fuzzer", "N", "\u2168", "\u00adn", " n "]), VALUE)
AFFILIATIONS = st.one_of(st.sampled_from(["owner", "admin", "member", "outcast", "none"]),
                         VALUE)
ROLES = st.one_of(st.sampled_from(["moderator", "participant", "visitor", "none"]), VALUE)
ROOM_OPTIONS = st.sampled_from([
    "muc#roomconfig_roomname", "muc#roomconfig_persistentroom", "muc#roomconfig_membersonly",
    "muc#roomconfig_moderatedroom", "muc#roomconfig_passwordprotectedroom",
    "muc#roomconfig_roomsecret", "muc#roomconfig_maxusers", "muc#roomconfig_whois",
    "muc#roomconfig_publicroom", "muc#roomconfig_changesubject",
    "muc#roomconfig_allowinvites", "muc#roomconfig_allowpm", "muc#roomconfig_roomowners",
    "muc#roomconfig_roomadmins", "muc#roomconfig_historylength", "muc#roomconfig_enablelogging",
    "muc#roomconfig_presencebroadcast", "muc#maxhistoryfetch", "muc#register_roomnick",
    "muc#role", "muc#request_allow", "muc#jid", "muc#roomnick"])
MUC_FORMS = st.one_of(st.sampled_from([
    "http://jabber.org/protocol/muc#roomconfig", "http://jabber.org/protocol/muc#request",
    "http://jabber.org/protocol/muc#register", "urn:xmpp:mam:2"]), VALUE)


@st.composite
def occupant(draw) -> str:
    return f"{draw(ROOMS)}/{esc(draw(NICKS))}"


@st.composite
def join(draw) -> str:
    history = "<history{}/>".format(attrs(
        maxchars=draw(maybe(VALUE)), maxstanzas=draw(maybe(VALUE)),
        seconds=draw(maybe(VALUE)), since=draw(maybe(VALUE))))
    password = f"<password>{esc(draw(VALUE))}</password>" if draw(st.booleans()) else ""
    x = (f"<x xmlns='{MUC}'>{history if draw(st.booleans()) else ''}{password}</x>"
         if draw(st.booleans()) else "")
    kind = draw(maybe(st.sampled_from(["unavailable", "error", "subscribe", "probe", "x"])))
    show = f"<show>{esc(draw(VALUE))}</show>" if draw(st.booleans()) else ""
    priority = f"<priority>{esc(draw(VALUE))}</priority>" if draw(st.booleans()) else ""
    to = draw(st.one_of(occupant(), ROOMS))
    return f"<presence{attrs(to=to, type=kind)}>{x}{show}{priority}</presence>"


@st.composite
def muc_message(draw) -> str:
    kind = draw(maybe(st.sampled_from(["groupchat", "chat", "normal", "headline", "error"])))
    to = draw(st.one_of(ROOMS, occupant(), st.just(MUC_SERVICE)))
    body = draw(st.sampled_from([
        f"<body>{esc(draw(VALUE))}</body>",
        f"<subject>{esc(draw(VALUE))}</subject>",
        "<active xmlns='http://jabber.org/protocol/chatstates'/>",
        # §7.8.2 mediated invitation, decline
        f"<x xmlns='{MUC}#user'><invite{attrs(to=draw(maybe(JIDS)))}><reason>"
        f"{esc(draw(VALUE))}</reason></invite></x>",
        f"<x xmlns='{MUC}#user'><decline{attrs(to=draw(maybe(JIDS)))}/></x>",
        f"<x xmlns='{MUC}#user'><invite/><invite/></x>",
        # XEP-0249 direct invitation
        f"<x xmlns='jabber:x:conference'{attrs(jid=draw(JIDS), reason=draw(VALUE))}/>",
        # §7.13 voice request, §8.6 approval
        draw(form(MUC_FORMS, ROOM_OPTIONS)),
        f"<body>x</body><stanza-id xmlns='urn:xmpp:sid:0' by='{esc(draw(JIDS))}' id='f'/>"
        f"<occupant-id xmlns='urn:xmpp:occupant-id:0' id='forged'/>",
    ]))
    return f"<message{attrs(to=to, type=kind, id=draw(maybe(VALUE)))}>{body}</message>"


@st.composite
def muc_iq_payload(draw) -> str:
    verb = draw(st.sampled_from(["admin", "owner-get", "owner-set", "destroy", "register",
                                 "mam", "moderate", "disco", "ping", "unknown"]))
    if verb == "admin":
        items = "".join("<item{}>{}</item>".format(
            attrs(affiliation=draw(maybe(AFFILIATIONS)), role=draw(maybe(ROLES)),
                  nick=draw(maybe(NICKS)), jid=draw(maybe(JIDS))),
            f"<reason>{esc(draw(VALUE))}</reason>" if draw(st.booleans()) else "")
            for _ in range(draw(st.integers(0, 3))))
        return f"<query xmlns='{MUC}#admin'>{items}</query>"
    if verb in ("owner-get", "owner-set"):
        return f"<query xmlns='{MUC}#owner'>{draw(form(MUC_FORMS, ROOM_OPTIONS))}</query>"
    if verb == "destroy":
        return (f"<query xmlns='{MUC}#owner'><destroy{attrs(jid=draw(maybe(JIDS)))}>"
                f"<reason>{esc(draw(VALUE))}</reason><password>{esc(draw(VALUE))}</password>"
                "</destroy></query>")
    if verb == "register":
        return f"<query xmlns='jabber:iq:register'>{draw(form(MUC_FORMS, ROOM_OPTIONS))}</query>"
    if verb == "mam":
        return (f"<query xmlns='urn:xmpp:mam:2'{attrs(queryid=draw(maybe(VALUE)))}>"
                f"{draw(form(MUC_FORMS, st.sampled_from(['start', 'end', 'with', 'ids'])))}"
                f"<set xmlns='http://jabber.org/protocol/rsm'><max>{esc(draw(VALUE))}</max>"
                f"<before>{esc(draw(VALUE))}</before></set></query>")
    if verb == "moderate":
        return (f"<moderate xmlns='urn:xmpp:message-moderate:1'{attrs(id=draw(maybe(VALUE)))}>"
                "<retract xmlns='urn:xmpp:message-retract:1'/></moderate>")
    if verb == "disco":
        return (f"<query xmlns='http://jabber.org/protocol/disco#"
                f"{draw(st.sampled_from(['info', 'items']))}'{attrs(node=draw(maybe(VALUE)))}/>")
    if verb == "ping":
        return "<ping xmlns='urn:xmpp:ping'/>"
    return f"<query xmlns='{draw(NAMESPACES)}'/>"


@st.composite
def muc_actions(draw) -> list[Request | str]:
    """A join first (mostly), then requests, messages and presence in any order."""
    actions: list[Request | str] = []
    if draw(st.integers(0, 4)):
        room = draw(st.sampled_from([f"r{k}@{MUC_SERVICE}" for k in range(4)]))
        actions.append(f"<presence to='{room}/{esc(draw(NICKS))}'><x xmlns='{MUC}'/></presence>")
    targets = st.one_of(ROOMS, occupant(), st.just(MUC_SERVICE))
    actions += draw(st.lists(st.one_of(iq(muc_iq_payload(), to=targets), join(),
                                       muc_message()), min_size=1, max_size=5))
    return actions


# -- registration (XEP-0077) --------------------------------------------------------------------

@st.composite
def register_payload(draw) -> str:
    children = []
    for _ in range(draw(st.integers(0, 3))):
        name = draw(st.sampled_from(["username", "password", "email", "remove", "registered",
                                     "instructions", "x"]))
        children.append(f"<{name}>{esc(draw(VALUE))}</{name}>" if name != "remove"
                        else "<remove/>")
    if draw(st.booleans()):
        children.append(draw(form(st.one_of(st.just("jabber:iq:register"), VALUE),
                                  st.sampled_from(["username", "password", "email"]))))
    return f"<query xmlns='jabber:iq:register'>{''.join(children)}</query>"


def register_requests():
    targets = st.one_of(st.none(), st.just(DOMAIN), JIDS)
    return st.lists(iq(register_payload(), to=targets), min_size=1, max_size=3)


# -- SASL2, Bind2, FAST (XEP-0388, XEP-0386, XEP-0484) -----------------------------------------

MECHANISMS = st.one_of(st.sampled_from([
    "PLAIN", "SCRAM-SHA-1", "SCRAM-SHA-256", "SCRAM-SHA-512", "SCRAM-SHA-1-PLUS",
    "HT-SHA-256-NONE", "HT-SHA-256-ENDP", "ANONYMOUS", "EXTERNAL", "DIGEST-MD5", ""]), VALUE)


@dataclass(frozen=True)
class Authenticate:
    """One drawn SASL2 exchange: the ``<authenticate/>`` and what follows it. ``initial``
    names the first message (None: no ``<initial-response/>``; ``plain``, ``ht``...: made
    by the test with the account's password or its current FAST token)."""

    mechanism: str
    initial: str | None
    agent: str | None
    extra: str  # <user-agent/> and the inline requests (Bind2, SM, FAST)
    then: tuple[str, ...]  # <response/>, <abort/>... after it


@st.composite
def sasl2_inline(draw) -> str:
    parts = []
    if draw(st.booleans()):
        inner = draw(st.lists(st.sampled_from([
            f"<tag>{esc(draw(VALUE))}</tag>", "<enable xmlns='urn:xmpp:carbons:2'/>",
            "<inactive xmlns='urn:xmpp:csi:0'/>", "<active xmlns='urn:xmpp:csi:0'/>",
            f"<enable xmlns='urn:xmpp:sm:3'{attrs(resume=draw(maybe(VALUE)))}/>",
            "<enable xmlns='urn:xmpp:sm:3' resume='true'/>", "<x xmlns='urn:x'/>"]),
            max_size=4))
        parts.append(f"<bind xmlns='urn:xmpp:bind:0'>{''.join(inner)}</bind>")
    if draw(st.booleans()):
        parts.append(f"<resume xmlns='urn:xmpp:sm:3'"
                     f"{attrs(previd=draw(maybe(VALUE)), h=draw(maybe(VALUE)))}/>")
    if draw(st.booleans()):
        parts.append(f"<fast xmlns='urn:xmpp:fast:0'"
                     f"{attrs(count=draw(maybe(VALUE)), invalidate=draw(maybe(VALUE)))}/>")
    if draw(st.booleans()):
        mech = draw(st.one_of(st.just("HT-SHA-256-NONE"), MECHANISMS))
        parts.append(f"<request-token xmlns='urn:xmpp:fast:0'{attrs(mechanism=mech)}/>")
    return "".join(parts)


@st.composite
def sasl2_exchange(draw) -> Authenticate:
    mechanism = draw(MECHANISMS)
    initial = draw(maybe(st.sampled_from(
        ["plain", "plain-wrong", "plain-authzid", "ht", "scram-first", "garbage", "empty",
         "equals", "value"])))
    if initial == "value":
        initial = "value:" + draw(VALUE)
    elif initial == "plain-wrong" and draw(st.booleans()):
        initial = "password:" + draw(VALUE)  # any password, SASLprep's or not
    agent = draw(maybe(st.one_of(st.just("fuzz-agent"), VALUE)))
    then = tuple(draw(st.lists(st.sampled_from([
        f"<response xmlns='urn:xmpp:sasl:2'>{esc(draw(VALUE))}</response>",
        "<response xmlns='urn:xmpp:sasl:2'>biwsbj1mdXp6LHI9YWJj</response>",
        "<abort xmlns='urn:xmpp:sasl:2'/>", "<abort xmlns='urn:xmpp:sasl:2'>x</abort>",
        "<authenticate xmlns='urn:xmpp:sasl:2' mechanism='PLAIN'/>",
        "<auth xmlns='urn:ietf:params:xml:ns:xmpp-sasl' mechanism='PLAIN'>=</auth>",
        "<next xmlns='urn:xmpp:sasl:2'/>"]), max_size=2)))
    software = (f"<software>{esc(draw(VALUE))}</software>" if draw(st.booleans()) else "")
    device = (f"<device>{esc(draw(VALUE))}</device>" if draw(st.booleans()) else "")
    agent_xml = (f"<user-agent{attrs(id=agent)}>{software}{device}</user-agent>"
                 if agent is not None or software else "")
    return Authenticate(mechanism, initial, agent, agent_xml + draw(sasl2_inline()), then)
