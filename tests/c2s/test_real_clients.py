"""Clients nobody here wrote, driven as their users do: aioxmpp, and Debian's go-sendxmpp (Go's
crypto/tls, which offers ALPN), send and listen over STARTTLS and Direct TLS. A test
skips when its client is not installed (``.ci/run`` installs go-sendxmpp)."""

from __future__ import annotations

import asyncio
import os
import shutil
import signal

import pytest
from twisted.words.protocols.jabber.jid import JID

from minixmpp.c2s.tls import self_signed
from tests.helpers import TESTS, close, login

GO_SENDXMPP = shutil.which("go-sendxmpp")
needs_go_sendxmpp = pytest.mark.skipif(
    GO_SENDXMPP is None, reason="go-sendxmpp is not installed (Debian: apt-get install "
                                "go-sendxmpp; .ci/run does it)")


async def go_sendxmpp(*args: str, stdin: bytes = b"", env: dict | None = None,
                      timeout: float = 20) -> tuple[int, str]:
    proc = await asyncio.create_subprocess_exec(
        GO_SENDXMPP, *args, stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT, env={**os.environ, "HOME": "/nonexistent",
                                               **(env or {})})
    out, _ = await asyncio.wait_for(proc.communicate(stdin), timeout)
    return proc.returncode, out.decode(errors="replace")


def account(server, user: str, port: int | None = None) -> list[str]:
    return ["-u", f"{user}@localhost", "-p", user, "-j", f"127.0.0.1:{port or server.port}"]


@needs_go_sendxmpp
@pytest.mark.parametrize("direct", [False, True], ids=["starttls", "direct-tls"])
async def test_go_sendxmpp_sends_without_verification(server, direct) -> None:
    bob = await login(server, "bob")
    try:
        args = ["-t"] if direct else []
        port = server.ports().c2s_tls if direct else server.port
        rc, out = await go_sendxmpp(*account(server, "alice", port), *args, "-n",
                                        "bob@localhost", stdin=b"hello from go\n")
        assert rc == 0, out
        message = await bob.next_message(timeout=10)
        assert message["body"].strip() == "hello from go"
        assert message["from"].bare == "alice@localhost"
    finally:
        await close(bob)


@pytest.fixture
def cert_files(tmp_path):
    cert, key = self_signed("localhost")
    (tmp_path / "cert.pem").write_bytes(cert)
    (tmp_path / "key.pem").write_bytes(key)
    return tmp_path / "cert.pem", tmp_path / "key.pem"


@needs_go_sendxmpp
async def test_go_sendxmpp_verifies_the_tls_cert_given_to_the_server(server_factory,
                                                                     cert_files) -> None:
    cert, key = cert_files
    server = server_factory(tls_cert=str(cert), tls_key=str(key))
    bob = await login(server, "bob")
    try:
        rc, out = await go_sendxmpp(*account(server, "alice"), "bob@localhost",
                                        stdin=b"verified\n", env={"SSL_CERT_FILE": str(cert)})
        assert rc == 0, out
        assert (await bob.next_message(timeout=10))["body"].strip() == "verified"
        # positive control: without trusting the certificate, verification fails
        rc, out = await go_sendxmpp(*account(server, "alice"), "bob@localhost",
                                        stdin=b"unverified\n",
                                        env={"SSL_CERT_FILE": "/nonexistent.pem"})
        assert rc != 0 and "certificate" in out, out
    finally:
        await close(bob)


@needs_go_sendxmpp
async def test_go_sendxmpp_listens_and_prints_what_arrives(server) -> None:
    proc = await asyncio.create_subprocess_exec(
        GO_SENDXMPP, *account(server, "bob"), "-n", "-l", stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT, env={**os.environ, "HOME": "/nonexistent"})
    alice = await login(server, "alice")
    try:
        from tests.helpers import eventually

        await eventually(lambda: any(s.jid.user == "bob" and s.available
                                         for s in server.sessions), timeout=10)
        alice.send_message(mto="bob@localhost", mbody="are you listening?", mtype="chat")
        line = await asyncio.wait_for(proc.stdout.readline(), 10)
        assert b"are you listening?" in line and b"alice@localhost" in line, line
    finally:
        proc.send_signal(signal.SIGTERM)
        await asyncio.wait_for(proc.wait(), 10)
        await close(alice)


try:
    import aioxmpp
    import aioxmpp.connector
    import aioxmpp.dispatcher
except ImportError:  # pragma: no cover  (it is a test dependency)
    aioxmpp = None


@pytest.mark.skipif(aioxmpp is None, reason="aioxmpp is not installed (pip install -e "
                                            "'.[test]' installs it)")
