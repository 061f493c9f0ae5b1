"""Extensible SASL Profile (SASL2, XEP-0388), receiving side, beside legacy SASL.

``<authentication/>`` offers the same mechanisms as ``<mechanisms/>`` and, in
``<inline/>``, Bind 2 (XEP-0386), stream management resumption (XEP-0198) and FAST
(XEP-0484). ``<authenticate/>`` carries the first message, the client's
``<user-agent/>`` and the inline requests; ``<success/>`` answers all of them at once,
and the stream is *not* restarted (§2.5). Between the two, ``<continue/>`` runs the SASL
upgrade tasks (XEP-0480, ``c2s/upgrade.py``) an account needs and the client asked for.
"""

from __future__ import annotations

import base64
from typing import Any

from twisted.words.protocols.jabber import error
from twisted.words.xish import domish

from minixmpp import ns
from minixmpp.c2s import bind2, fast, sm, upgrade
from minixmpp.c2s.sasl import SASLFailure, SASLStage, create, mechanisms
from minixmpp.feature import Context, Feature


def _text(element: domish.Element) -> str:
    return "".join(c for c in element.children if isinstance(c, str)).strip()


def _child(element: domish.Element, uri: str, name: str) -> domish.Element | None:
    return next((c for c in element.elements() if c.uri == uri and c.name == name), None)


