"""Ad-hoc commands (XEP-0050) with service administration (XEP-0133), end to end: slixmpp's
and aioxmpp's ad-hoc clients, and what the users an admin acts on receive."""

from __future__ import annotations

import asyncio
import re
from typing import Any

import pytest
from slixmpp import JID as SliJID
from slixmpp.exceptions import IqError
from twisted.internet.task import Clock
from twisted.words.protocols.jabber.jid import JID

from minixmpp.adhoc.sessions import CommandSessions
from minixmpp.config import ConfigError, Settings
from tests.helpers import close, eventually, login
from tests.rawtext import raw_login
from tests.xmlassert import assert_xml

COMMANDS = "http://jabber.org/protocol/commands"
ADMIN = "http://jabber.org/protocol/admin"
ADD_USER = f"{ADMIN}#add-user"
DELETE_USER = f"{ADMIN}#delete-user"
END_SESSION = f"{ADMIN}#end-user-session"
CHANGE_PASSWORD = f"{ADMIN}#change-user-password"
ANNOUNCE = f"{ADMIN}#announce"
EVERY_ADMIN_COMMAND = {ADD_USER, DELETE_USER, END_SESSION, CHANGE_PASSWORD, ANNOUNCE,
                       f"{ADMIN}#get-registered-users-num", f"{ADMIN}#get-online-users-num",
                       f"{ADMIN}#get-online-users-list"}
PUBLIC = {"ping", "uptime"}
ADMINS = pytest.mark.server_options(admin=["alice@localhost"])
PLUGINS = ("xep_0030", "xep_0004", "xep_0050")


class Flow:
    """slixmpp's own command workflow (``start_command``, ``complete_command``, … with
    ``next``/``error`` handlers in the session) as awaitable steps."""

    def __init__(self, client: Any) -> None:
        self.client = client
        self.replies: asyncio.Queue = asyncio.Queue()
        self.session: dict[str, Any] = {"next": self._reply, "error": self._reply}

    def _reply(self, iq: Any, session: dict[str, Any]) -> None:
        self.replies.put_nowait(iq)

    async def _next(self) -> Any:
        return await asyncio.wait_for(self.replies.get(), 5)

    async def start(self, node: str) -> Any:
        self.client["xep_0050"].start_command(SliJID("localhost"), node, self.session)
        return await self._next()

    async def submit(self, fields: dict[str, Any], how: str = "complete") -> Any:
        self.session["payload"] = submit_form(self.client, fields)
        adhoc = self.client["xep_0050"]
        if how == "complete":
            adhoc.complete_command(self.session)
        else:
            adhoc.continue_command(self.session, how)
        return await self._next()


def submit_form(client: Any, fields: dict[str, Any]) -> Any:
    form = client["xep_0004"].make_form(ftype="submit")
    form.add_field(var="FORM_TYPE", ftype="hidden", value=ADMIN)
    for var, value in fields.items():
        form.add_field(var=var, value=value)
    return form


async def command(client: Any, node: str, action: str = "execute", fields: Any = None,
                  sessionid: str | None = None) -> Any:
    """One command IQ to the domain (no workflow); the result stanza or IqError."""
    payload = submit_form(client, fields) if fields is not None else None
    return await client["xep_0050"].send_command(SliJID("localhost"), node, action=action,
                                                 payload=payload, sessionid=sessionid,
                                                 timeout=5)


async def refused(client: Any, node: str, **kw: Any) -> tuple[str, str | None, list[Any], Any]:
    """(condition, XEP-0050 specific condition, notes of the echoed command, the iq)."""
    with pytest.raises(IqError) as caught:
        await command(client, node, **kw)
    iq = caught.value.iq
    specific = next((child.tag.split("}")[1] for child in iq.xml.find("{jabber:client}error")
                     if child.tag.startswith(f"{{{COMMANDS}}}")), None)
    return iq["error"]["condition"], specific, iq["command"]["notes"], iq


def values(iq: Any) -> dict[str, Any]:
    return iq["command"]["form"].get_values()


