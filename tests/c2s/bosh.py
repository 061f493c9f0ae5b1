"""A raw BOSH (XEP-0124/0206) client over HTTP, for the tests that check the bodies
themselves: each answer is one ``<body/>`` element (``send_text`` keeps its bytes, for
the checks that are about them)."""

from __future__ import annotations

from typing import Any

from twisted.words.xish import domish

from tests.raw import BIND, SASL, element, plain
from tests.xmlassert import assert_xml

HTTPBIND = "http://jabber.org/protocol/httpbind"
XBOSH = "urn:xmpp:xbosh"
# a session request (XEP-0124 §7.1, XEP-0206 §3); ``_`` in a name stands for ``:``
SESSION = {"to": "localhost", "wait": "5", "hold": "1", "ver": "1.11", "xml_lang": "en",
           "xmpp_version": "1.0"}


async def post(server: Any, body: str) -> tuple[int, str]:
    """POST ``body`` to the server's ``/http-bind``: the HTTP status and the answer."""
    import aiohttp

    async with aiohttp.ClientSession() as session:
        async with session.post(f"http://127.0.0.1:{server.ports().http}/http-bind",
                                data=body.encode(),
                                headers={"Content-Type": "text/xml; charset=utf-8"},
                                timeout=aiohttp.ClientTimeout(total=30)) as r:
            return r.status, await r.text()


class Bosh:
    """One BOSH session: the next ``rid`` for each request unless a test names one
    (a resend, XEP-0124 §14.3), the ``sid`` once the session is created."""

    def __init__(self, server: Any) -> None:
        self.server = server
        self.rid = 1000
        self.sid = ""

    def body(self, inner: str = "", rid: int | None = None, **attrs: str | None) -> str:
        """The next request's ``<body/>``; an attribute given as None is left out."""
        if rid is None:
            self.rid += 1
            rid = self.rid
        sid = f" sid='{self.sid}'" if self.sid else ""
        extra = "".join(f" {k.replace('_', ':')}='{v}'" for k, v in attrs.items()
                        if v is not None)
        return (f"<body xmlns='{HTTPBIND}' rid='{rid}'{sid} xmlns:xmpp='{XBOSH}'{extra}>"
                f"{inner}</body>")

    async def send_text(self, inner: str = "", rid: int | None = None,
                        **attrs: str | None) -> str:
        status, text = await post(self.server, self.body(inner, rid, **attrs))
        assert status == 200, text
        return text

    async def send(self, inner: str = "", rid: int | None = None,
                   **attrs: str | None) -> domish.Element:
        return element(await self.send_text(inner, rid, **attrs))

    async def create(self, **attrs: str | None) -> domish.Element:
        """A session request (``SESSION``, changed by ``attrs``); keeps the ``sid``."""
        created = await self.send(**{**SESSION, **attrs})
        self.sid = created["sid"]
        return created

    async def auth(self, user: str) -> domish.Element:
        return await self.send(f"<auth xmlns='{SASL}' mechanism='PLAIN'>"
                               f"{plain(user, user)}</auth>")

    async def bind(self, resource: str = "bosh", rid: int | None = None) -> domish.Element:
        return await self.send(f"<iq xmlns='jabber:client' type='set' id='b1'><bind "
                               f"xmlns='{BIND}'><resource>{resource}</resource></bind></iq>",
                               rid)

    async def login(self, user: str, resource: str = "bosh") -> None:
        """Create, authenticate, restart and bind ``user@localhost/resource``."""
        await self.create()
        assert_xml(await self.auth(user),
                   f"<body xmlns='{HTTPBIND}'><success xmlns='{SASL}'/></body>")
        assert_xml(await self.send(xmpp_restart="true", to="localhost"),
                   f"<body xmlns='{HTTPBIND}'><stream:features><bind xmlns='{BIND}'/>"
                   "</stream:features></body>")
        assert_xml(await self.bind(resource),
                   f"<body xmlns='{HTTPBIND}'><iq xmlns='jabber:client' type='result'>"
                   f"<bind xmlns='{BIND}'><jid>{user}@localhost/{resource}</jid></bind>"
                   "</iq></body>")

    async def receive(self, text: str) -> str:
        """Polls until an answer carries ``text``; the session must not end meanwhile."""
        got = ""
        while text not in got:
            got = await self.send_text()
            assert "type='terminate'" not in got, got
        return got
