"""BOSH (XEP-0124) carrying XMPP (XEP-0206) at ``/http-bind``.

Each BOSH session is one c2s stream (:class:`~minixmpp.c2s.framed.FramedStream` from
the same factory as WebSocket): the request bodies' children are fed to it, what it
writes waits in the session until a held request can carry it. The rules:

- §7.1 session creation: without a ``to`` it is ``terminate`` ``improper-addressing``,
  to a domain we do not serve ``host-unknown`` (as Prosody), and no session is kept;
  ``wait``/``hold`` are capped by ``--bosh-max-wait`` and
  ``--bosh-max-requests`` (``requests`` = ``hold`` + 1); ``inactivity``, ``maxpause``
  and the XEP-0206 ``xmpp:version`` are announced.
- §8, §14.1: requests are processed in ``rid`` order; one that arrives early waits for
  the gap to fill (within the ``requests`` window), a repeated ``rid`` gets the same
  response again (§14.3), anything else ends the session with ``item-not-found``.
- §8: at most ``hold`` requests are held; a further one releases the oldest. A held
  request is answered when stanzas are waiting, or empty after ``wait`` seconds.
- §10 ``pause``: the held requests are answered and the inactivity limit is the pause
  (at most ``--bosh-max-pause``); §7.1 ``inactivity``: a session with no request for
  that long ends (with stream management it hibernates like a dropped TCP stream).
- XEP-0206 §5 ``xmpp:restart='true'`` restarts the stream after SASL; a request that
  goes on without one (the restart reused the SASL request's ``rid`` and got its cached
  answer, §14.3) restarts it first, as Prosody does; §7.3 a stream error ends the
  session with ``condition='remote-stream-error'``.
"""

from __future__ import annotations

import secrets
from typing import Any

from twisted.internet import error as ierror
from twisted.logger import Logger
from twisted.python import failure
from twisted.web import server
from twisted.words.xish import domish

from minixmpp import ns
from minixmpp.c2s import features
from minixmpp.c2s.boshxml import BadRequest, TooDeep, client_qualified, parse_body
from minixmpp.c2s.framed import FramedStream, FrameTransport
from minixmpp.clock import real_reactor
from minixmpp.feature import Context, Feature, Mount
from minixmpp.web.cors import CORS, CORSResource

CONTENT_TYPE = b"text/xml; charset=utf-8"


def _body(**attrs: str) -> str:
    extra = "".join(f" {k}='{v}'" for k, v in attrs.items())
    return f"<body xmlns='{ns.HTTPBIND}'{extra}>"


def _terminate(condition: str) -> bytes:
    """A session request refused with a terminal condition (XEP-0124 §17.2)."""
    return _body(type="terminate", condition=condition).encode() + b"</body>"


class BoshFrames(FrameTransport):
    """The stream's transport: frames wait in the session for a request to carry them."""

    __slots__ = ("session",)

    def __init__(self, session: BoshSession, peer: Any, host: Any) -> None:
        super().__init__(peer, host)
        self.session = session

    def frame(self, data: bytes) -> None:
        self.session.outgoing(data)

    def close(self) -> None:
        self.session.terminate()

    def cut(self) -> None:
        """The client's network is gone: the connections of its held requests die, and
        the session ends when its inactivity runs out (XEP-0124 §7.1)."""
        for _, request, _ in list(self.session.held):
            transport = getattr(request.channel, "transport", None)
            if transport is not None:
                transport.abortConnection()


