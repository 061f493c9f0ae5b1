"""The test server for asyncio test suites (pytest-asyncio, anyio): the same API as
:class:`~minixmpp.testing.fixture.TestServer`, with ``await`` instead of Deferreds.

The server runs on a Twisted reactor of its own in a background thread, one per test
process (so one per pytest-xdist worker), started on first use. Each test gets a fresh
:class:`Server` on that reactor, exactly what the ``xmpp_server`` fixture builds; clients
(slixmpp, aioxmpp, the wrapped :class:`TestClient`) reach it over loopback TCP only.

Why a thread rather than Twisted's asyncio reactor on the test's own loop:

- pytest-asyncio and anyio give every test a new event loop (by default). A Twisted
  reactor is installed once per process, bound to one loop, and cannot be restarted;
  following the test's loop would mean re-binding a live reactor, test after test.
- pytest-twisted (``--reactor=asyncio``) owns the process-wide reactor and drives it
  from a greenlet; it does not combine with pytest-asyncio's loop handling. A private
  reactor (never installed as ``twisted.internet.reactor``) does not care who owns the
  global one, so a suite may use both fixtures side by side.
- A subprocess per test would cost a Python start-up (hundreds of milliseconds) and
  the HTTP API for every call; a thread starts a server in about a millisecond.

So it works whatever the loop scope, with asyncio or (through anyio) trio, with or
without pytest-twisted. The price: the server runs concurrently with the test, so
touch ``.server`` (the real :class:`Server`) only through :meth:`AsyncTestServer.call`.
"""

from __future__ import annotations

import asyncio
import atexit
import concurrent.futures
import inspect
import threading
from collections.abc import Callable
from typing import Any

from twisted.internet import defer

from minixmpp.push.appserver import Notification
from minixmpp.testing.client import TestClient
from minixmpp.testing.fixture import Account, TestServer, start

#: Longest a blocking hop into the server thread may take (start, stop, a lookup).
BLOCKING_TIMEOUT = 30.0


def _new_reactor() -> Any:
    """A fresh reactor instance, not installed as the global one."""
    try:
        from twisted.internet.epollreactor import EPollReactor as Reactor
    except ImportError:  # not Linux
        try:
            from twisted.internet.pollreactor import PollReactor as Reactor
        except ImportError:
            from twisted.internet.selectreactor import SelectReactor as Reactor
    return Reactor()


_this_thread = threading.local()


def _tls_on_this_threads_reactor() -> None:
    """Twisted's TLS layer (``startTLS``) batches small writes with a ``callLater(0)``
    on the *global* reactor (``twisted.protocols.tls._get_default_clock``, a hook
    Twisted keeps for tests). In a reactor thread, use that thread's reactor instead;
    everywhere else nothing changes."""
    from twisted.protocols import tls

    if getattr(tls._get_default_clock, "minixmpp", False):
        return
    default = tls._get_default_clock

    def clock() -> Any:
        return getattr(_this_thread, "reactor", None) or default()

    clock.minixmpp = True  # type: ignore[attr-defined]
    tls._get_default_clock = clock


class ReactorThread:
    """A private Twisted reactor running in a daemon thread."""

    def __init__(self) -> None:
        _tls_on_this_threads_reactor()
        self.reactor = _new_reactor()
        running = threading.Event()
        self.reactor.callWhenRunning(running.set)
        self.thread = threading.Thread(target=self._run, name="minixmpp-reactor",
                                       daemon=True)
        self.thread.start()
        if not running.wait(BLOCKING_TIMEOUT):
            raise RuntimeError("the minixmpp reactor thread did not start")

    def _run(self) -> None:
        _this_thread.reactor = self.reactor
        self.reactor.run(installSignalHandlers=False)

    def submit(self, fn: Callable[..., Any], *args: Any, **kw: Any
               ) -> concurrent.futures.Future[Any]:
        """Run ``fn`` in the reactor thread; its result (a Deferred or coroutine is
        awaited there) arrives in the returned future."""
        future: concurrent.futures.Future[Any] = concurrent.futures.Future()

        def run() -> None:
            try:
                result = fn(*args, **kw)
            except BaseException as e:  # noqa: BLE001  (handed to the caller)
                future.set_exception(e)
                return
            if inspect.iscoroutine(result):
                result = defer.Deferred.fromCoroutine(result)
            if not isinstance(result, defer.Deferred):
                future.set_result(result)
                return
            result.addCallbacks(future.set_result, lambda f: future.set_exception(f.value))

        self.reactor.callFromThread(run)
        return future

    def blocking(self, fn: Callable[..., Any], *args: Any, **kw: Any) -> Any:
        """:meth:`submit` and wait for the result (for quick calls)."""
        return self.submit(fn, *args, **kw).result(BLOCKING_TIMEOUT)

    def stop(self) -> None:
        if self.thread.is_alive():
            self.reactor.callFromThread(self.reactor.stop)
            self.thread.join(5)


