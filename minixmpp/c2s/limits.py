"""Limits on client behaviour that span connections: failed authentications per address."""

from __future__ import annotations

from collections import deque
from typing import Any

from twisted.logger import Logger

from minixmpp.timestamps import iso


class AuthLimiter:
    """Failed authentications: recorded (log, status page) and, past
    ``--auth-fail-limit`` per address within a minute, answered ``--auth-fail-delay``
    seconds late (RFC 6120 §13.4: mitigate dictionary attacks)."""

    log = Logger()

    def __init__(self, reactor: Any, limit: int, delay: float) -> None:
        self.reactor = reactor
        self.limit = limit
        self.delay = delay
        #: the latest failures, newest last (status page, HTTP API)
        self.recent: deque[dict[str, Any]] = deque(maxlen=50)
        self._by_ip: dict[str, list[float]] = {}

    def failed(self, ip: str, peer: str, condition: str) -> float:
        """Record a failure; returns how long to delay the answer (0: answer now)."""
        now = self.reactor.seconds()
        self.recent.append({"time": iso(now), "peer": peer, "condition": condition})
        recent = [t for t in self._by_ip.get(ip, []) if now - t < 60] + [now]
        self._by_ip[ip] = recent
        if len(self._by_ip) > 10000:  # bounded: forget quiet addresses
            for other in [k for k, v in self._by_ip.items() if now - v[-1] >= 60]:
                del self._by_ip[other]
        delay = self.delay if len(recent) > self.limit else 0
        self.log.info("authentication failed from {peer}: {condition}{slow}", peer=peer,
                      condition=condition,
                      slow=f" (answer delayed {delay} s: {len(recent)} failures in a minute)"
                      if delay else "")
        return delay

    def clear(self) -> None:
        self.recent.clear()
        self._by_ip.clear()
