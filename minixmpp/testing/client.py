"""A small XMPP client on Twisted for tests: STARTTLS (trusting the test server's
certificate), SASL PLAIN, bind; send stanzas, await messages and IQ replies.

It runs on any Twisted reactor, so tests need no asyncio client library. (minixmpp's
own test suite uses slixmpp instead, an independent implementation.)
"""

from __future__ import annotations

import functools
import itertools
from typing import Any

from twisted.internet import defer, endpoints, ssl
from twisted.words.protocols.jabber import client, error, jid, xmlstream
from twisted.words.xish import domish

from minixmpp import ns


class TestClient:
    """One logged-in resource. Create it with :meth:`connect`."""

    __test__ = False  # not a pytest test class

    def __init__(self, reactor: Any, xs: xmlstream.XmlStream, full_jid: jid.JID) -> None:
        self.reactor = reactor
        self.xs = xs
        self.jid = full_jid
        self.messages: list[domish.Element] = []
        self.presences: list[domish.Element] = []
        self.stream_error: str | None = None
        self._message_waiters: list[defer.Deferred] = []
        self._iq_waiters: dict[str, defer.Deferred] = {}
        self._ids = itertools.count(1)
        self.closed: defer.Deferred[None] = defer.Deferred()
        xs.addObserver("/message", self._on_message)
        xs.addObserver("/presence", self.presences.append)
        xs.addObserver("/iq[@type='result']", self._on_reply)
        xs.addObserver("/iq[@type='error']", self._on_reply)
        xs.addObserver("/iq[@type='get']", self._unsupported)
        xs.addObserver("/iq[@type='set']", self._unsupported)
        xs.addObserver(xmlstream.STREAM_ERROR_EVENT, self._on_stream_error)
        xs.addObserver(xmlstream.STREAM_END_EVENT, lambda _: self.closed.called or
                       self.closed.callback(None))

    @classmethod
    async def connect(cls, reactor: Any, host: str, port: int, full_jid: str, password: str,
                      cert_pem: bytes | None, timeout: float = 10) -> TestClient:
        """Connect and log in; fails with the stream or SASL error."""
        who = jid.JID(full_jid)
        tls = _tls_options(who.host, cert_pem) if cert_pem is not None else None
        factory = xmlstream.XmlStreamFactory(_Authenticator(who, password, tls))
        ready: defer.Deferred[xmlstream.XmlStream] = defer.Deferred()
        factory.addBootstrap(xmlstream.STREAM_AUTHD_EVENT, ready.callback)
        factory.addBootstrap(xmlstream.INIT_FAILED_EVENT, ready.errback)
        endpoint = endpoints.TCP4ClientEndpoint(reactor, host, port, timeout=timeout)
        await endpoint.connect(factory)
        xs = await ready.addTimeout(timeout, reactor)
        return cls(reactor, xs, xs.authenticator.jid)

    # -- sending ------------------------------------------------------------------------------

    def send(self, element: domish.Element | str) -> None:
        self.xs.send(element)

    def send_message(self, to: str, body: str | None = None, type: str = "chat",
                     **children: str) -> domish.Element:
        message = domish.Element((None, "message"))
        message["to"], message["type"] = to, type
        message["id"] = f"m{next(self._ids)}"
        if body is not None:
            message.addElement("body", content=body)
        self.send(message)
        return message

    def send_presence(self, show: str | None = None, priority: int | None = None,
                      to: str | None = None, type: str | None = None) -> None:
        presence = domish.Element((None, "presence"))
        if to:
            presence["to"] = to
        if type:
            presence["type"] = type
        if show:
            presence.addElement("show", content=show)
        if priority is not None:
            presence.addElement("priority", content=str(priority))
        self.send(presence)

    def iq(self, child: domish.Element, type: str = "set", to: str | None = None,
           timeout: float = 10) -> defer.Deferred[domish.Element]:
        """Send an IQ; the Deferred fires with the result or fails with ``StanzaError``."""
        iq = domish.Element((None, "iq"))
        iq["type"], iq["id"] = type, f"iq{next(self._ids)}"
        if to:
            iq["to"] = to
        iq.addChild(child)
        d: defer.Deferred[domish.Element] = defer.Deferred()
        self._iq_waiters[iq["id"]] = d
        self.send(iq)
        return d.addTimeout(timeout, self.reactor)

    def barrier(self, timeout: float = 10) -> defer.Deferred[domish.Element]:
        """An IQ ping (XEP-0199) round trip to the server. It fires once everything this
        client sent before was fully handled: the server handles one stream in order,
        and routing, delivery, push and the in-process App Server run in that turn."""
        return self.iq(domish.Element((ns.PING, "ping")), type="get",
                       to=self.jid.host, timeout=timeout)

    def enable_push(self, node: str | None, service: str, away: bool = False,
                    publish_options: dict[str, str] | None = None) -> defer.Deferred:
        """XEP-0357 §5 enable (with the AWAY/XA ``away`` flag)."""
        enable = domish.Element((ns.PUSH, "enable"))
        enable["jid"] = service
        if node is not None:
            enable["node"] = node
        if away:
            enable["away"] = "true"
        if publish_options:
            form = enable.addElement((ns.X_DATA, "x"))
            form["type"] = "submit"
            for var, value in {"FORM_TYPE": ns.PUBLISH_OPTIONS, **publish_options}.items():
                field = form.addElement("field")
                field["var"] = var
                field.addElement("value", content=value)
        return self.iq(enable)

    def disable_push(self, service: str, node: str | None = None) -> defer.Deferred:
        """XEP-0357 §6 disable."""
        disable = domish.Element((ns.PUSH, "disable"))
        disable["jid"] = service
        if node is not None:
            disable["node"] = node
        return self.iq(disable)

    # -- receiving -----------------------------------------------------------------------------

    def next_message(self, timeout: float = 5) -> defer.Deferred[domish.Element]:
        """The oldest message not yet taken, waiting for one if needed."""
        if self.messages:
            return defer.succeed(self.messages.pop(0))
        d: defer.Deferred[domish.Element] = defer.Deferred()
        self._message_waiters.append(d)

        def forget(f: Any) -> Any:
            if d in self._message_waiters:
                self._message_waiters.remove(d)
            return f

        return d.addTimeout(timeout, self.reactor).addErrback(forget)

    def _on_message(self, message: domish.Element) -> None:
        if self._message_waiters:
            self._message_waiters.pop(0).callback(message)
        else:
            self.messages.append(message)

    def _on_reply(self, iq: domish.Element) -> None:
        d = self._iq_waiters.pop(iq.getAttribute("id", ""), None)
        if d is None:
            return
        if iq["type"] == "result":
            d.callback(iq)
        else:
            d.errback(error.exceptionFromStanza(iq))

    def _unsupported(self, iq: domish.Element) -> None:
        if iq.firstChildElement() is not None and iq.firstChildElement().uri == \
                ns.ROSTER:
            self.send(xmlstream.toResponse(iq, "result"))  # roster pushes: acknowledged
        else:
            self.send(error.StanzaError("service-unavailable").toResponse(iq))

    def _on_stream_error(self, failure: Any) -> None:
        self.stream_error = getattr(failure.value, "condition", str(failure.value))

    # -- leaving ---------------------------------------------------------------------------------

    def disconnect(self) -> defer.Deferred[None]:
        """Close the stream politely (RFC 6120 §4.4) and wait until the socket is closed."""
        if not self.closed.called and self.xs.transport is not None:
            self.xs.sendFooter()
            self.xs.transport.loseConnection()
        return _chain(self.closed)

    def drop(self) -> defer.Deferred[None]:
        """Lose the TCP connection without closing the stream (a phone losing network)."""
        if not self.closed.called and self.xs.transport is not None:
            self.xs.transport.abortConnection()
        return _chain(self.closed)