_shared: ReactorThread | None = None
_shared_lock = threading.Lock()


def reactor_thread() -> ReactorThread:
    """This process's reactor thread (started on first use, stopped at exit)."""
    global _shared
    with _shared_lock:
        if _shared is None or not _shared.thread.is_alive():
            _shared = ReactorThread()
            atexit.register(_shared.stop)
        return _shared


async def _wait(future: concurrent.futures.Future[Any]) -> Any:
    """Await a future from the reactor thread on asyncio, or on trio through anyio."""
    try:
        import sniffio

        library = sniffio.current_async_library()
    except Exception:  # noqa: BLE001  (no sniffio: asyncio is all there is)
        library = "asyncio"
    if library == "asyncio":
        return await asyncio.wrap_future(future)
    import anyio.to_thread

    return await anyio.to_thread.run_sync(future.result, abandon_on_cancel=True)


class AsyncTestClient:
    """A :class:`TestClient` driven from async code; same methods, awaitable."""

    __test__ = False

    def __init__(self, thread: ReactorThread, client: TestClient) -> None:
        self._thread = thread
        self.client = client
        self.jid = client.jid

    @property
    def messages(self) -> list[Any]:
        return list(self.client.messages)

    @property
    def presences(self) -> list[Any]:
        return list(self.client.presences)

    @property
    def stream_error(self) -> str | None:
        return self.client.stream_error

    def send(self, element: Any) -> None:
        self._thread.blocking(self.client.send, element)

    def send_message(self, to: str, body: str | None = None, type: str = "chat",
                     **children: str) -> Any:
        return self._thread.blocking(self.client.send_message, to, body, type, **children)

    def send_presence(self, show: str | None = None, priority: int | None = None,
                      to: str | None = None, type: str | None = None) -> None:
        self._thread.blocking(self.client.send_presence, show, priority, to, type)

    async def iq(self, child: Any, type: str = "set", to: str | None = None,
                 timeout: float = 10) -> Any:
        return await _wait(self._thread.submit(self.client.iq, child, type, to, timeout))

    async def barrier(self, timeout: float = 10) -> Any:
        """A ping round trip: everything sent before it has been handled."""
        return await _wait(self._thread.submit(self.client.barrier, timeout))

    async def enable_push(self, node: str | None, service: str, away: bool = False,
                          publish_options: dict[str, str] | None = None) -> Any:
        return await _wait(self._thread.submit(self.client.enable_push, node, service, away,
                                               publish_options))

    async def disable_push(self, service: str, node: str | None = None) -> Any:
        return await _wait(self._thread.submit(self.client.disable_push, service, node))

    async def next_message(self, timeout: float = 5) -> Any:
        return await _wait(self._thread.submit(self.client.next_message, timeout))

    async def disconnect(self) -> None:
        await _wait(self._thread.submit(self.client.disconnect))

    async def drop(self) -> None:
        await _wait(self._thread.submit(self.client.drop))