class BoshSession:
    """One BOSH session: its stream, the requests held, the last answers (§14.3).

    Thousands of these sit idle at once (one request held each), so a session keeps
    only what it needs: slots, no parser between requests (``release_parser``), plain
    lists."""

    log = Logger()
    __slots__ = ("manager", "reactor", "sid", "to", "rid", "wait", "hold", "xs", "frames",
                 "queued_bytes", "held", "early", "answers", "inactivity",
                 "_inactivity_call", "_flush_call", "ended", "stream_error")

    def __init__(self, manager: BoshManager, sid: str, rid: int, wait: int, hold: int,
                 xs: FramedStream, to: str) -> None:
        self.manager = manager
        self.reactor = manager.reactor
        self.sid = sid
        self.to = to  # the session's domain (§7.1), for restarts that leave it out
        self.rid = rid  # the last rid processed
        self.wait = wait
        self.hold = hold
        self.xs = xs
        self.frames: list[bytes] = []
        self.queued_bytes = 0
        #: (rid, request, its wait timer), oldest first
        self.held: list[tuple[int, server.Request, Any]] = []
        #: requests that came before the one due (§8), by rid; None while there is none
        self.early: dict[int, tuple[server.Request, domish.Element]] | None = None
        #: the last ``hold + 1`` answers as (rid, body), for resent requests (§14.3)
        self.answers: list[tuple[int, bytes]] = []
        self.inactivity = manager.settings.bosh_max_inactivity
        self._inactivity_call: Any = None
        self._flush_call: Any = None
        self.ended = False
        self.stream_error = False
        self._arm_inactivity()

    # -- requests -------------------------------------------------------------------------

    def request(self, rid: int, request: server.Request, body: domish.Element) -> Any:
        for answered, data in self.answers:
            if answered == rid:  # §14.3: a resent request gets the same answer
                return data
        if rid <= self.rid or rid > self.rid + self.hold + 1:
            self.terminate(condition="item-not-found", request=request)
            return server.NOT_DONE_YET
        if rid == self.rid + 1:
            self.rid = rid
            self._process(rid, request, body)
        else:
            if self.early is None:
                self.early = {}
            self.early[rid] = (request, body)
        while self.early and self.rid + 1 in self.early and not self.ended:
            self.rid += 1
            req, element = self.early.pop(self.rid)
            self._process(self.rid, req, element)
        if not self.early:
            self.early = None
        return server.NOT_DONE_YET

    def _process(self, rid: int, request: server.Request, body: domish.Element) -> None:
        self._cancel(self._inactivity_call)
        self._inactivity_call = None
        # the hold is HTTP pacing the client times itself against: real time, even on a
        # test's manual clock (inactivity, below, is server time)
        timer = real_reactor(self.reactor).callLater(self.wait, self._answer_oldest)
        self.held.append((rid, request, timer))
        request.notifyFinish().addErrback(self._gone, request)
        xs = self.xs
        terminate = body.getAttribute("type") == "terminate"
        if body.getAttribute((ns.XBOSH, "restart")) == "true" or \
                body.getAttribute("xmpp:restart") == "true":  # XEP-0206 §5
            xs.open_stream(body.getAttribute("to") or self.to, "1.0", None)
        for child in body.elements():
            if self.ended:
                break
            self._open_if_reset(body)
            xs.element_bytes(client_qualified(child).toXml().encode())
        if not terminate and not self.ended:
            self._open_if_reset(body)
        if self.ended:
            return
        xs.release_parser()  # every element of the body is in: none is open
        if terminate:  # §13
            xs.close_stream()
            return self.terminate()
        pause = body.getAttribute("pause")
        if pause is not None:  # §10
            try:
                seconds = int(pause)
            except ValueError:
                return self.terminate(condition="bad-request")
            if seconds > self.manager.settings.bosh_max_pause:
                return self.terminate(condition="policy-violation")
            self.inactivity = seconds
            while self.held:
                self._answer_oldest(force=True)
            return
        self.inactivity = self.manager.settings.bosh_max_inactivity
        while len(self.held) > self.hold and len(self.held) > 1:
            self._answer_oldest(force=True)  # §8: release the oldest
        if self.frames:
            self._schedule_flush()

    def _open_if_reset(self, body: domish.Element) -> None:
        """After SASL success the stream waits for its restart (XEP-0206 §5). A request
        that goes on without one (the restart's request was answered from the cache,
        §14.3, as a resend of the SASL request) opens it, as Prosody does: the parser is
        never handed a stanza in place of the stream header."""
        if self.xs is not None and self.xs.awaiting_header():
            self.xs.open_stream(body.getAttribute("to") or self.to, "1.0", None)

    def _gone(self, _: Any, request: server.Request) -> None:
        for entry in list(self.held):
            if entry[1] is request:
                self.held.remove(entry)
                self._cancel(entry[2])
        if not self.held:
            self._arm_inactivity()

    # -- answers --------------------------------------------------------------------------

    def outgoing(self, data: bytes) -> None:
        self.frames.append(data)
        self.queued_bytes += len(data)
        if b"<stream:error" in data[:20]:
            self.stream_error = True
        if self.queued_bytes > self.xs.max_send_buffer:
            self.log.info("BOSH session {sid}: {n} bytes not collected, ending it",
                          sid=self.sid, n=self.queued_bytes)
            return self.terminate(condition="policy-violation")
        if self.held:
            self._schedule_flush()

    def _schedule_flush(self) -> None:
        if self._flush_call is None:  # one answer for a burst of stanzas
            self._flush_call = self.reactor.callLater(0, self._flush)

    def _flush(self) -> None:
        self._flush_call = None
        if self.frames and self.held:
            self._answer_oldest(force=True)

    def _answer_oldest(self, force: bool = False) -> None:
        if not self.held:
            return
        rid, request, timer = self.held.pop(0)
        self._cancel(timer)
        payload = b"".join(self.frames)
        self.frames.clear()
        self.queued_bytes = 0
        self._write(rid, request, _body().encode() + payload + b"</body>")
        if not self.held and not self.ended:
            self._arm_inactivity()

    def _write(self, rid: int, request: server.Request, data: bytes) -> None:
        self.answers.append((rid, data))
        if len(self.answers) > self.hold + 1:
            del self.answers[:-self.hold - 1]
        if request.finished or request._disconnected:
            return
        request.setHeader(b"content-type", CONTENT_TYPE)
        request.write(data)
        request.finish()

    # -- the end --------------------------------------------------------------------------

    def _arm_inactivity(self) -> None:
        self._cancel(self._inactivity_call)
        self._inactivity_call = self.reactor.callLater(self.inactivity, self._inactive)

    def _inactive(self) -> None:
        self._inactivity_call = None
        self.log.info("BOSH session {sid}: inactive for {n} s, ending it", sid=self.sid,
                      n=self.inactivity)
        self.terminate()

    def terminate(self, condition: str | None = None,
                  request: server.Request | None = None) -> None:
        """End the session: answer every held request (the last with ``terminate``)."""
        if self.ended:
            if request is not None:
                self._terminate_answer(request, condition or "item-not-found")
            return
        self.ended = True
        self.manager.sessions.pop(self.sid, None)
        for call in (self._inactivity_call, self._flush_call):
            self._cancel(call)
        if condition is None and self.stream_error:
            condition = "remote-stream-error"
        while len(self.held) > 1:
            self._answer_oldest(force=True)
        if self.held:
            rid, held_request, timer = self.held.pop(0)
            self._cancel(timer)
            self._terminate_answer(held_request, condition)
        if request is not None:
            self._terminate_answer(request, condition)
        for early_request, _ in (self.early or {}).values():
            self._terminate_answer(early_request, condition)
        self.early = None
        xs, self.xs = self.xs, None
        if xs is not None and xs.transport is not None:
            xs.transport.disconnecting = True
            xs.connectionLost(failure.Failure(ierror.ConnectionDone()))
            xs.transport = None

    def _terminate_answer(self, request: server.Request, condition: str | None) -> None:
        payload = b"".join(self.frames)
        self.frames.clear()
        attrs = {"type": "terminate"}
        if condition:
            attrs["condition"] = condition
        if not (request.finished or request._disconnected):
            request.setHeader(b"content-type", CONTENT_TYPE)
            request.write(_body(**attrs).encode()[:-1] +
                          f" xmlns:stream='{ns.STREAMS}'>".encode() + payload + b"</body>")
            request.finish()

    @staticmethod
    def _cancel(call: Any) -> None:
        if call is not None and call.active():
            call.cancel()


