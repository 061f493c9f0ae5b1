"""Who may read a PEP node or subscribe to it (XEP-0060 §4.5 access models, §6.1.3 and
§6.5.9 refusals; XEP-0163 §4.2 and §6).

The owner always may, an ``outcast`` never (``forbidden``), a ``member`` always (the
owner made it one, XEP-0060 §8.9). Otherwise the model decides: ``open``: anyone.
``presence``: contacts subscribed to the owner's presence (the owner's roster item is
``from`` or ``both``). ``roster``: those contacts in one of
``pubsub#roster_groups_allowed``. ``whitelist``: members only (XEP-0223 private data has
none).
"""

from __future__ import annotations

from minixmpp.pep.config import effective
from minixmpp.pep.errors import PepError, refuse
from minixmpp.storage.interfaces import IRosterStore


def check(rosters: IRosterStore, owner: str, owner_bare: str, requester_bare: str,
          config: dict[str, str], affiliation: str = "none") -> None:
    """Raise the XEP-0060 error if ``requester_bare`` may not read or subscribe."""
    if requester_bare == owner_bare:
        return
    if affiliation == "outcast":
        raise PepError("forbidden", text="the owner blocked you from this node")
    if affiliation == "member":
        return
    c = effective(config)
    model = c["pubsub#access_model"]
    if model == "open":
        return
    if model == "whitelist":
        raise refuse("closed-node")
    item = rosters.get(owner, requester_bare)
    if item is None or item.subscription not in ("from", "both"):
        raise refuse("presence-subscription-required")
    if model == "roster":
        allowed = {g for g in c["pubsub#roster_groups_allowed"].split("\n") if g}
        if not allowed.intersection(item.groups):
            raise refuse("not-in-roster-group")


def allowed(rosters: IRosterStore, owner: str, owner_bare: str, requester_bare: str,
            config: dict[str, str], affiliation: str = "none") -> bool:
    try:
        check(rosters, owner, owner_bare, requester_bare, config, affiliation)
    except PepError:
        return False
    return True