async def nodes(client: Any) -> set[str]:
    items = await client["xep_0050"].get_commands(SliJID("localhost"), timeout=5)
    listed = items["disco_items"]["items"]
    assert {jid for jid, _, _ in listed} == {SliJID("localhost")}  # §2.2: the responder's own
    return {node for _, node, _ in listed}


async def stream_error(client: Any, timeout: float = 5) -> str:
    await eventually(lambda: client.stream_errors, timeout)
    return client.stream_errors[0]


async def cannot_log_in(server: Any, user: str, password: str) -> None:
    with pytest.raises(AssertionError, match="authentication failed"):
        c = await login(server, user, password)
        await close(c)


# -- adding a user, as an admin does it with a client's command dialog --------------------

@ADMINS
async def test_an_admin_adds_a_user_with_slixmpp_and_the_user_logs_in(server) -> None:
    alice = await login(server, "alice", plugins=PLUGINS)
    assert await nodes(alice) == PUBLIC | EVERY_ADMIN_COMMAND
    flow = Flow(alice)
    first = await flow.start(ADD_USER)
    assert first["type"] == "result" and first["command"]["status"] == "executing"
    assert first["command"]["sessionid"]
    assert first["command"]["actions"] == {"next", "complete"}
    actions = first.xml.find(f"{{{COMMANDS}}}command/{{{COMMANDS}}}actions")
    assert actions.get("execute") == "complete"  # the default, as Prosody
    form = first["command"]["form"]
    assert form["type"] == "form" and form["title"] == "Adding a User"
    assert form.get_fields()["FORM_TYPE"]["value"] == [ADMIN]  # hidden: a list to slixmpp
    assert form.get_fields()["accountjid"]["type"] == "jid-single"
    assert form.get_fields()["accountjid"]["required"]
    assert form.get_fields()["password"]["type"] == "text-private"
    done = await flow.submit({"accountjid": "dave@localhost", "password": "s3cret",
                              "password-verify": "s3cret"})
    assert done["type"] == "result" and done["command"]["status"] == "completed"
    assert done["command"]["sessionid"] == first["command"]["sessionid"]
    assert done["command"]["notes"] == [("info", "Account dave@localhost created")]
    dave = await login(server, "dave", "s3cret")
    assert dave.boundjid.bare == "dave@localhost"
    await close(alice, dave)


@ADMINS
async def test_adding_an_account_that_exists_is_a_conflict(server) -> None:
    alice = await login(server, "alice", plugins=PLUGINS)
    condition, _, notes, iq = await refused(alice, ADD_USER, fields={
        "accountjid": "bob@localhost", "password": "x"})
    assert condition == "conflict"  # XEP-0133 §5
    assert notes == [("error", "bob@localhost exists")] and iq["command"]["status"] == "canceled"
    assert server.accounts.check_password("bob", "bob")
    await close(alice)


# -- who may do what ------------------------------------------------------------------------

@ADMINS
async def test_a_non_admin_lists_only_public_commands_and_is_forbidden_the_others(server
                                                                                 ) -> None:
    bob = await login(server, "bob", plugins=PLUGINS)
    assert await nodes(bob) == PUBLIC
    condition, _, notes, iq = await refused(bob, ADD_USER, fields={
        "accountjid": "mallory@localhost", "password": "x"})
    assert condition == "forbidden" and iq["error"]["type"] == "cancel"  # XEP-0050 §4.6
    assert notes == [("error", "you are not allowed to run this command")]
    assert not server.accounts.exists("mallory")
    with pytest.raises(IqError) as caught:  # XEP-0050 §2.2: not available to the requester
        await bob["xep_0030"].get_info(jid="localhost", node=DELETE_USER, timeout=5)
    assert caught.value.iq["error"]["condition"] == "forbidden"
    for node in PUBLIC:  # the harmless ones are everybody's
        done = await command(bob, node)
        assert done["command"]["status"] == "completed"
    await close(bob)