@pytest.mark.parametrize("direct", [False, True], ids=["starttls", "direct-tls"])
async def test_aioxmpp_logs_in_and_chats(server, direct) -> None:
    me = aioxmpp.JID.fromstr("alice@localhost/aioxmpp")
    connector = (aioxmpp.connector.XMPPOverTLSConnector() if direct
                 else aioxmpp.connector.STARTTLSConnector())
    port = server.ports().c2s_tls if direct else server.port
    client = aioxmpp.PresenceManagedClient(
        me, aioxmpp.make_security_layer("alice", no_verify=True),
        override_peer=[("127.0.0.1", port, connector)])
    bob = await login(server, "bob")
    got: asyncio.Future = asyncio.get_event_loop().create_future()

    async def session() -> None:
        async with client.connected():
            dispatcher = client.summon(aioxmpp.dispatcher.SimpleMessageDispatcher)
            dispatcher.register_callback(aioxmpp.MessageType.CHAT, None,
                                         lambda m: got.done() or got.set_result(m))
            message = aioxmpp.Message(to=aioxmpp.JID.fromstr("bob@localhost"),
                                      type_=aioxmpp.MessageType.CHAT)
            message.body[None] = "from aioxmpp"
            await client.send(message)
            received = await bob.next_message(timeout=10)
            assert received["body"] == "from aioxmpp"
            assert received["from"].full == "alice@localhost/aioxmpp"
            bob.send_message(mto="alice@localhost/aioxmpp", mbody="to aioxmpp", mtype="chat")
            reply = await asyncio.wait_for(got, 10)
            assert list(reply.body.values()) == ["to aioxmpp"]

    try:
        await asyncio.wait_for(session(), 30)
        assert server.sessions.get(JID("alice@localhost/aioxmpp")) is None  # closed cleanly
    finally:
        await close(bob)


XMPPJS = TESTS / "clients" / "xmppjs"
NODE = shutil.which("node")


@pytest.mark.skipif(NODE is None or not (XMPPJS / "node_modules" / "@xmpp" / "client").exists(),
                    reason="needs node and @xmpp/client (.ci/run runs npm install --prefix "
                           "tests/clients/xmppjs)")
async def test_xmppjs_client_logs_in_over_sasl2_and_bind2_and_chats(server, tmp_path) -> None:
    cert = tmp_path / "ca.pem"
    cert.write_bytes(server.tls.cert_pem)
    bob = await login(server, "bob")
    proc = await asyncio.create_subprocess_exec(
        NODE, str(XMPPJS / "chat.mjs"), str(server.port), "alice", "alice", "bob@localhost",
        "hello from node", stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT,
        env={**os.environ, "NODE_EXTRA_CA_CERTS": str(cert)}, cwd=str(XMPPJS))
    try:
        try:
            message = await bob.next_message(timeout=20)
        except TimeoutError:
            proc.kill()
            out, _ = await proc.communicate()
            raise AssertionError(f"no message from the node client in 20 s; it said: "
                                 f"{out.decode(errors='replace')[-2000:]!r}") from None
        assert message["body"] == "hello from node"
        sender = message["from"]
        # a Bind2 resource: the client's tag, then the server's random part (XEP-0386 §3)
        assert sender.bare == "alice@localhost" and sender.resource.startswith("node.")
        session = server.sessions.get(JID(sender.full))
        assert session is not None and session.tls
        bob.send_message(mto=sender.full, mbody="hello node", mtype="chat")
        out, _ = await asyncio.wait_for(proc.communicate(), 20)
        assert proc.returncode == 0, out
        assert b"RECEIVED bob@localhost/test hello node" in out, out
    finally:
        if proc.returncode is None:
            proc.kill()
            await proc.wait()
        await close(bob)


PROFANITY, TMUX = shutil.which("profanity"), shutil.which("tmux")


async def tmux(*args: str) -> str:
    proc = await asyncio.create_subprocess_exec(TMUX, *args, stdout=asyncio.subprocess.PIPE,
                                                stderr=asyncio.subprocess.STDOUT)
    out, _ = await asyncio.wait_for(proc.communicate(), 10)
    return out.decode(errors="replace")


async def screen_shows(session: str, text: str, timeout: float = 15) -> str:
    """Poll the tmux pane (bounded) until ``text`` is on the screen."""
    loop = asyncio.get_event_loop()
    deadline = loop.time() + timeout
    while True:
        screen = await tmux("capture-pane", "-p", "-t", session)
        if text in screen or loop.time() > deadline:
            return screen
        await asyncio.sleep(0.2)


@pytest.mark.skipif(PROFANITY is None or TMUX is None,
                    reason="needs profanity and tmux (Debian: apt-get install profanity tmux)")
async def test_profanity_through_tmux_logs_in_and_chats(server, tmp_path) -> None:
    name = f"minixmpp-test-{os.getpid()}-{server.port}"
    await tmux("new-session", "-d", "-s", name, "-x", "160", "-y", "40",
                   f"env HOME={tmp_path} TERM=xterm-256color {PROFANITY}")
    bob = await login(server, "bob")
    try:
        await screen_shows(name, "/connect")
        await tmux("send-keys", "-t", name,
                       f"/connect alice@localhost server 127.0.0.1 port {server.port} tls trust",
                       "Enter")
        assert "Enter password" in await screen_shows(name, "Enter password")
        await tmux("send-keys", "-t", name, "alice", "Enter")
        screen = await screen_shows(name, "logged in successfully")
        assert "logged in successfully" in screen, screen
        alice = next(s for s in server.sessions if s.user == "alice")
        assert alice.tls
        await tmux("send-keys", "-t", name, "/msg bob@localhost hello from profanity",
                       "Enter")
        message = await bob.next_message(timeout=15)
        assert message["body"] == "hello from profanity"
        bob.send_message(mto=alice.jid.full(), mbody="hello profanity", mtype="chat")
        screen = await screen_shows(name, "hello profanity")
        assert "hello profanity" in screen, screen
    finally:
        await tmux("kill-session", "-t", name)
        await close(bob)