class BoshManager:
    """Every BOSH session of the server."""

    def __init__(self, settings: Any, reactor: Any) -> None:
        self.settings = settings
        self.reactor = reactor
        #: the framed c2s factory and whether the listener is HTTPS, once mounted
        self.factory: Any = None
        self.secure = False
        self.sessions: dict[str, BoshSession] = {}

    def resource(self, web: Any) -> BoshResource:
        """``/http-bind`` on the HTTP site (``web``: a :class:`minixmpp.web.WebContext`)."""
        self.factory, self.secure = web.c2s, web.secure
        return BoshResource(self, web.cors, self.settings.max_stanza_size + 4096)

    def create(self, request: server.Request, body: domish.Element) -> Any:
        """§7.1 / XEP-0206 §3: a new session and its stream."""
        s = self.settings
        try:
            rid = int(body.getAttribute("rid") or "")
            wait = min(int(body.getAttribute("wait") or s.bosh_max_wait), s.bosh_max_wait)
            hold = min(int(body.getAttribute("hold") or 1), s.bosh_max_requests - 1)
        except ValueError:
            raise BadRequest("rid, wait and hold must be integers") from None
        if rid < 0 or rid > 2**53 or wait < 0 or hold < 0:
            raise BadRequest("rid, wait and hold out of range")
        to = body.getAttribute("to")
        if not to:  # XEP-0124 §7.1, §17.2: no session, no stream
            return _terminate("improper-addressing")
        domain = features.served(to, self.factory.contexts)
        if domain is None:  # XEP-0206 §3, RFC 6120 §4.9.3.6
            return _terminate("host-unknown")
        sid = secrets.token_urlsafe(18)
        channel = request.channel.transport
        peer = channel.getPeer()
        xs = self.factory.buildProtocol(peer)
        xs.framing = False
        xs.transport_name = "bosh"
        xs.authenticator.tls = self.secure
        session = BoshSession(self, sid, rid, wait, max(1, hold), xs, domain)
        self.sessions[sid] = session
        xs.makeConnection(BoshFrames(session, peer, channel.getHost()))
        if not session.ended:  # else refused (--max-connections)
            xs.open_stream(to, "1.0", None)
        if session.ended:  # the stream error, in a terminate body: no session is kept
            payload = b"".join(session.frames)
            return (_body(type="terminate", condition="remote-stream-error").encode()[:-1]
                    + f" xmlns:stream='{ns.STREAMS}'>".encode() + payload + b"</body>")
        head = _body(sid=sid, wait=str(wait), requests=str(session.hold + 1),
                     hold=str(session.hold), inactivity=str(s.bosh_max_inactivity),
                     maxpause=str(s.bosh_max_pause), polling="1", ver="1.11",
                     **{"from": s.domain})
        head = head[:-1] + (f" xmpp:version='1.0' xmlns:xmpp='{ns.XBOSH}' "
                            f"xmlns:stream='{ns.STREAMS}'>")
        payload = b"".join(session.frames)
        session.frames.clear()
        session.queued_bytes = 0
        data = head.encode() + payload + b"</body>"
        session.answers.append((rid, data))
        session._arm_inactivity()
        xs.release_parser()
        return data

    def stop(self) -> None:
        for session in list(self.sessions.values()):
            for call in (session._inactivity_call, session._flush_call):
                session._cancel(call)


