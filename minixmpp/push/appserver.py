"""The in-process App Server (XEP-0357 §3 "App Server"): a pubsub service at push.DOMAIN.

Built on wokkel's ``PubSubService`` (client input checked by
:class:`~minixmpp.pubsubedge.PubSubEdge`) and wired to the router as an internal component,
so it receives exactly the stanzas an external App Server would. It accepts publishes
to any node, records every notification, wakes whoever waits for one, and can be told
to fail a node (an error condition, or no answer at all) to exercise the error paths,
or to disable one remotely (XEP-0357 §8, :meth:`AppServer.remote_disable`). It takes
p2's registration commands (``push/p2.py``), and with ``--push-virtual-pubsub``
(MongooseIM) pushes reach it through :meth:`AppServer.hook`, with no IQ at all.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from twisted.internet import defer
from twisted.logger import Logger
from twisted.words.protocols.jabber import error
from twisted.words.protocols.jabber.jid import JID
from twisted.words.xish import domish
from wokkel import disco, pubsub

from minixmpp import forms, ns
from minixmpp.feature import Context, Feature
from minixmpp.internal import internal_component
from minixmpp.pubsubedge import PubSubEdge
from minixmpp.push.p2 import P2Commands, Targets
from minixmpp.push.views import notification
from minixmpp.ring import Ring
from minixmpp.stanza import parse
from minixmpp.storage.interfaces import IPushStore


@dataclass
class Notification:
    """One publish received by the App Server."""

    seq: int
    time: float  #: when the publish reached the App Server
    node: str | None
    account: str | None
    fields: dict[str, str]
    publish_options: dict[str, str]
    sender: str
    element: Any = field(repr=False, compare=False, default=None)
    #: "iq": a publish (XEP-0357 §7); "hook": handed over with no stanza (a virtual
    #: pubsub host, MongooseIM's push_notifications hook)
    via: str = "iq"

    @property
    def xml(self) -> str:
        """The publish IQ as received (serialized when first asked for); empty for a
        notification that came through the hook."""
        return self.element.toXml() if self.element is not None else ""


@dataclass
class Failure:
    """How to answer publishes to one node: an error condition, or silence."""

    condition: str | None  # None: never answer
    type: str = "cancel"
    remaining: int | None = None  # None: until recovered


class AppServer(pubsub.PubSubResource):
    """Pubsub resource that takes XEP-0357 notifications on any node."""

    log = Logger()
    features = ["publish", "publish-options"]
    discoIdentity = disco.DiscoIdentity("pubsub", "push", "minixmpp push App Server")

    def __init__(self, jid: str, owner: Callable[[str, str | None], str | None],
                 clock: Callable[[], float], *,
                 log_notifications: bool = True, history: int = 1000,
                 domain: str = "localhost") -> None:
        self.jid = jid
        #: the served domain: the accounts it pushes for live there
        self.domain = domain
        #: how it sends a stanza (its component's, set when it is built)
        self.send: Callable[[domish.Element], None] = lambda _stanza: None
        #: p2's registered devices (``push/p2.py``)
        self.targets = Targets()
        self.log_notifications = log_notifications
        self.owner = owner
        self.clock = clock
        #: the newest notifications (``--push-history``); a waiter fires on the next
        #: reactor turn, once the publish has been answered: whoever waits (a test) may
        #: stop the server at once, and the answer must not go out through a stopped
        #: component
        self.notifications: Ring[Notification] = Ring(history, later=True)
        self.failures: dict[str | None, Failure] = {}

    # -- pubsub (XEP-0060 §7.1, XEP-0357 §7) ----------------------------------------------

    def publish(self, request: pubsub.PubSubRequest) -> defer.Deferred:
        node = request.nodeIdentifier or None
        failure = self._failure(node)
        if failure is not None:
            if failure.condition is None:
                return defer.Deferred()  # never fires: the server's timeout path
            return defer.fail(error.StanzaError(failure.condition, type=failure.type))
        options = _publish_options(request)
        self.targets.check(node, request.sender, options)  # p2's rules for its nodes
        self._received(self._record(request, node, options))
        return defer.succeed(None)

    def _failure(self, node: str | None) -> Failure | None:
        """How a test told it to answer ``node`` this time, if it did."""
        failure = self.failures.get(node)
        if failure is None:
            return None
        if failure.remaining is not None:
            failure.remaining -= 1
            if failure.remaining <= 0:
                del self.failures[node]
        if failure.condition is None:
            self.log.info("push App Server: not answering publish to node={node} "
                          "(told to stay silent)", node=node)
        else:
            self.log.info("push App Server: answering publish to node={node} with "
                          "{condition} (told to fail)", node=node, condition=failure.condition)
        return failure

    def _received(self, notification: Notification) -> None:
        self.notifications.add(notification)
        if self.log_notifications:
            self.log.info("push notification #{seq} received on {jid} node={node} for "
                          "{account} ({via}): {fields}", seq=notification.seq, jid=self.jid,
                          node=notification.node, account=notification.account,
                          via=notification.via, fields=notification.fields)

    def _record(self, request: pubsub.PubSubRequest, node: str | None,
                options: dict[str, str]) -> Notification:
        fields: dict[str, str] = {}
        for item in request.items:
            for child in item.elements(ns.PUSH, "notification"):
                form = forms.find(child, ns.PUSH_SUMMARY)
                if form is not None:
                    fields = forms.values(form)
        arrived = vars(request.element).get(ARRIVED)  # not getattr: that finds children
        return Notification(
            seq=self.notifications.next_seq(),
            time=arrived if arrived is not None else self.clock(), node=node,
            account=self.owner(self.jid, node), fields=fields, publish_options=options,
            sender=request.sender.full() if request.sender else "",
            element=request.element)

    # -- a virtual pubsub host (MongooseIM's virtual_pubsub_hosts) --------------------------

    def hook(self, user: str, registration: Any, fields: dict[str, str]) -> defer.Deferred:
        """A push handed over in-process, with no publish IQ (MongooseIM's
        push_notifications hook, as mod_push_service_mongoosepush takes it): recorded
        like a publish; fires with "result" or the condition a test told it to fail
        with ("timeout" for silence)."""
        node = registration.node
        failure = self._failure(node)
        if failure is not None:
            return defer.succeed(failure.condition or "timeout")
        options = forms.values(parse(registration.publish_options, neutral=False)) \
            if registration.publish_options else {}
        self._received(Notification(
            seq=self.notifications.next_seq(), time=self.clock(), node=node, account=user,
            fields={k: v for k, v in fields.items() if v}, publish_options=options,
            sender="", via="hook"))
        return defer.succeed("result")

    # -- remote disabling (XEP-0357 §8) --------------------------------------------------------

    def remote_disable(self, node: str | None) -> dict[str, Any] | None:
        """Take the publish affiliation of ``node``'s account away and tell its bare JID
        (XEP-0357 §8); later publishes to the node are ``forbidden`` (XEP-0060 §7.1.3.1),
        until :meth:`recover`. None when no account registered the node here."""
        account = self.owner(self.jid, node)
        if account is None or node is None:
            return None
        user = f"{account}@{self.domain}"
        message = domish.Element((None, "message"), None, {"from": self.jid, "to": user})
        pubsub_element = message.addElement((ns.PUBSUB, "pubsub"))
        pubsub_element["node"] = node
        affiliation = pubsub_element.addElement("affiliation")
        affiliation["jid"], affiliation["affiliation"] = user, "none"
        self.failures[node] = Failure("forbidden", "auth")
        self.log.info("push App Server {jid}: affiliation of {user} with node={node} set to "
                      "none (XEP-0357 §8)", jid=self.jid, user=user, node=node)
        self.send(message)
        return {"node": node, "account": account, "jid": self.jid}

    # -- for tests and tools ------------------------------------------------------------------

    def find(self, account: str | None = None, node: str | None = None,
             since: int = 0) -> list[Notification]:
        """Recorded notifications (``seq`` > ``since``), filtered by account and node."""
        return self.notifications.find(lambda n: _matches(n, account, node), since)

    def wait_for(self, reactor: Any, account: str | None = None, node: str | None = None,
                 since: int = 0, timeout: float = 5.0) -> defer.Deferred:
        """A Deferred that fires with the first matching notification after ``since``
        (at once if it is already there), or fails with ``defer.TimeoutError``."""
        return self.notifications.wait_for(reactor, lambda n: _matches(n, account, node),
                                           since, timeout)

    def fail(self, node: str | None, condition: str | None, type: str = "cancel",
             count: int | None = None) -> None:
        """Answer publishes to ``node`` with ``condition`` (None: no answer at all),
        ``count`` times or until :meth:`recover`."""
        self.failures[node] = Failure(condition, type, count)

    def recover(self, node: str | None) -> None:
        self.failures.pop(node, None)

    def cancel_waiters(self) -> None:
        """Cancel every pending :meth:`wait_for` (server shutdown)."""
        self.notifications.cancel_waiters()

    def clear(self) -> None:
        self.notifications.clear()
        self.failures.clear()
        self.targets.clear()


def _publish_options(request: pubsub.PubSubRequest) -> dict[str, str]:
    pubsub_element = request.element.pubsub
    for child in pubsub_element.elements() if pubsub_element else ():
        if child.name == "publish-options":
            form = forms.find(child, ns.PUBLISH_OPTIONS)
            if form is not None:
                return forms.values(form)
    return {}


def _matches(notification: Notification, account: str | None, node: str | None) -> bool:
    return ((account is None or notification.account == account)
            and (node is None or notification.node == node))


#: the attribute the App Server component sets on every stanza the router gives it
ARRIVED = "_minixmpp_arrived"


def build_component(router: Any, jid: str, app: AppServer, *handlers: Any) -> Any:
    """The App Server as a wokkel internal component on ``router`` at ``jid``. It notes
    when each stanza reaches it: the moment the router hands it over, before any dispatch
    or parsing, as an external App Server stamps the bytes it reads (a notification's
    ``time``; benchmarks/ measure push latency to it)."""
    clock = app.clock

    def arrived(stanza: Any) -> bool:
        setattr(stanza, ARRIVED, clock())
        return False  # and on to the handlers

    component = internal_component(router, jid, PubSubEdge(app), *handlers, before=arrived)
    app.send = component.send
    return component


def owner(store: IPushStore, service: str, node: str | None) -> str | None:
    """The account that registered (service, node), for the App Server's records."""
    for user in store.users():
        for registration in store.registrations(user):
            if registration.jid == service and registration.node == node:
                return user
    return None


def build(ctx: Context) -> Feature:
    """The ``appserver`` feature: the in-process App Server at ``--push-jid`` (off with
    ``--no-push-component``, so an external component may serve that JID)."""
    s = ctx.settings
    assert s.push_jid is not None
    store = ctx.storage.push
    app = AppServer(s.push_jid, lambda service, node: owner(store, service, node),
                    ctx.reactor.seconds, log_notifications=not s.push_quiet,
                    history=s.push_history, domain=ctx.domain)
    commands = P2Commands(s.push_jid, app.targets, ctx.reactor.seconds)
    return Feature(
        "appserver", service=app,
        components=(build_component(ctx.router, s.push_jid, app, commands),),
        provides={"push-hook": app.hook},
        items=(disco.DiscoItem(JID(s.push_jid),
                               name="Push notifications (in-process App Server)"),),
        clear=app.clear, stop=app.cancel_waiters,
        forget=lambda user: app.notifications.remove(lambda n: n.account == user),
        describe=lambda: {"push_jid": app.jid, "notifications": [
            notification(n) for n in app.notifications.newest(100)]})
