"""Ad-hoc commands (XEP-0050) at the domain's JID, with the service administration
commands of XEP-0133 for the ``--admin`` accounts.

``protocol.py`` is the edge (disco, the command IQs, errors); ``sessions.py`` the open
sessions of commands with a form (bounded, expiring); ``command.py`` what a command is,
as plain values; ``public.py`` the commands every local account may run (uptime, ping);
``admin.py`` the XEP-0133 commands, on the core's own actions.
"""

from __future__ import annotations

from twisted.logger import Logger

from minixmpp.adhoc.admin import Administration
from minixmpp.adhoc.protocol import CommandsHandler
from minixmpp.adhoc.public import commands
from minixmpp.adhoc.sessions import CommandSessions
from minixmpp.feature import Context, Feature

log = Logger()


def build(ctx: Context) -> Feature:
    """The ``adhoc`` feature: the commands at the domain; their sessions end with the
    resource that opened them, on ``reset`` and at shutdown."""
    admins = frozenset(a for a in ctx.settings.admin if a.partition("@")[2] == ctx.domain)
    for admin in admins:
        if not ctx.storage.accounts.exists(admin.partition("@")[0]):
            log.warn("--admin {jid}: there is no such account yet; whoever creates it "
                     "(in-band registration, --registration) may administer the server",
                     jid=admin)
    sessions = CommandSessions(ctx.reactor)
    administration = Administration(ctx.domain, ctx.storage.accounts, ctx.sessions,
                                    lambda: ctx.provided("admin"), ctx.local.route,
                                    lambda f, *a: ctx.reactor.callLater(0, f, *a))
    handler = CommandsHandler(ctx.domain, (*commands(ctx.reactor.seconds),
                                           *administration.commands()),
                              admins, sessions)
    return Feature("adhoc", service=handler, handlers=(handler,), unbound=(sessions.unbound,),
                   clear=sessions.clear, stop=sessions.clear)
