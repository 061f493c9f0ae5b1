"""Group chat: a XEP-0045 Multi-User Chat service at ``conference.DOMAIN``, run in-process
as an internal component behind the router (like the push App Server).

- :mod:`minixmpp.muc.room`: the rules (affiliations, roles, who may do what), plain Python;
- :mod:`minixmpp.muc.config`: the ``muc#roomconfig`` / ``muc#roominfo`` forms;
- :mod:`minixmpp.muc.service`: the protocol (stanzas in, stanzas out) and the rooms;
- storage through ``IRoomStore`` and an ``IArchiveStore`` for room archives.
"""

NS_MUC = "http://jabber.org/protocol/muc"
NS_USER = NS_MUC + "#user"
NS_ADMIN = NS_MUC + "#admin"
NS_OWNER = NS_MUC + "#owner"
NS_ROOMCONFIG = NS_MUC + "#roomconfig"
NS_ROOMINFO = NS_MUC + "#roominfo"
NS_REQUEST = NS_MUC + "#request"
NS_OCCUPANT_ID = "urn:xmpp:occupant-id:0"
NS_MODERATE = "urn:xmpp:message-moderate:1"
NS_RETRACT = "urn:xmpp:message-retract:1"
NS_CONFERENCE = "jabber:x:conference"


def build_service(server):  # type: ignore[no-untyped-def]
    """The MUC service of ``server`` (a :class:`minixmpp.server.Server`), started as an
    internal component at ``--muc-jid`` and listed in the domain's disco#items."""
    from twisted.words.protocols.jabber.jid import JID
    from wokkel import disco

    from minixmpp.muc.component import build_component
    from minixmpp.muc.service import Limits, MucService

    s = server.settings
    service = MucService(
        s.muc_jid, s.domain, server.storage.rooms, server.storage.room_archive,
        Limits(rooms=s.muc_max_rooms, occupants=s.muc_max_occupants,
               history=s.muc_max_history, rate=s.muc_rate, archive=s.max_archive),
        server.reactor.seconds)
    build_component(server.router, s.muc_jid, service).setServiceParent(server)
    server.server_identity.items.append(disco.DiscoItem(JID(s.muc_jid), name="Chatrooms"))
    return service


def build(ctx):  # type: ignore[no-untyped-def]
    """The ``muc`` feature (temporary on main until the split lands)."""
    from twisted.words.protocols.jabber.jid import JID
    from wokkel import disco

    from minixmpp.feature import Feature
    from minixmpp.internal import internal_component
    from minixmpp.muc.service import Limits, MucService

    s = ctx.settings
    if s.no_muc:
        return None
    service = MucService(
        s.muc_jid, s.domain, ctx.storage.rooms, ctx.storage.room_archive,
        Limits(rooms=s.muc_max_rooms, occupants=s.muc_max_occupants,
               history=s.muc_max_history, rate=s.muc_rate, archive=s.max_archive),
        ctx.reactor.seconds)
    return Feature("muc", service=service,
                   components=(internal_component(ctx.router, s.muc_jid, service),),
                   items=(disco.DiscoItem(JID(s.muc_jid), name="Chatrooms"),),
                   provides={"nick": service.account_nick},
                   forget=lambda user: service.forget(f"{user}@{s.domain}"),
                   clear=service.clear,
                   describe=lambda: {"muc_jid": service.jid, "rooms": service.describe()})