async def test_without_admins_everyone_runs_uptime_and_ping_and_nothing_else(server) -> None:
    alice = await login(server, "alice", plugins=PLUGINS)
    assert await nodes(alice) == PUBLIC
    uptime = await command(alice, "uptime")
    [(kind, text)] = uptime["command"]["notes"]
    assert kind == "info" and text.startswith("This server has been running for 0 days, "
                                              "0 hours and 0 minutes (since 20")
    ping = await command(alice, "ping")
    [(kind, text)] = ping["command"]["notes"]
    assert kind == "info" and text.startswith("Pong\n20") and text.endswith("Z")
    assert (await refused(alice, f"{ADMIN}#get-online-users-num"))[0] == "forbidden"
    await close(alice)


@ADMINS
async def test_commands_go_to_the_domain_not_to_an_account(server) -> None:
    alice = await login(server, "alice", plugins=PLUGINS)
    with pytest.raises(IqError) as caught:
        await alice["xep_0050"].send_command(SliJID("bob@localhost"), "uptime", timeout=5)
    assert caught.value.iq["error"]["condition"] == "service-unavailable"
    await close(alice)


@ADMINS
async def test_only_local_accounts_may_run_commands(server) -> None:
    """The requester is the JID the server stamped: from elsewhere nothing is listed or
    allowed, whatever its localpart."""
    handler = server.service("adhoc")
    uptime, add_user = handler.commands["uptime"], handler.commands[ADD_USER]
    assert handler.allowed(JID("alice@localhost/r"), add_user)
    assert handler.allowed(JID("bob@localhost/r"), uptime)
    assert not handler.allowed(JID("bob@localhost/r"), add_user)
    for outsider in ("alice@example.org/r", "localhost", "push.localhost", "alice@push.localhost"):
        assert not handler.allowed(JID(outsider), uptime), outsider
        assert handler.getDiscoItems(JID(outsider), JID("localhost"), COMMANDS) == []


# -- discovery (XEP-0050 §2) ------------------------------------------------------------------

@ADMINS
async def test_disco_lists_the_commands_feature_and_describes_each_node(server) -> None:
    alice = await login(server, "alice", plugins=PLUGINS)
    disco = alice["xep_0030"]
    info = await disco.get_info(jid="localhost", timeout=5)
    assert COMMANDS in info["disco_info"]["features"]
    node = await disco.get_info(jid="localhost", node=ADD_USER, timeout=5)
    assert node["disco_info"]["identities"] == {("automation", "command-node", None, "Add User")}
    assert set(node["disco_info"]["features"]) == {COMMANDS, "jabber:x:data"}
    listing = await disco.get_info(jid="localhost", node=COMMANDS, timeout=5)
    assert ("automation", "command-list", None, "Ad-Hoc Commands") in \
        listing["disco_info"]["identities"]
    with pytest.raises(IqError) as caught:
        await disco.get_info(jid="localhost", node="no-such-command", timeout=5)
    assert caught.value.iq["error"]["condition"] == "item-not-found"
    mine = await disco.get_info(jid="alice@localhost", timeout=5)
    assert COMMANDS not in mine["disco_info"]["features"]  # the domain's, not the account's
    await close(alice)


@pytest.mark.server_options(disable=["adhoc"], admin=["alice@localhost"])
async def test_switched_off_nothing_is_advertised_and_a_command_is_unavailable(server
                                                                              ) -> None:
    alice = await login(server, "alice", plugins=PLUGINS)
    info = await alice["xep_0030"].get_info(jid="localhost", timeout=5)
    assert COMMANDS not in info["disco_info"]["features"]
    assert "urn:xmpp:ping" in info["disco_info"]["features"]  # positive control
    items = await alice["xep_0050"].get_commands(SliJID("localhost"), timeout=5)
    assert not items["disco_items"]["items"]
    for node in ("uptime", ADD_USER):
        with pytest.raises(IqError) as caught:
            await command(alice, node)
        assert caught.value.iq["error"]["condition"] == "service-unavailable"
    await close(alice)


# -- the administration commands (XEP-0133 §4) ----------------------------------------------