class _Authenticator(client.XMPPAuthenticator):
    """Twisted's client authenticator; without a certificate to trust, no STARTTLS."""

    def associateWithStream(self, xs: xmlstream.XmlStream) -> None:
        super().associateWithStream(xs)
        if self._configurationForTLS is None:
            xs.initializers = [i for i in xs.initializers
                               if not isinstance(i, xmlstream.TLSInitiatingInitializer)]

    def connectionMade(self) -> None:
        # Stanzas are small and a test waits on each one: without TCP_NODELAY, Nagle
        # holds a write behind an unanswered one until the server's delayed ACK (40 ms
        # on Linux), e.g. the stream close after a message that gets no reply.
        transport = self.xmlstream.transport
        if hasattr(transport, "setTcpNoDelay"):
            transport.setTcpNoDelay(True)
        super().connectionMade()


@functools.lru_cache(maxsize=64)
def _tls_options(host: str, cert_pem: bytes) -> Any:
    """Client TLS options trusting the server's certificate, built once per certificate
    (an OpenSSL context per login costs a test more than the handshake)."""
    return ssl.optionsForClientTLS(host, trustRoot=ssl.Certificate.loadPEM(cert_pem))


def _chain(d: defer.Deferred[None]) -> defer.Deferred[None]:
    out: defer.Deferred[None] = defer.Deferred()
    d.addBoth(lambda r: (out.callback(None), r)[1])
    return out
