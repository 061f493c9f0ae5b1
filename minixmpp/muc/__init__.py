"""Group chat: a XEP-0045 Multi-User Chat service at ``conference.DOMAIN``, run in-process
as an internal component behind the router (like the push App Server).

- :mod:`minixmpp.muc.room`: the rules (affiliations, roles, who may do what), plain Python;
- :mod:`minixmpp.muc.config`: the ``muc#roomconfig`` / ``muc#roominfo`` forms;
- :mod:`minixmpp.muc.service`: the protocol (stanzas in, stanzas out) and the rooms;
- storage through ``IRoomStore`` and an ``IArchiveStore`` for room archives.
"""


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
