"""Push decisions: for every message that reaches an account with push registrations,
one record per registration, pushed or not and by which rule (``policy.RULES``,
docs/push.md "Decisions"). "Why did my phone not get a push?" answered by
``GET /api/push/decisions``, ``TestServer.push_decisions`` and the status page.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, NamedTuple

from minixmpp.push.policy import Verdict
from minixmpp.ring import Ring
from minixmpp.timestamps import iso


class Decision(NamedTuple):
    """One registration's push decision for one message (a tuple: one is made per
    registration and message, on the push path)."""

    seq: int
    time: float
    account: str
    jid: str  # the registration's App Server
    node: str | None
    pushed: bool
    rule: str
    detail: str
    profile: str
    stanza_id: str | None  # the message's id attribute

    def as_dict(self) -> dict[str, Any]:
        return {"seq": self.seq, "time": iso(self.time, "microseconds"),
                "account": self.account, "jid": self.jid, "node": self.node,
                "pushed": self.pushed, "rule": self.rule, "detail": self.detail,
                "profile": self.profile, "stanza_id": self.stanza_id}

    def matches(self, account: str | None = None, node: str | None = None,
                pushed: bool | None = None, rule: str | None = None) -> bool:
        return ((account is None or self.account == account)
                and (node is None or self.node == node)
                and (pushed is None or self.pushed == pushed)
                and (rule is None or self.rule == rule))


class Decisions:
    """The newest decisions (``--push-history``; 0 keeps none and records nothing)."""

    def __init__(self, size: int, clock: Callable[[], float], profile: str) -> None:
        self.ring: Ring[Decision] = Ring(size)
        self.on = size > 0
        self.clock = clock
        self.profile = profile

    def record(self, user: str, verdicts: list[Verdict], stanza_id: str | None) -> None:
        now = self.clock()
        for v in verdicts:
            r = v.registration
            self.ring.add(Decision(self.ring.next_seq(), now, user, r.jid, r.node, v.pushed,
                                   v.rule, v.detail, self.profile, stanza_id))

    def find(self, account: str | None = None, node: str | None = None,
             pushed: bool | None = None, rule: str | None = None,
             since: int = 0) -> list[Decision]:
        return self.ring.find(lambda d: d.matches(account, node, pushed, rule), since)

    def forget(self, user: str) -> None:
        """The account is deleted: its decisions go with it."""
        self.ring.remove(lambda d: d.account == user)
