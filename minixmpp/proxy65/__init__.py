"""SOCKS5 Bytestreams proxy (XEP-0065) at ``proxy.DOMAIN``: the ``proxy65`` feature.

:func:`build` assembles the relay (``relay.py``: SOCKS5, pairing, limits) on a listener
of its own (``--proxy65``, a free loopback port by default, announced in the streamhost
answer) and the XMPP service (``service.py``) as an internal component. The proxy belongs
to the process like the HTTP listener: the first domain's JID serves the accounts of
every domain, and every domain lists it in its disco#items.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from minixmpp.feature import Context, Feature


def build(ctx: Context) -> Feature:
    """The ``proxy65`` feature (``--disable proxy65`` leaves it out)."""
    from twisted.words.protocols.jabber.jid import JID
    from wokkel.disco import DiscoItem

    from minixmpp.feature import Feature, Listen
    from minixmpp.internal import internal_component
    from minixmpp.proxy65.relay import Relay
    from minixmpp.proxy65.service import ProxyHandler

    s = ctx.settings
    proxy_jid = f"proxy.{s.domains[0]}"
    item = DiscoItem(JID(proxy_jid), name="SOCKS5 Bytestreams Service")
    if ctx.domain != s.domains[0]:
        return Feature("proxy65", items=(item,))
    relay = Relay(ctx.reactor, s.proxy65_max_streams, s.proxy65_max_bytes, s.proxy65_timeout)
    handler = ProxyHandler(relay, proxy_jid, s.domains)

    def describe() -> dict[str, object]:
        host, port = handler.address or (None, None)
        return {"proxy65": {"jid": proxy_jid, "host": host, "port": port,
                            "streams": len(relay.streams)}}

    return Feature("proxy65", service=handler,
                   components=(internal_component(ctx.router, proxy_jid, handler),),
                   items=(item,), listen=(Listen("proxy65", s.proxy65, relay, handler.bound),),
                   stop=relay.close_all, describe=describe)