class BoshResource(CORSResource):
    """``/http-bind``: POST bodies; OPTIONS for CORS preflight."""

    log = Logger()
    methods = b"POST, OPTIONS"

    def __init__(self, manager: BoshManager, cors: CORS, max_body: int) -> None:
        super().__init__(cors)
        self.manager = manager
        self.max_body = max_body

    def render_GET(self, request: server.Request) -> bytes:
        request.setHeader(b"content-type", b"text/plain; charset=utf-8")
        request.setHeader(b"allow", self.methods)
        request.setResponseCode(405)
        return b"BOSH (XEP-0124/0206): POST a <body/> here\n"

    def render_POST(self, request: server.Request) -> Any:
        self.allow(request)
        request.setHeader(b"content-type", CONTENT_TYPE)
        request.setHeader(b"cache-control", b"no-store")
        if getattr(request, "too_large", False):
            request.setResponseCode(413)
            return _terminate("policy-violation")
        data = request.content.read()
        if len(data) > self.max_body:
            request.setResponseCode(413)
            return _terminate("policy-violation")
        try:
            body = parse_body(data, self.manager.settings.max_stanza_depth)
            sid = body.getAttribute("sid")
            if sid is None:
                return self.manager.create(request, body)
            try:
                rid = int(body.getAttribute("rid") or "")
            except ValueError:
                raise BadRequest("rid must be an integer") from None
        except TooDeep as e:
            self.log.info("BOSH: elements nested deeper than --max-stanza-depth")
            session = self.manager.sessions.get(e.sid or "")
            if session is None:
                return _terminate("policy-violation")
            session.terminate(condition="policy-violation", request=request)
            return server.NOT_DONE_YET
        except BadRequest as e:
            request.setResponseCode(400)
            self.log.info("BOSH: bad request ({why})", why=str(e))
            return _terminate("bad-request")
        session = self.manager.sessions.get(sid)
        if session is None:  # §14.6 (HTTP 200, terminate)
            return _terminate("item-not-found")
        return session.request(rid, request, body)


def build(ctx: Context) -> Feature | None:
    """The ``bosh`` feature: ``/http-bind`` on the HTTP listener (``--no-bosh`` off)."""
    from minixmpp.web.hostmeta import REL_BOSH

    s = ctx.settings
    if not s.http:
        return None  # it needs the HTTP listener
    manager = BoshManager(s, ctx.reactor)
    return Feature("bosh", service=manager,
                   mounts=(Mount(b"http-bind", manager.resource, rel=REL_BOSH),),
                   stop=manager.stop,
                   describe=lambda: {"bosh_sessions": len(manager.sessions)})