class SASL2Stage(SASLStage):
    """``<authenticate/>``, ``<response/>``, ``<abort/>`` in ``urn:xmpp:sasl:2``."""

    order = 30

    def __init__(self, auth) -> None:
        super().__init__(auth)
        self.request: domish.Element | None = None
        self.user_agent: dict[str, str] = {}
        #: the upgrade tasks the client asked for (XEP-0480 §2.2)
        self.tasks: list[str] = []
        #: after ``<continue/>``: the tasks still to do, and the mechanism that succeeded
        self.upgrade: tuple[upgrade.Upgrade, Any] | None = None

    def features(self) -> list[domish.Element]:
        if not self.auth.tls and self.context.settings.require_tls:
            return []
        authentication = domish.Element((ns.SASL2, "authentication"))
        for name in mechanisms(self.plain_allowed(), bool(self.bindings()),
                               self.context.mechanisms):
            authentication.addElement("mechanism", content=name)
        enabled = self.context.enabled
        inline = authentication.addElement("inline")
        if "bind2" in enabled:
            inline.addChild(bind2.inline_feature(enabled))
        if "sm" in enabled:
            inline.addChild(domish.Element((ns.SM, "sm")))
        if self.context.fast is not None:
            inline.addChild(fast.inline_feature())
        for task in upgrade.features(self.context.mechanisms):
            authentication.addChild(task)
        return [authentication]

    def receive(self, element: domish.Element) -> bool:
        if element.uri != ns.SASL2:
            return False
        if self.upgrade is not None and element.name != "abort":
            self._task(element)
        elif element.name == "authenticate":
            self._authenticate(element)
        elif element.name == "response":
            if self.mechanism is None:
                self._failure("malformed-request", "no exchange in progress")
            else:
                self._step_data(_text(element), initial=False)
        elif element.name == "abort":
            self.mechanism = self.upgrade = None
            self._failure("aborted")
        elif element.name in ("next", "task-data"):
            self._failure("malformed-request", "no task in progress")
        else:
            return False
        return True

    def _task(self, element: domish.Element) -> None:
        """XEP-0388 §2.6.2: ``<next/>`` and ``<task-data/>`` of the task in progress; a
        new ``<authenticate/>`` after ``<continue/>`` is a stream error (§4)."""
        assert self.upgrade is not None
        tasks, mechanism = self.upgrade
        if element.name == "authenticate":
            self.auth.xmlstream.sendStreamError(error.StreamError(
                "policy-violation", "already authenticated: finish the task"))
            return
        try:
            if element.name == "next":
                return self.auth.send(tasks.next(element))
            if element.name != "task-data":
                raise SASLFailure("malformed-request", f"<{element.name}/> during a task")
            tasks.task_data(element)
        except SASLFailure as e:
            self.upgrade = None
            return self._failure(e.condition, e.text)
        if tasks.pending:
            return self.auth.send(tasks.continue_element(None))
        self.upgrade = None
        self._succeed(mechanism, None)

    def _authenticate(self, element: domish.Element) -> None:
        settings = self.context.settings
        if settings.require_tls and not self.auth.tls:
            return self._failure("encryption-required")
        self.request = element
        agent = _child(element, ns.SASL2, "user-agent")
        self.user_agent = {}
        if agent is not None:
            self.user_agent["id"] = agent.getAttribute("id", "")
            for name in ("software", "device"):
                child = _child(agent, ns.SASL2, name)
                if child is not None:
                    self.user_agent[name] = _text(child)
        name = element.getAttribute("mechanism") or ""
        bindings = self.bindings()
        offered = mechanisms(self.plain_allowed(), bool(bindings), self.context.mechanisms)
        if name in fast.MECHANISMS and self.context.fast is not None:
            self.mechanism = fast.HashedToken(name, self.context.fast, settings.domain,
                                              self.user_agent.get("id", ""), bindings)
        elif name in offered:  # XEP-0474 §4.1: SASL2's own list is what is hashed
            self.mechanism = create(name, self.context, bindings, offered)
        else:
            return self._failure("invalid-mechanism")
        self.tasks = upgrade.requested(element, self.context.mechanisms)
        initial = _child(element, ns.SASL2, "initial-response")
        self._step_data(None if initial is None else _text(initial), initial=True)

    def _step_data(self, text: str | None, initial: bool) -> None:
        step = self._exchange(None if text is None or (initial and not text) else text)
        if step is None:
            return None
        mechanism, kind, payload = step
        if kind == "challenge":
            challenge = domish.Element((ns.SASL2, "challenge"))
            challenge.addContent(base64.b64encode(payload or b"").decode())
            self.auth.send(challenge)
            return None
        self.mechanism = None
        if isinstance(mechanism, fast.HashedToken) and not self._fast_count(mechanism):
            return None
        if self.tasks:
            tasks = upgrade.Upgrade(self.context.accounts, mechanism.user, self.tasks)
            if tasks.pending:  # §2.6.2: authenticated, but not done yet
                self.upgrade = (tasks, mechanism)
                self.auth.send(tasks.continue_element(payload))
                return None
        self._succeed(mechanism, payload)
        return None

    def _fast_count(self, mechanism: fast.HashedToken) -> bool:
        """XEP-0484 §3.3: the login's ``count`` is recorded; a replayed one fails."""
        assert self.request is not None and mechanism.user is not None
        fast_request = _child(self.request, ns.FAST, "fast")
        count = None
        if fast_request is not None and fast_request.getAttribute("count"):
            try:
                count = int(fast_request["count"])
            except ValueError:
                self._failed(SASLFailure("malformed-request", "count"))
                return False
        if not self.context.fast.used(mechanism.user, self.user_agent.get("id", ""),
                                      mechanism.secret, count):
            self._failed(SASLFailure("not-authorized", "replayed FAST count"))
            return False
        return True

    def _succeed(self, mechanism: Any, payload: bytes | None) -> None:
        """§2.5 success with every inline answer; no stream restart."""
        auth, context, request = self.auth, self.context, self.request
        assert request is not None and mechanism.user is not None
        user = mechanism.user
        agent = self.user_agent.get("id", "")
        fast_request = _child(request, ns.FAST, "fast")
        auth.authenticated(user, mechanism.name, restart=False)  # §2.5: no restart
        success = domish.Element((ns.SASL2, "success"))
        if payload:
            success.addElement("additional-data", content=base64.b64encode(payload).decode())
        identifier = success.addElement("authorization-identifier",
                                        content=f"{user}@{context.settings.domain}")
        resumed = None
        enabled = self.context.enabled
        resume = _child(request, ns.SM, "resume") if "sm" in enabled else None
        if resume is not None:
            resumed = self._resume_inline(resume, success)
        bind_request = _child(request, ns.BIND2, "bind") if "bind2" in enabled else None
        if resumed is None and bind_request is not None:
            success.addChild(bind2.bind(auth, bind_request, self.user_agent))
        if auth.session is not None:
            identifier.children = [auth.session.jid.full()]
        token_request = _child(request, ns.FAST, "request-token")
        if context.fast is not None and agent:
            if fast_request is not None and fast_request.getAttribute("invalidate") in (
                    "true", "1") and isinstance(mechanism, fast.HashedToken):
                context.fast.invalidate(user, agent)
            elif token_request is not None and \
                    token_request.getAttribute("mechanism") in fast.MECHANISMS:
                success.addChild(fast.token_element(context.fast.issue(
                    user, agent, token_request["mechanism"])))
        auth.send(success)
        if resumed is not None:
            sm.resend(auth, resumed)

    def _resume_inline(self, resume: domish.Element, success: domish.Element) -> Any:
        """XEP-0198 resumption inside SASL2 (XEP-0388 §2.7): ``<resumed/>`` or
        ``<failed/>`` in the success; None when it failed (then Bind2 may bind)."""
        auth = self.auth
        assert auth.user is not None
        try:
            h = int(resume.getAttribute("h", ""))
            if not 0 <= h < sm.MOD:
                raise ValueError(h)
            session = self.context.resumption.resume(auth.user, resume.getAttribute(
                "previd", ""), h)
        except ValueError:
            success.addChild(sm.failed("bad-request"))
            return None
        except sm.ResumeFailed as e:
            success.addChild(sm.failed(e.condition))
            return None
        sm.take_over(auth, session)
        state = session.sm
        success.addChild(sm.element("resumed", previd=state.id, h=state.inbound))
        return session

    def _failure(self, condition: str, text: str = "") -> None:
        """§2.6: ``<failure xmlns='urn:xmpp:sasl:2'>`` with an RFC 6120 condition."""
        failure = domish.Element((ns.SASL2, "failure"))
        failure.addElement((ns.SASL, condition))
        if text:
            failure.addElement("text", content=text)
        self.auth.send(failure)


def build(ctx: Context) -> Feature:
    """The ``sasl2`` feature: ``<authentication/>`` beside ``<mechanisms/>`` (XEP-0388);
    Bind2 and FAST ride on it."""
    return Feature("sasl2", c2s_stages=(SASL2Stage,))
