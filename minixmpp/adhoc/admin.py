"""Service administration (XEP-0133) for the ``--admin`` accounts, with the core's own
actions: accounts in ``storage.accounts``, deletion and ending sessions by ``Admin``.

Node names, forms and fields are §4's. Where the XEP is loose, as Prosody's
mod_admin_adhoc: a field that is missing or not a JID on this domain is refused before
anything happens (here ``bad-payload``, Prosody a completed command with an error note);
commands on several accounts do what they can and name the rest in an error note
(§4.4 of XEP-0050); a changed password ends the account's other sessions (``reset``, as
Prosody's mod_c2s). What would close the requester's own stream (deleting or ending
oneself) runs right after the answer went out.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable
from typing import Any

from twisted.logger import Logger
from twisted.words.protocols.jabber.jid import JID, InvalidFormat
from twisted.words.xish import domish
from wokkel import data_form

from minixmpp import addressing, forms, ns
from minixmpp.adhoc.command import (
    BadPayload,
    Command,
    Done,
    Note,
    Refused,
    Values,
    several,
    single,
)
from minixmpp.sessions import Session, SessionManager
from minixmpp.storage.interfaces import AccountExists, IAccountStore

#: §4.20 max_items choices (``none``: all)
MAX_ITEMS = ("25", "50", "75", "100", "150", "200", "none")


def node(name: str) -> str:
    return f"{ns.ADMIN}#{name}"


def stage(title: str, instructions: str, *fields: data_form.Field
          ) -> Callable[[], domish.Element]:
    """A form (§4's ``type='form'``) with FORM_TYPE ``http://jabber.org/protocol/admin``."""
    return lambda: data_form.Form("form", title, [instructions], ns.ADMIN, list(fields)
                                  ).toElement()


def result(*fields: tuple[str, str, str | None, list[str]]) -> domish.Element:
    """A ``type='result'`` form of (var, label, type, values), labels kept."""
    x = forms.form(ns.ADMIN, "result")
    for var, label, kind, values in fields:
        forms.field(x, var, kind, values, label)
    return x


def listed(jids: list[str]) -> str:
    return ", ".join(jids)


class Administration:
    """The XEP-0133 commands of one domain."""

    log = Logger()

    def __init__(self, domain: str, accounts: IAccountStore, sessions: SessionManager,
                 admin: Callable[[], Any], route: Callable[[domish.Element], None],
                 soon: Callable[..., Any]) -> None:
        self.domain = domain
        self.accounts = accounts
        self.sessions = sessions
        self.admin = admin  # the core's Admin, asked when used
        self.route = route
        self.soon = soon  # after the answer went out (reactor.callLater(0, ...))

    def commands(self) -> tuple[Command, ...]:
        jid_single = data_form.Field("jid-single", "accountjid", required=True,
                                     label="The Jabber ID for the account")
        table: tuple[tuple[str, str, Any, Any], ...] = (
            ("add-user", "Add User", self.add_user, stage(
                "Adding a User", "Fill out this form to add a user.", jid_single,
                data_form.Field("text-private", "password", required=True,
                                label="The password for this account"),
                data_form.Field("text-private", "password-verify", label="Retype password"))),
            ("delete-user", "Delete User", self.delete_user, stage(
                "Deleting a User", "Fill out this form to delete a user.",
                data_form.Field("jid-multi", "accountjids", required=True,
                                label="The Jabber ID(s) to delete"))),
            ("end-user-session", "End User Session", self.end_user_session, stage(
                "Ending a User Session", "Fill out this form to end a user's session.",
                data_form.Field("jid-multi", "accountjids", required=True,
                                label="The Jabber ID(s) for which to end sessions"))),
            ("change-user-password", "Change User Password", self.change_password, stage(
                "Changing a User Password", "Fill out this form to change a user's password.",
                jid_single, data_form.Field("text-private", "password", required=True,
                                            label="The password for this account"))),
            ("get-registered-users-num", "Get Number of Registered Users",
             self.registered_count, None),
            ("get-online-users-num", "Get Number of Online Users", self.online_count, None),
            ("get-online-users-list", "Get List of Online Users", self.online_list, stage(
                "Requesting List of Online Users",
                "Fill out this form to request the online users of this service.",
                data_form.Field("list-single", "max_items", label="Maximum number of items "
                                "to show", options=[data_form.Option(v) for v in MAX_ITEMS]))),
            ("announce", "Send Announcement to Online Users", self.announce, stage(
                "Making an Announcement",
                "Fill out this form to make an announcement to all active users of this "
                "service.",
                data_form.Field("text-single", "subject", label="Subject"),
                data_form.Field("text-multi", "announcement", required=True,
                                label="Announcement"))),
        )
        return tuple(Command(node(name), title, run, form, admin=True)
                     for name, title, run, form in table)

    # -- reading the forms -------------------------------------------------------------------

    def jid(self, var: str, value: str, *, full: bool = False) -> JID:
        """A JID of an account on this domain (with a resource if ``full`` allows)."""
        try:
            parsed = addressing.parse(value)
        except InvalidFormat:
            raise BadPayload(f"{var}: {value!r} is not a JID") from None
        if parsed.user is None or (parsed.resource is not None and not full):
            raise BadPayload(f"{var}: {value} is not the bare JID of an account")
        if parsed.host != self.domain:
            raise BadPayload(f"{var}: {value} is not on {self.domain}")
        return parsed

    def account(self, values: Values) -> str:
        """The localpart of ``accountjid``."""
        return self.jid("accountjid", single(values, "accountjid", required=True)).user or ""

    def online(self) -> list[str]:
        """The bare JIDs with at least one session, live or hibernated (XEP-0133 §4.15:
        "at least one connected or available resource"), sorted."""
        return sorted({s.jid.userhost() for s in self.sessions})

    # -- §4.1, §4.2, §4.5, §4.7 -------------------------------------------------------------

    def add_user(self, requester: JID, values: Values) -> Done:
        user = self.account(values)
        password = single(values, "password", required=True)
        verify = values.get("password-verify")
        if verify is not None and single(values, "password-verify") != password:
            raise BadPayload("password-verify: the passwords do not match")
        try:
            self.accounts.create(user, password)
        except AccountExists:
            raise Refused("conflict", f"{user}@{self.domain} exists") from None
        self.log.info("{admin} added the account {user}@{domain} (XEP-0133)",
                      admin=requester.userhost(), user=user, domain=self.domain)
        return Done((Note("info", f"Account {user}@{self.domain} created"),))

    def delete_user(self, requester: JID, values: Values) -> Done:
        jids = [self.jid("accountjids", v) for v in several(values, "accountjids",
                                                            required=True)]
        gone = [j for j in jids if self.accounts.exists(j.user or "")]
        for j in gone:
            self.soon(self._delete, j.user, requester.userhost())
        return self._report("Deleted", gone, "No such account", [j for j in jids
                                                                   if j not in gone])

    def _delete(self, user: str, by: str) -> None:
        if self.accounts.exists(user):
            self.admin().delete_account(user)
            self.log.info("{admin} deleted the account {user}@{domain} (XEP-0133)",
                          admin=by, user=user, domain=self.domain)

    def end_user_session(self, requester: JID, values: Values) -> Done:
        jids = [self.jid("accountjids", v, full=True)
                for v in several(values, "accountjids", required=True)]
        ended, none = [], []
        for j in jids:
            found = self.sessions.of(j.user or "") if j.resource is None else \
                [s for s in [self.sessions.get(j)] if s is not None]
            (ended if found else none).append(j)
            for session in found:
                self.soon(self._end, session, requester.userhost())
        return self._report("Ended the sessions of", ended, "No session of", none)

    def _end(self, session: Session, by: str) -> None:
        if self.sessions.get(session.jid) is session:
            self.admin().end_session(session, "policy-violation",
                                     "session ended by an administrator")
            self.log.info("{admin} ended the session {jid} (XEP-0133)", admin=by,
                          jid=session.jid.full())

    def change_password(self, requester: JID, values: Values) -> Done:
        user = self.account(values)
        password = single(values, "password", required=True)
        if not self.accounts.exists(user):
            raise Refused("item-not-found", f"no account {user}@{self.domain}")
        self.accounts.set_password(user, password)
        self.log.info("{admin} changed the password of {user}@{domain} (XEP-0133)",
                      admin=requester.userhost(), user=user, domain=self.domain)
        for session in self.sessions.of(user):
            if session.jid != requester:  # the other sessions, as Prosody: reset
                self.soon(self._reset, session)
        return Done((Note("info", f"Password of {user}@{self.domain} changed"),))

    def _reset(self, session: Session) -> None:
        if self.sessions.get(session.jid) is session:
            self.admin().end_session(session, "reset", "password changed")

    def _report(self, done: str, jids: list[JID], failed: str, rest: list[JID]) -> Done:
        notes = [Note("info", f"{done} {listed([j.full() for j in jids])}")] if jids else []
        if rest:
            notes.append(Note("error", f"{failed} {listed([j.full() for j in rest])}"))
        return Done(tuple(notes))

    # -- §4.13, §4.15, §4.20, §4.23 ----------------------------------------------------------

    def registered_count(self, requester: JID, values: Values) -> Done:
        count = str(len(self.accounts.users()))
        return Done(result=result(("registeredusersnum", "The number of registered users",
                                   None, [count])))

    def online_count(self, requester: JID, values: Values) -> Done:
        return Done(result=result(("onlineusersnum", "The number of online users", None,
                                   [str(len(self.online()))])))

    def online_list(self, requester: JID, values: Values) -> Done:
        limit = single(values, "max_items") or "none"
        if limit not in ("none", "all") and not (limit.isdigit() and int(limit) > 0):
            raise BadPayload(f"max_items: {limit!r} is not a number of items or 'none'")
        online = self.online()
        shown = online if not limit.isdigit() else online[:int(limit)]
        return Done(result=result(("onlineuserjids", "The list of all online users",
                                   "jid-multi", shown)))

    def announce(self, requester: JID, values: Values) -> Done:
        """A headline from the domain to every session of every online user (each
        resource, as ejabberd's announce/online; Prosody sends to bare JIDs)."""
        text = single(values, "announcement", required=True)
        subject = single(values, "subject")
        targets = list(self.sessions)
        for session in targets:
            message = domish.Element((None, "message"))
            message["from"], message["to"] = self.domain, session.jid.full()
            message["type"], message["id"] = "headline", secrets.token_hex(8)
            if subject:
                message.addElement("subject", content=subject)
            message.addElement("body", content=text)
            self.route(message)
        users = len({s.user for s in targets})
        self.log.info("{admin} sent an announcement to {n} online users (XEP-0133)",
                      admin=requester.userhost(), n=users)
        return Done((Note("info", f"Announcement sent to {users} online users"),))