@ADMINS
async def test_delete_user_closes_its_streams_and_it_cannot_log_in(server) -> None:
    alice = await login(server, "alice", plugins=PLUGINS)
    carol = await login(server, "carol")
    flow = Flow(alice)
    form = await flow.start(DELETE_USER)
    assert form["command"]["form"].get_fields()["accountjids"]["type"] == "jid-multi"
    done = await flow.submit({"accountjids": ["carol@localhost", "nobody@localhost"]})
    assert done["command"]["status"] == "completed"
    assert done["command"]["notes"] == [("info", "Deleted carol@localhost"),
                                        ("error", "No such account nobody@localhost")]
    assert await stream_error(carol) == "not-authorized"
    await eventually(lambda: not server.accounts.exists("carol"))
    await cannot_log_in(server, "carol", "carol")
    await close(alice, carol)


@ADMINS
async def test_change_password_the_old_fails_the_new_works_and_sessions_reset(server) -> None:
    alice = await login(server, "alice", plugins=PLUGINS)
    carol = await login(server, "carol")
    flow = Flow(alice)
    form = await flow.start(CHANGE_PASSWORD)
    assert set(form["command"]["form"].get_fields()) == {"FORM_TYPE", "accountjid", "password"}
    done = await flow.submit({"accountjid": "carol@localhost", "password": "n3w"}, "next")
    assert done["command"]["notes"] == [("info", "Password of carol@localhost changed")]
    assert await stream_error(carol) == "reset"  # as Prosody: the credentials changed
    await cannot_log_in(server, "carol", "carol")
    again = await login(server, "carol", "n3w")
    await close(alice, carol, again)


@ADMINS
async def test_changing_the_password_of_no_account_is_item_not_found(server) -> None:
    alice = await login(server, "alice", plugins=PLUGINS)
    condition, _, notes, _ = await refused(alice, CHANGE_PASSWORD, fields={
        "accountjid": "nobody@localhost", "password": "x"})
    assert condition == "item-not-found" and notes == [("error", "no account nobody@localhost")]
    await close(alice)


@ADMINS
async def test_end_user_session_by_full_jid_ends_that_one_by_bare_jid_all(server) -> None:
    alice = await login(server, "alice", plugins=PLUGINS)
    phone = await login(server, "carol", resource="phone")
    laptop = await login(server, "carol", resource="laptop")
    done = await command(alice, END_SESSION, fields={"accountjids": ["carol@localhost/phone"]})
    assert done["command"]["notes"] == [("info", "Ended the sessions of carol@localhost/phone")]
    assert await stream_error(phone) == "policy-violation"
    assert not laptop.stream_errors
    await eventually(lambda: [s.resource for s in server.sessions.of("carol")] == ["laptop"])
    done = await command(alice, END_SESSION, fields={"accountjids": ["carol@localhost",
                                                                     "bob@localhost"]})
    assert done["command"]["notes"] == [("info", "Ended the sessions of carol@localhost"),
                                        ("error", "No session of bob@localhost")]
    assert await stream_error(laptop) == "policy-violation"
    await eventually(lambda: not server.sessions.of("carol"))
    again = await login(server, "carol")  # kicked, not banned (XEP-0133 §4.5)
    await close(alice, phone, laptop, again)


@ADMINS
async def test_online_users_and_the_counts(server) -> None:
    alice = await login(server, "alice", plugins=PLUGINS)
    bob = await login(server, "bob")
    other = await login(server, "bob", resource="other")
    flow = Flow(alice)
    form = await flow.start(f"{ADMIN}#get-online-users-list")
    max_items = form["command"]["form"].get_fields()["max_items"]
    assert max_items["type"] == "list-single"
    assert [o["value"] for o in max_items["options"]][-1] == "none"
    listed = await flow.submit({"max_items": "none"})
    assert listed["command"]["form"]["type"] == "result"
    assert [str(j) for j in values(listed)["onlineuserjids"]] == ["alice@localhost",
                                                                  "bob@localhost"]
    first = await command(alice, f"{ADMIN}#get-online-users-list", fields={"max_items": "1"})
    assert [str(j) for j in values(first)["onlineuserjids"]] == ["alice@localhost"]
    online = await command(alice, f"{ADMIN}#get-online-users-num")
    assert online["command"]["status"] == "completed"
    assert values(online) == {"FORM_TYPE": [ADMIN], "onlineusersnum": "2"}
    registered = await command(alice, f"{ADMIN}#get-registered-users-num")
    assert values(registered)["registeredusersnum"] == "3"
    await close(alice, bob, other)


