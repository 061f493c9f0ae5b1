"""Ad-Hoc Commands (XEP-0050) at the domain's JID: the list in disco, the command IQs,
the sessions of commands with a form, errors at the edge.

Who asks is the authenticated full JID the c2s stream stamped on the IQ, nothing else:
only accounts of the served domain see or run commands, and an admin command is listed
and run only for the ``--admin`` accounts (others: ``forbidden``, XEP-0050 §2.2, §4.6).
Where the XEP is loose this follows Prosody's mod_adhoc: a command with a form offers
``next`` and ``complete`` (``complete`` the default), either of which submits it;
``execute`` with a submitted form and no session runs the command in one request.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from twisted.words.protocols.jabber import error, xmlstream
from twisted.words.protocols.jabber.jid import JID
from twisted.words.xish import domish
from wokkel import disco
from wokkel.subprotocols import IQHandlerMixin, XMPPHandler

from minixmpp import addressing, forms, ns
from minixmpp.adhoc.command import BadPayload, Command, Done, Note, Refused
from minixmpp.adhoc.sessions import CommandSession, CommandSessions, new_id
from minixmpp.discovery import Discoverable

COMMAND = f"/iq[@type='set']/command[@xmlns='{ns.COMMANDS}']"
#: §4.1 ``action`` values
ACTIONS = ("execute", "cancel", "prev", "next", "complete")
#: what submits the form of an open session (``execute`` means ``complete`` here)
SUBMIT = ("execute", "next", "complete")


def reply(node: str | None, sid: str | None, status: str | None = None,
          notes: Sequence[Note] = (), payload: domish.Element | None = None,
          actions: bool = False) -> domish.Element:
    """``<command node sessionid status>`` (§4.1) with ``<actions/>``, notes, payload."""
    command = domish.Element((ns.COMMANDS, "command"))
    for attribute, value in (("node", node), ("sessionid", sid), ("status", status)):
        if value:
            command[attribute] = value
    if actions:  # §4.2, as Prosody: next and complete, complete the default
        offered = command.addElement("actions")
        offered["execute"] = "complete"
        offered.addElement("next")
        offered.addElement("complete")
    for note in notes:
        command.addElement("note", content=note.text)["type"] = note.type
    if payload is not None:
        command.addChild(payload)
    return command


class CommandError(error.StanzaError):
    """A stanza error whose reply carries our ``<command/>`` (node, session, status and
    an error note, as Prosody answers ``forbidden``) instead of a copy of the request:
    the request's form may hold a password."""

    def __init__(self, condition: str, command: domish.Element, text: str | None = None,
                 app: str | None = None, kind: str | None = None) -> None:
        super().__init__(condition, kind, text,
                         appCondition=domish.Element((ns.COMMANDS, app)) if app else None)
        self.command = command

    def toResponse(self, stanza: domish.Element) -> domish.Element:
        response = xmlstream.toResponse(stanza, "error")
        response.addChild(self.command)
        response.addChild(self.getElement())
        return response


def submitted(request: domish.Element) -> dict[str, list[str]] | None:
    """The fields of the request's data form (§4.4: a ``cancel`` form counts as
    ``submit``), or None without one."""
    x = next(request.elements(ns.X_DATA, "x"), None)
    return None if x is None else forms.multi_values(x)


