"""A synthetic push source for App Server load tests (``POST /api/push/generate``,
``TestServer.generate_pushes``): ``count`` messages at ``rate`` per second, each published
to every registration of the account through the notifier, exactly as a real message
that pushes would be (XEP-0357 §7), without any client. It reports what was sent, how
each App Server answered, and the latencies from publish to answer.

Bounded (SECURITY.md): at most ``--push-generate-max`` messages and
``--push-generate-rate`` per second per run, and every run ends within ``LONGEST``
seconds.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from twisted.internet import defer, task
from twisted.words.xish import domish

from minixmpp.push import message as push_message
from minixmpp.push.policy import GENERATED, Verdict

#: seconds a run may take (count / rate)
LONGEST = 300
#: how often the sender wakes at most; each wake sends what is due by then
TICK = 0.01


@dataclass
class Run:
    """One generator run, and its report (:meth:`report`)."""

    account: str
    count: int
    rate: float
    started: float = 0.0
    sent: int = 0
    answers: Counter[str] = field(default_factory=Counter)
    latencies: list[float] = field(default_factory=list)
    finished: float = 0.0

    def report(self) -> dict[str, Any]:
        ordered = sorted(self.latencies)

        def pct(q: float) -> float | None:
            if not ordered:
                return None
            return round(ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000, 3)

        return {"account": self.account, "messages": self.count, "rate": self.rate,
                "sent": self.sent, "answered": self.answers.get("result", 0),
                "errors": {k: v for k, v in sorted(self.answers.items()) if k != "result"},
                "elapsed_s": round(self.finished - self.started, 3),
                "latency_ms": {"p50": pct(0.5), "p90": pct(0.9), "p99": pct(0.99),
                               "max": round(ordered[-1] * 1000, 3) if ordered else None}}


class Generator:
    """Runs synthetic pushes through ``notifier`` (``push/notifier.py``); ``clock`` is a
    real reactor: a load test paces itself in real time, whatever the server's clock."""

    def __init__(self, notifier: Any, domain: str, clock: Any, max_count: int,
                 max_rate: float) -> None:
        self.notifier = notifier
        self.domain = domain
        self.clock = clock
        self.max_count = max_count
        self.max_rate = max_rate
        self._loops: list[task.LoopingCall] = []

    def check(self, count: Any, rate: Any) -> str | None:
        """What is wrong with ``count`` and ``rate`` (None: they are fine)."""
        if isinstance(count, bool) or not isinstance(count, int) \
                or not 1 <= count <= self.max_count:
            return f"count must be an integer from 1 to {self.max_count} " \
                   "(--push-generate-max)"
        if isinstance(rate, bool) or not isinstance(rate, int | float) or rate != rate \
                or not 0 < rate <= self.max_rate:
            return f"rate must be a number of messages per second above 0, at most " \
                   f"{self.max_rate:g} (--push-generate-rate)"
        if count / rate > LONGEST:
            return f"count / rate must be at most {LONGEST} seconds"
        return None

    def run(self, user: str, count: int, rate: float) -> defer.Deferred[dict[str, Any]]:
        """Send ``count`` synthetic messages' pushes at ``rate``; fires with the report
        once every publish is answered or timed out."""
        problem = self.check(count, rate)
        if problem is not None:
            return defer.fail(ValueError(problem))
        run = Run(user, count, float(rate), started=self.clock.seconds())
        answers: list[defer.Deferred[Any]] = []

        def tick() -> None:
            due = min(count, int((self.clock.seconds() - run.started) * rate) + 1)
            while run.sent < due:
                run.sent += 1
                answers.extend(self._one(run))
            if run.sent >= count:
                loop.stop()

        loop = task.LoopingCall(tick)
        loop.clock = self.clock
        self._loops.append(loop)
        done = loop.start(max(TICK, 1 / rate), now=True)

        def finished(_: Any) -> defer.Deferred[Any]:
            self._loops.remove(loop)
            return defer.DeferredList(answers, consumeErrors=True)

        def report(_: Any) -> dict[str, Any]:
            run.finished = self.clock.seconds()
            return run.report()

        return done.addCallback(finished).addCallback(report)

    def _one(self, run: Run) -> list[defer.Deferred[Any]]:
        """One synthetic message: a publish to each registration of the account."""
        stanza = domish.Element((None, "message"), None, {
            "type": "chat", "to": f"{run.account}@{self.domain}",
            "from": f"{self.domain}/push-generator", "id": f"generated-{run.sent}"})
        stanza.addElement("body", content=f"Generated push {run.sent} of {run.count}")
        m = push_message.read(stanza, run.account)
        registrations = self.notifier.store.registrations(run.account)
        verdicts = [Verdict(r, True, GENERATED, f"message {run.sent} of {run.count} at "
                                                f"{run.rate:g}/s") for r in registrations]
        if self.notifier.decisions.on:
            self.notifier.decisions.record(run.account, verdicts, stanza["id"])
        out = []
        for r in registrations:
            sent = self.clock.seconds()
            d = self.notifier.publish(run.account, r, stanza, GENERATED, m)
            d.addCallback(self._answered, run, sent)
            out.append(d)
        return out

    def _answered(self, condition: str | None, run: Run, sent: float) -> None:
        run.answers[condition or "cancelled"] += 1
        if condition == "result":
            run.latencies.append(self.clock.seconds() - sent)

    def stop(self) -> None:
        """Stop every run (server shutdown); their reports still come."""
        for loop in list(self._loops):
            if loop.running:
                loop.stop()