@ADMINS
async def test_announce_reaches_every_online_user(server) -> None:
    alice = await login(server, "alice", plugins=PLUGINS)
    bob = await login(server, "bob")
    carol = await login(server, "carol")
    flow = Flow(alice)
    form = await flow.start(ANNOUNCE)
    assert form["command"]["form"].get_fields()["announcement"]["type"] == "text-multi"
    done = await flow.submit({"subject": "Maintenance",
                              "announcement": ["Down at noon.", "Back soon."]})
    assert done["command"]["notes"] == [("info", "Announcement sent to 3 online users")]
    for client in (alice, bob, carol):
        message = await client.next_message()
        assert message["type"] == "headline" and message["from"] == SliJID("localhost")
        assert message["subject"] == "Maintenance"
        assert message["body"] == "Down at noon.\nBack soon."
    await close(alice, bob, carol)


# -- errors of the protocol (XEP-0050 §4.6) --------------------------------------------------

@ADMINS
async def test_a_bad_form_is_bad_payload_with_a_note_and_can_be_corrected(server) -> None:
    alice = await login(server, "alice", plugins=PLUGINS)
    first = await command(alice, ADD_USER)
    sid = first["command"]["sessionid"]
    for fields, note in (({"accountjid": "dave@localhost"}, "password: a value is required"),
                         ({"password": "x"}, "accountjid: a value is required"),
                         ({"accountjid": "dave@example.org", "password": "x"},
                          "accountjid: dave@example.org is not on localhost"),
                         ({"accountjid": "dave@localhost", "password": "x",
                           "password-verify": "y"},
                          "password-verify: the passwords do not match")):
        condition, specific, notes, iq = await refused(alice, ADD_USER, action="complete",
                                                       fields=fields, sessionid=sid)
        assert (condition, specific, iq["error"]["type"]) == ("bad-request", "bad-payload",
                                                              "modify")
        assert notes == [("error", note)] and iq["error"]["text"] == note
        assert iq["command"]["status"] == "executing"  # still open: correct and resend
    assert not server.accounts.exists("dave")
    done = await command(alice, ADD_USER, action="complete", sessionid=sid,
                         fields={"accountjid": "dave@localhost", "password": "x"})
    assert done["command"]["status"] == "completed" and server.accounts.exists("dave")
    await close(alice)


@ADMINS
async def test_the_replies_on_the_wire(server) -> None:
    """§3.2 executing with actions and the form, §4.6 a bad payload keeping the session,
    §3.4 completed with a note: the shapes, as XML."""
    raw = await raw_login(server, "alice")

    async def ask(n: int, command: str) -> str:
        raw.send(f"<iq type='set' id='c{n}' to='localhost'>{command}</iq>")
        text = await raw.read_until(f"id='c{n}'.*?</iq>")
        return re.search(f"<iq [^>]*id='c{n}'.*?</iq>", text, re.S).group(0)

    first = await ask(1, f"<command xmlns='{COMMANDS}' node='{ADD_USER}' action='execute'/>")
    assert_xml(first, f"""<iq type='result' id='c1' from='localhost' to='alice@localhost/raw'>
      <command xmlns='{COMMANDS}' node='{ADD_USER}' sessionid='*' status='executing'>
        <actions execute='complete'><next/><complete/></actions>
        <x xmlns='jabber:x:data' type='form'><title>Adding a User</title>
          <instructions>Fill out this form to add a user.</instructions>
          <field var='FORM_TYPE' type='hidden'><value>{ADMIN}</value></field>
          <field var='accountjid' type='jid-single'><required/></field>
          <field var='password' type='text-private'><required/></field>
          <field var='password-verify' type='text-private'/></x></command></iq>""")
    sid = re.search("sessionid='([^']+)'", first).group(1)
    form = ("<x xmlns='jabber:x:data' type='submit'><field var='accountjid'>"
            "<value>frank@localhost</value></field>{}</x>")
    bad = await ask(2, f"<command xmlns='{COMMANDS}' node='{ADD_USER}' sessionid='{sid}' "
                       f"action='complete'>{form.format('')}</command>")
    # exact: the submitted form (it may hold a password) is not sent back
    assert_xml(bad, f"""<iq type='error' id='c2' from='localhost' to='alice@localhost/raw'>
      <command xmlns='{COMMANDS}' node='{ADD_USER}' sessionid='{sid}' status='executing'>
        <note type='error'>password: a value is required</note></command>
      <error type='modify' code='*'><bad-request xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/>
        <text xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'>password: a value is required</text>
        <bad-payload xmlns='{COMMANDS}'/></error></iq>""", exact=True)
    done = await ask(3, f"<command xmlns='{COMMANDS}' node='{ADD_USER}' sessionid='{sid}'>"
                        + form.format("<field var='password'><value>pw</value></field>")
                        + "</command>")
    assert_xml(done, f"""<iq type='result' id='c3' from='localhost' to='alice@localhost/raw'>
      <command xmlns='{COMMANDS}' node='{ADD_USER}' sessionid='{sid}' status='completed'>
        <note type='info'>Account frank@localhost created</note></command></iq>""",
               exact=True)
    raw.close()


