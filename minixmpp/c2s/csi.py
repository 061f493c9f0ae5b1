"""Client State Indication (XEP-0352): a bound client says it is active or inactive.

The state is the session's (``Session.csi``); push may treat an inactive session as
asleep (``--push-csi-inactive``). Bind2 can set it inline (``c2s/bind2.py``).
"""

from __future__ import annotations

from twisted.words.xish import domish

from minixmpp import ns
from minixmpp.c2s.stage import BOUND, Stage
from minixmpp.feature import Context, Feature


class ClientState(Stage):
    """XEP-0352 §4: ``<active/>``/``<inactive/>`` set the session's client state."""

    phases = frozenset({BOUND})
    order = 70

    def features(self) -> list[domish.Element]:
        return [domish.Element((ns.CSI, "csi"))]

    def receive(self, element: domish.Element) -> bool:
        if element.uri != ns.CSI or element.name not in ("active", "inactive"):
            return False
        session = self.auth.session
        assert session is not None
        session.csi = element.name
        return True


def build(ctx: Context) -> Feature:
    """The ``csi`` feature: the stream feature and the stage."""
    return Feature("csi", c2s_stages=(ClientState,))