class AsyncTestServer:
    """A started server in the reactor thread, with :class:`TestServer`'s API.

    Connection details and accounts are plain attributes and methods; whatever waits
    on the network (``login``, ``wait_for_push``, ``assert_no_push``) is a coroutine.
    """

    __test__ = False

    def __init__(self, thread: ReactorThread, test_server: TestServer) -> None:
        self._thread = thread
        self.test_server = test_server
        self.server = test_server.server
        details = thread.blocking(lambda: (test_server.port, test_server.http_url,
                                           test_server.components_port))
        self.host = test_server.host
        self.port, self.http_url, self.components_port = details
        self.domain = test_server.domain
        self.tls_certificate = test_server.tls_certificate
        self.push_jid = test_server.push_jid

    # -- accounts and clients ------------------------------------------------------------------

    def create_account(self, name: str | None = None, password: str | None = None) -> Account:
        return self._thread.blocking(self.test_server.create_account, name, password)

    def account(self, name: str, password: str) -> Account:
        return self.test_server.account(name, password)

    async def login(self, account: Account | str, resource: str = "test",
                    password: str | None = None, tls: bool = True) -> AsyncTestClient:
        client = await _wait(self._thread.submit(self.test_server.login, account, resource,
                                                 password, tls))
        return AsyncTestClient(self._thread, client)

    # -- push ----------------------------------------------------------------------------------

    def notifications(self, account: str | None = None, node: str | None = None,
                      since: int = 0) -> list[Notification]:
        return self._thread.blocking(self.test_server.notifications, account, node, since)

    async def wait_for_push(self, account: str | None = None, node: str | None = None,
                            since: int = 0, timeout: float = 5) -> Notification:
        return await _wait(self._thread.submit(self.test_server.wait_for_push, account, node,
                                               since, timeout))

    async def assert_no_push(self, account: str | None = None, node: str | None = None,
                             within: float = 0.5, since: int | None = None,
                             after: AsyncTestClient | None = None) -> None:
        """As :meth:`TestServer.assert_no_push`; ``after``: the built-in client that sent
        the message (a ping round trip on its stream instead of waiting)."""
        await _wait(self._thread.submit(self.test_server.assert_no_push, account, node,
                                        within, since, after.client if after else None))

    def fail_push(self, node: str | None, condition: str | None = "item-not-found",
                  type: str = "cancel", count: int | None = None) -> None:
        self._thread.blocking(self.test_server.fail_push, node, condition, type, count)

    def remote_disable_push(self, node: str) -> Any:
        return self._thread.blocking(self.test_server.remote_disable_push, node)

    def push_ping(self, account: str, node: str | None = None) -> int:
        return int(self._thread.blocking(self.test_server.push_ping, account, node))

    def recover_push(self, node: str | None) -> None:
        self._thread.blocking(self.test_server.recover_push, node)

    def push_decisions(self, account: str | None = None, node: str | None = None,
                       since: int = 0) -> list[Any]:
        return self._thread.blocking(self.test_server.push_decisions, account, node, since)

    async def assert_pushed_because(self, account: str, rule: str, node: str | None = None,
                                    since: int | None = None, timeout: float = 5) -> Any:
        return await _wait(self._thread.submit(self.test_server.assert_pushed_because,
                                               account, rule, node, since, timeout))

    async def assert_not_pushed_because(self, account: str, rule: str,
                                        node: str | None = None, since: int | None = None,
                                        timeout: float = 5) -> Any:
        return await _wait(self._thread.submit(self.test_server.assert_not_pushed_because,
                                               account, rule, node, since, timeout))

    async def generate_pushes(self, account: str, count: int, rate: float) -> Any:
        return await _wait(self._thread.submit(self.test_server.generate_pushes, account,
                                               count, rate))

    # network faults and the clock: TestServer's, run on the reactor thread
    def drop(self, jid: str) -> None:
        self._thread.blocking(self.test_server.drop, jid)

    def stall(self, jid: str, seconds: float) -> None:
        self._thread.blocking(self.test_server.stall, jid, seconds)

    def delay(self, jid: str, ms: float) -> None:
        self._thread.blocking(self.test_server.delay, jid, ms)

    async def pause_accepting(self, refuse: bool = False) -> None:
        await _wait(self._thread.submit(self.test_server.pause_accepting, refuse))

    async def resume_accepting(self) -> None:
        await _wait(self._thread.submit(self.test_server.resume_accepting))

    async def restart(self) -> None:
        await _wait(self._thread.submit(self.test_server.restart))

    def now(self) -> float:
        return self._thread.blocking(self.test_server.now)

    def advance(self, seconds: float) -> float:
        return self._thread.blocking(self.test_server.advance, seconds)

    # traffic capture
    def mark(self) -> int:
        return self._thread.blocking(self.test_server.mark)

    def traffic(self, jid: str | None = None, since: int = 0,
                direction: str | None = None) -> list[Any]:
        return self._thread.blocking(self.test_server.traffic, jid, since, direction)

    async def expect(self, jid: str | None, test: Any, timeout: float = 5, since: int = 0,
                     direction: str | None = "out") -> Any:
        """As :meth:`TestServer.expect` (a predicate runs in the server's thread)."""
        return await _wait(self._thread.submit(self.test_server.expect, jid, test, timeout,
                                               since, direction))

    # -- anything else ---------------------------------------------------------------------------

    async def call(self, fn: Callable[..., Any], *args: Any, **kw: Any) -> Any:
        """Run ``fn(*args, **kw)`` in the server's thread (it may return a Deferred or a
        coroutine); the way to reach ``self.server`` safely."""
        return await _wait(self._thread.submit(fn, *args, **kw))

    def stop(self) -> None:
        """Close every stream and stop listening (waits until all connections are gone)."""
        self._thread.blocking(self.server.stopService)


def start_async(**options: Any) -> AsyncTestServer:
    """A fresh server (``xmpp_server`` options) in this process's reactor thread."""
    thread = reactor_thread()
    return AsyncTestServer(thread, thread.blocking(lambda: start(thread.reactor, **options)))