@ADMINS
async def test_an_unknown_node_is_item_not_found(server) -> None:
    alice = await login(server, "alice", plugins=PLUGINS)
    condition, _, _, iq = await refused(alice, f"{ADMIN}#shutdown")
    assert condition == "item-not-found" and iq["error"]["type"] == "cancel"
    await close(alice)


@ADMINS
async def test_a_sessionid_that_is_unknown_ended_or_someone_elses_is_bad_sessionid(server
                                                                                  ) -> None:
    alice = await login(server, "alice", plugins=PLUGINS)
    other = await login(server, "alice", resource="other", plugins=PLUGINS)
    fields = {"accountjid": "dave@localhost", "password": "x"}
    started = await command(alice, ADD_USER)
    sid = started["command"]["sessionid"]
    canceled = await command(alice, ADD_USER, action="cancel", sessionid=sid)
    assert canceled["command"]["status"] == "canceled"
    mine = (await command(alice, ADD_USER))["command"]["sessionid"]
    for client, node, sessionid in ((alice, ADD_USER, "no-such-session"),
                                    (alice, ADD_USER, sid),  # canceled
                                    (other, ADD_USER, mine),  # another resource's
                                    (alice, DELETE_USER, mine)):  # another command's
        condition, specific, _, _ = await refused(client, node, action="complete",
                                                  fields=fields, sessionid=sessionid)
        assert (condition, specific) == ("bad-request", "bad-sessionid")
    assert not server.accounts.exists("dave")
    done = await command(alice, ADD_USER, action="complete", fields=fields, sessionid=mine)
    assert done["command"]["status"] == "completed"
    await close(alice, other)


@ADMINS
async def test_an_action_the_stage_does_not_offer_is_bad_action(server) -> None:
    alice = await login(server, "alice", plugins=PLUGINS)
    sid = (await command(alice, ADD_USER))["command"]["sessionid"]
    condition, specific, _, iq = await refused(alice, ADD_USER, action="prev", sessionid=sid)
    assert (condition, specific) == ("bad-request", "bad-action")
    assert iq["command"]["status"] == "executing"
    assert (await refused(alice, ADD_USER, action="cancel"))[:2] == ("bad-request",
                                                                      "bad-action")
    assert (await refused(alice, ADD_USER, action="jump", sessionid=sid))[:2] == \
        ("bad-request", "malformed-action")
    await close(alice)


@ADMINS
async def test_a_submitted_form_runs_the_command_in_one_request(server) -> None:
    """As Prosody: ``execute`` with the filled-in form and no session (scripts do this)."""
    alice = await login(server, "alice", plugins=PLUGINS)
    done = await command(alice, ADD_USER, fields={"accountjid": "erin@localhost",
                                                  "password": "pw"})
    assert done["command"]["status"] == "completed" and done["command"]["sessionid"]
    assert server.accounts.check_password("erin", "pw")
    condition, specific, notes, iq = await refused(alice, ADD_USER, fields={"password": "pw"})
    assert (condition, specific) == ("bad-request", "bad-payload")
    assert not iq["command"]["sessionid"]  # nothing was opened
    await close(alice)


