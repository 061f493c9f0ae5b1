"""SASL2 (XEP-0388) + Bind2 (XEP-0386) over a real socket, with the raw XML of the XEPs'
examples (slixmpp has no plugin for them): user agent, inline stream management enable
and resume after a dropped connection (with a FAST re-login), carbons, CSI, and the push
flow after both logins."""

from __future__ import annotations

import pytest
from twisted.words.protocols.jabber.jid import JID

from tests.c2s.sasl2 import (
    BIND,
    FAILURE,
    NOT_AUTHORIZED,
    REQUEST_TOKEN,
    SASL2,
    SUCCESS,
    connect,
    fast_authenticate,
    scram_authenticate,
    token_of,
)
from tests.helpers import barrier, close, login, wait_push
from tests.raw import SASL, Raw, plain
from tests.xmlassert import assert_xml, child_text, find


async def test_features_offer_sasl2_with_bind2_sm_and_fast_inline(server) -> None:
    raw, features = await connect(server)
    raw.close()
    assert_xml(features, f"""
        <stream:features>
          <mechanisms xmlns='{SASL}'/>
          <authentication xmlns='{SASL2}'>
            <mechanism>SCRAM-SHA-256</mechanism>
            <inline>
              <bind xmlns='urn:xmpp:bind:0'><inline>
                <feature var='urn:xmpp:carbons:2'/>
                <feature var='urn:xmpp:sm:3'/>
              </inline></bind>
              <fast xmlns='urn:xmpp:fast:0'><mechanism>HT-SHA-256-ENDP</mechanism></fast>
            </inline>
          </authentication>
        </stream:features>""")  # the legacy <mechanisms/> too


async def test_sasl2_bind2_then_fast_resume_after_a_dropped_connection(server) -> None:
    raw, _ = await connect(server)
    success = await scram_authenticate(raw, "alice", BIND + REQUEST_TOKEN)
    assert_xml(success, f"""
        <success xmlns='{SASL2}'>
          <authorization-identifier/>
          <bound xmlns='urn:xmpp:bind:0'>
            <enabled xmlns='urn:xmpp:sm:3' id='*' resume='true'/>
            <metadata xmlns='urn:xmpp:mam:2'/>
          </bound>
        </success>""")
    full = child_text(success, f"<authorization-identifier xmlns='{SASL2}'/>")
    assert full.startswith("alice@localhost/AwesomeXMPP.")
    previd = success.bound.enabled["id"]
    token = token_of(success)
    session = server.sessions.get(JID(full))
    assert session.carbons and session.csi == "inactive"
    assert session.user_agent == {"id": "d4565fa7-4d72-4749-b3d3-740edbf87770",
                                  "software": "AwesomeXMPP", "device": "Kiva's Phone"}
    # no stream restart: stanzas flow at once
    raw.send("<presence/><iq type='get' id='p1'><ping xmlns='urn:xmpp:ping'/></iq>")
    await raw.next("<iq id='p1'/>")
    raw.writer.transport.abort()  # the phone loses its network
    bob = await login(server, "bob")
    bob.send_message(mto=full, mbody="while you were away", mtype="chat")
    await barrier(bob)  # the message was routed
    # FAST re-login with inline resumption: the queued message comes again
    raw, _ = await connect(server)
    success = await fast_authenticate(
        raw, "alice", token, f"<resume xmlns='urn:xmpp:sm:3' previd='{previd}' h='1'/>",
        count=1)
    assert_xml(success, f"<success xmlns='{SASL2}'><authorization-identifier>{full}"
                        f"</authorization-identifier><resumed xmlns='urn:xmpp:sm:3' "
                        f"previd='{previd}'/></success>")
    await raw.next("<message><body>while you were away</body></message>")
    raw.close()
    await close(bob)


async def test_sasl2_wrong_password_fails_and_legacy_sasl_still_works(server) -> None:
    raw, _ = await connect(server)
    raw.send(f"<authenticate xmlns='{SASL2}' mechanism='PLAIN'><initial-response>"
             f"{plain('alice', 'wrong')}</initial-response></authenticate>")
    assert_xml(await raw.next(FAILURE, SUCCESS), NOT_AUTHORIZED)
    raw.send(f"<authenticate xmlns='{SASL2}' mechanism='PLAIN'><initial-response>"
             f"{plain('alice', 'alice')}</initial-response></authenticate>")
    assert_xml(await raw.next(SUCCESS, FAILURE), f"<success xmlns='{SASL2}'>"
               "<authorization-identifier>alice@localhost</authorization-identifier></success>")
    raw.close()
    alice = await login(server, "alice")  # the legacy path is unchanged
    await close(alice)


async def enable_push_raw(raw: Raw, node: str) -> None:
    raw.send(f"<iq type='set' id='push'><enable xmlns='urn:xmpp:push:0' jid='push.localhost'"
             f" node='{node}'/></iq>")
    assert_xml(await raw.next("<iq id='push'/>"), "<iq type='result' id='push'/>")


@pytest.mark.parametrize("relogin", ["sasl2-bind2", "fast"])
async def test_push_flow_after_sasl2_logins(server, relogin) -> None:
    raw, _ = await connect(server)
    success = await scram_authenticate(raw, "alice", BIND + REQUEST_TOKEN)
    token = token_of(success)
    if relogin == "fast":
        raw.close()
        raw, _ = await connect(server)
        success = await fast_authenticate(raw, "alice", token, BIND, count=1)
    assert find(success, "<bound xmlns='urn:xmpp:bind:0'/>") is not None
    await enable_push_raw(raw, f"node-{relogin}")
    raw.writer.transport.abort()  # hibernated: rule 2 pushes
    bob = await login(server, "bob", resource="desk")
    bob.send_message(mto="alice@localhost", mbody="push me", mtype="chat")
    n = await wait_push(server, account="alice", timeout=10)
    assert n.node == f"node-{relogin}"
    assert n.fields["last-message-body"] == "push me"
    await close(bob)


