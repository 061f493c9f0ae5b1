"""Group chat: a XEP-0045 Multi-User Chat service at ``conference.DOMAIN``, run in-process
as an internal component behind the router (like the push App Server). One module per
section of the XEP, as Prosody cuts ``plugins/muc/``:

- :mod:`~minixmpp.muc.service`: the edge, one table from (stanza, payload, target) to a
  module's method; :mod:`~minixmpp.muc.component`: the internal component;
- :mod:`~minixmpp.muc.registry`: the rooms, their join history, storage, limits, the lock
  of new rooms and temporary rooms vanishing (§10.1);
- :mod:`~minixmpp.muc.occupancy` (§7.1–§7.3, §7.6–§7.7, §7.14 presence),
  :mod:`~minixmpp.muc.messages` (§7.4, §7.5, IQs between occupants, XEP-0410),
  :mod:`~minixmpp.muc.history` (§7.2.13–§7.2.15, §8.1, XEP-0313, XEP-0425),
  :mod:`~minixmpp.muc.administration` (§8–§10), :mod:`~minixmpp.muc.registration`
  (§7.10, §7.12, §7.13, §8.6), :mod:`~minixmpp.muc.invitations` (§7.8),
  :mod:`~minixmpp.muc.avatar` (XEP-0486), :mod:`~minixmpp.muc.search` (XEP-0433),
  :mod:`~minixmpp.muc.disco` (§6);
- :mod:`~minixmpp.muc.render`: occupants' presence and status codes (§7.2.3, §15.6);
- :mod:`~minixmpp.muc.room`: the rules (affiliations, roles, who may do what), plain
  Python; :mod:`~minixmpp.muc.config`: the ``muc#roomconfig`` / ``muc#roominfo`` forms.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from minixmpp.feature import Context, Feature


def build(ctx: Context) -> Feature:
    """The ``muc`` feature at ``--muc-jid`` (off with ``--no-muc``), listed in the
    domain's disco#items; it gives push an account's nick in a room
    (``provides["nick"]``)."""
    from twisted.words.protocols.jabber.jid import JID
    from wokkel.disco import DiscoItem

    from minixmpp.feature import Feature
    from minixmpp.muc.component import build_component
    from minixmpp.muc.registry import Limits
    from minixmpp.muc.service import MucService

    s = ctx.settings
    jid = s.muc_jid
    assert jid is not None and ctx.storage.rooms is not None
    assert ctx.storage.room_archive is not None
    service = MucService(jid, ctx.domain, ctx.storage.rooms, ctx.storage.room_archive,
                         Limits(rooms=s.muc_max_rooms, occupants=s.muc_max_occupants,
                                history=s.muc_max_history, rate=s.muc_rate,
                                archive=s.max_archive, vcard=s.pep_max_item_size,
                                search=s.muc_search_max),
                         ctx.reactor)
    return Feature(
        name="muc", service=service,
        components=(build_component(ctx.router, jid, service),),
        items=(DiscoItem(JID(jid), name="Chatrooms"),),
        provides={"nick": service.account_nick},
        forget=lambda user: service.forget(f"{user}@{ctx.domain}"),
        clear=service.clear,
        describe=lambda: {"muc_jid": jid, "rooms": service.describe()})