class CommandsHandler(Discoverable, XMPPHandler, IQHandlerMixin):
    """§2 discovery and §3 execution for the domain's ``commands``."""

    disco_features = (ns.COMMANDS,)
    iqHandlers = {COMMAND: "onCommand"}

    def __init__(self, domain: str, commands: Sequence[Command], admins: frozenset[str],
                 sessions: CommandSessions) -> None:
        super().__init__()
        self.domain = domain
        self.commands = {c.node: c for c in commands}
        self.admins = admins
        self.sessions = sessions

    def connectionInitialized(self) -> None:
        self.xmlstream.addObserver(COMMAND, self._request)

    def _request(self, iq: domish.Element) -> None:
        # The domain's commands only: one to an account's bare JID stays unhandled, and
        # the local domain answers it service-unavailable.
        if addressing.parse(iq["to"]).user is None:
            self.handleRequest(iq)

    def allowed(self, requester: JID, command: Command) -> bool:
        """A local account; for an admin command, one of ``--admin``."""
        if requester.host != self.domain or requester.user is None:
            return False
        return not command.admin or requester.userhost() in self.admins

    # -- §2 discovery ------------------------------------------------------------------------

    def getDiscoInfo(self, requestor: JID, target: JID, nodeIdentifier: str = "") -> Any:
        if not nodeIdentifier:  # §2.1: the feature, on the domain only
            return super().getDiscoInfo(requestor, target)
        if target.user is not None:
            return []
        if nodeIdentifier == ns.COMMANDS:  # §2.2, as Prosody names it
            return [disco.DiscoIdentity("automation", "command-list", "Ad-Hoc Commands")]
        command = self.commands.get(nodeIdentifier)
        if command is None:
            return []
        if not self.allowed(requestor, command):
            raise error.StanzaError("forbidden", text="this command is not available to you")
        return [disco.DiscoIdentity("automation", "command-node", command.name),
                disco.DiscoFeature(ns.COMMANDS), disco.DiscoFeature(ns.X_DATA)]

    def getDiscoItems(self, requestor: JID, target: JID, nodeIdentifier: str = "") -> Any:
        if target.user is not None or nodeIdentifier != ns.COMMANDS:
            return []
        domain = JID(self.domain)
        return [disco.DiscoItem(domain, c.node, c.name) for c in self.commands.values()
                if self.allowed(requestor, c)]

    # -- §3 execution ------------------------------------------------------------------------

    def onCommand(self, iq: domish.Element) -> domish.Element:
        requester = addressing.parse(iq["from"])
        request = next(iq.elements(ns.COMMANDS, "command"))
        node, sid = request.getAttribute("node"), request.getAttribute("sessionid")
        action = request.getAttribute("action") or "execute"
        if action not in ACTIONS:
            raise CommandError("bad-request", reply(node, sid), f"unknown action {action!r}",
                               "malformed-action")
        command = self.commands.get(node or "")
        if command is None:
            raise CommandError("item-not-found", reply(node, sid), "no such command")
        if not self.allowed(requester, command):
            text = "you are not allowed to run this command"
            # type cancel, as XEP-0050 §4.6 lists it (RFC 6120's default is auth)
            raise CommandError("forbidden", reply(node, None, "canceled", [Note("error", text)]),
                               text, kind="cancel")
        values = submitted(request)
        if sid is None:
            return self._start(command, requester, action, values)
        session = self.sessions.find(sid, command.node, requester.full())
        if session is None:
            raise CommandError("bad-request", reply(node, sid), "no such session (it ended, "
                               "expired or is not yours)", "bad-sessionid")
        return self._continue(command, session, requester, action, values)

    def _start(self, command: Command, requester: JID, action: str,
               values: dict[str, list[str]] | None) -> domish.Element:
        if action not in SUBMIT:
            raise CommandError("bad-request", reply(command.node, None),
                               f"{action!r} needs a session: the command has not started",
                               "bad-action")
        if command.form is None or values is not None:
            return self._run(command, requester, new_id(), values or {}, None)
        sid = self.sessions.open(command.node, requester.full())
        return reply(command.node, sid, "executing", payload=command.form(), actions=True)

    def _continue(self, command: Command, session: CommandSession, requester: JID,
                  action: str, values: dict[str, list[str]] | None) -> domish.Element:
        if action == "cancel":  # §3.3
            self.sessions.close(session.id)
            return reply(command.node, session.id, "canceled")
        if action == "prev":  # one stage only: there is nothing to go back to
            raise CommandError("bad-request", reply(command.node, session.id, "executing"),
                               "this command has no previous stage", "bad-action")
        if values is None:
            text = "submit the command's form"
            raise CommandError("bad-request", reply(command.node, session.id, "executing",
                                                    [Note("error", text)]),
                               text, "bad-payload")
        return self._run(command, requester, session.id, values, session)

    def _run(self, command: Command, requester: JID, sid: str,
             values: dict[str, list[str]], session: CommandSession | None) -> domish.Element:
        """Run it; completed (§3.4), or a stanza error: a bad form keeps an open session
        for a corrected one (type modify), any other refusal ends it."""
        kept = sid if session is not None else None  # a session the requester knows
        try:
            done: Done = command.run(requester, values)
        except BadPayload as e:
            raise CommandError(e.condition, reply(command.node, kept, kept and "executing",
                                                  [Note("error", e.text)]),
                               e.text, e.app, e.kind) from None
        except Refused as e:
            if kept:
                self.sessions.close(kept)
            raise CommandError(e.condition, reply(command.node, kept, "canceled",
                                                  [Note("error", e.text)]),
                               e.text, e.app, e.kind) from None
        if session is not None:
            self.sessions.close(sid)
        return reply(command.node, sid, "completed", done.notes, done.result)