# -- sessions are bounded -----------------------------------------------------------------------

def test_command_sessions_expire_and_are_bounded_and_leave_no_timer() -> None:
    clock = Clock()
    sessions = CommandSessions(clock, limit=3, timeout=60)
    first = sessions.open("n", "alice@localhost/r")
    assert sessions.find(first, "n", "alice@localhost/r") is not None
    clock.advance(60)
    assert sessions.find(first, "n", "alice@localhost/r") is None and len(sessions) == 0
    opened = [sessions.open("n", "alice@localhost/r") for _ in range(4)]
    assert len(sessions) == 3 and sessions.find(opened[0], "n", "alice@localhost/r") is None
    assert sessions.find(opened[3], "n", "alice@localhost/r") is not None
    sessions.clear()
    assert len(sessions) == 0 and clock.getDelayedCalls() == []


@ADMINS
async def test_a_resource_that_goes_takes_its_command_sessions(server) -> None:
    alice = await login(server, "alice", plugins=PLUGINS)
    await command(alice, ADD_USER)
    sessions = server.service("adhoc").sessions
    assert len(sessions) == 1
    await close(alice)
    await eventually(lambda: len(sessions) == 0)


# -- the option ---------------------------------------------------------------------------------

def test_admin_must_be_a_bare_jid_on_the_served_domain() -> None:
    assert Settings.build({"admin": ("Alice@LocalHost", "alice@localhost")}).admin == \
        ("alice@localhost",)
    for bad in ("alice@example.org", "localhost", "alice@localhost/phone", "@localhost"):
        with pytest.raises(ConfigError, match=r"^--admin '.*': expected the bare JID of an "
                                              r"account on localhost \(like admin@localhost\)$"):
            Settings.build({"admin": (bad,)})


# -- another client library: aioxmpp's own ad-hoc client ------------------------------------

try:
    import aioxmpp
    import aioxmpp.adhoc
    import aioxmpp.connector
except ImportError:  # pragma: no cover  (it is a test dependency)
    aioxmpp = None


@pytest.mark.skipif(aioxmpp is None, reason="aioxmpp is not installed (pip install -e "
                                            "'.[test]' installs it)")
@ADMINS
async def test_aioxmpp_lists_the_commands_and_runs_uptime_and_ping(server) -> None:
    """What aioxmpp's end-to-end test (tests/adhoc/test_e2e.py) asks of Prosody: the
    feature in disco, a non-empty command list with ``ping``, a session with notes."""

    client = aioxmpp.PresenceManagedClient(
        aioxmpp.JID.fromstr("bob@localhost/aio"), aioxmpp.make_security_layer("bob",
                                                                               no_verify=True),
        override_peer=[("127.0.0.1", server.port, aioxmpp.connector.STARTTLSConnector())])
    domain = aioxmpp.JID.fromstr("localhost")

    async def session() -> None:
        async with client.connected():
            adhoc = client.summon(aioxmpp.adhoc.AdHocClient)
            assert await adhoc.supports_commands(domain)
            items = await adhoc.get_commands(domain)
            assert {item.node for item in items} == PUBLIC  # bob is no admin
            assert {item.name for item in items} == {"Ping", "Get uptime"}
            info = await adhoc.get_command_info(domain, "uptime")
            assert COMMANDS in info.features
            for node, start in (("uptime", "This server has been running for"),
                                ("ping", "Pong")):
                run = await adhoc.execute(domain, node)
                assert run.status == aioxmpp.adhoc.CommandStatus.COMPLETED
                [note] = run.response.notes
                assert note.type_ == aioxmpp.adhoc.xso.NoteType.INFO
                assert note.body.startswith(start)
                await run.close()
            with pytest.raises(aioxmpp.XMPPCancelError) as caught:
                await adhoc.execute(domain, ADD_USER)
            assert caught.value.condition == aioxmpp.ErrorCondition.FORBIDDEN

    await asyncio.wait_for(session(), 30)
