"""A real web client: xmpp.js (``tests/assets/web/xmpp.min.js``) in headless Chromium, on a
page this test serves, logs in over WebSocket, talks to a slixmpp client, enables push
with away='true', goes away, and the in-process App Server records the notification.

The same steps also run with the same xmpp.js bundle under Node (``--experimental-
websocket``), so the web path is exercised where Chromium is not installed."""

from __future__ import annotations

import asyncio
import json
import shutil
import subprocess
from typing import Any

import pytest
from twisted.internet import defer

from tests.helpers import ROOT, TESTS, close, future, login, wait_push

WEB = TESTS / "assets" / "web"
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
CHROMEDRIVER = shutil.which("chromedriver")
NODE = shutil.which("node")


def serve_page(reactor: Any) -> Any:
    """tests/assets/web/ on a free loopback port: a page from another origin than minixmpp."""
    from twisted.web import server, static

    site = server.Site(static.File(str(WEB)))
    site.noisy = False
    return reactor.listenTCP(0, site, interface="127.0.0.1")


def browser() -> Any:
    from tests.web.test_status_page import browser as chromium

    return chromium()


async def page_state(driver: Any) -> dict[str, Any]:
    return await asyncio.to_thread(driver.execute_script, "return window.state")


async def page_until(driver: Any, check: Any, timeout: float = 15) -> dict[str, Any]:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while True:
        state = await page_state(driver)
        if state and check(state):
            return state
        if loop.time() > deadline:
            raise AssertionError(f"the page never got there: {state}")
        await asyncio.sleep(0.1)


async def page_do(driver: Any, action: str, *args: str) -> None:
    script = (f"const done = arguments[arguments.length - 1];"
              f"window.actions.{action}(...{json.dumps(list(args))})"
              ".then(() => done(null), (e) => done(String(e)));")
    problem = await asyncio.to_thread(driver.execute_async_script, script)
    assert problem is None, problem


@pytest.mark.skipif(not (CHROMIUM and CHROMEDRIVER), reason=(
    "Chromium and chromedriver are not installed (Debian packages chromium and "
    "chromium-driver; .ci/run installs them)"))
async def test_xmppjs_in_chromium_logs_in_over_websocket_chats_and_gets_pushed(
        server) -> None:
    from twisted.internet import reactor

    port = serve_page(reactor)
    driver = await asyncio.to_thread(browser)
    try:
        await asyncio.to_thread(driver.set_script_timeout, 15)
        service = f"ws://127.0.0.1:{server.ports().http}/xmpp-websocket"
        url = (f"http://127.0.0.1:{port.getHost().port}/client.html?service={service}"
               "&user=alice&password=alice")
        await asyncio.to_thread(driver.get, url)
        state = await page_until(driver, lambda s: s["status"] in ("online", "failed"))
        assert state["status"] == "online", state["errors"]
        # Bind2 (XEP-0386 §4) makes the resource from the client's tag plus a unique part
        address = state["address"]
        assert address.startswith("alice@localhost/browser"), address
        bob = await login(server, "bob")
        await page_do(driver, "say", "bob@localhost", "hello from Chromium")
        got = await bob.next_message()
        assert got["body"] == "hello from Chromium"
        assert got["from"].full == address
        bob.send_message(mto=address, mbody="hello, browser", mtype="chat")
        await page_until(driver, lambda s: any(m["body"] == "hello, browser"
                                                   for m in s["messages"]))
        await page_do(driver, "away")
        # the enable IQ's round trip on the page's stream: the away presence is in
        await page_do(driver, "enablePush", "push.localhost", "chromium-node")
        bob.send_message(mto="alice@localhost", mbody="while you are away", mtype="chat")
        n = await wait_push(server, account="alice", timeout=10)
        assert n.node == "chromium-node"
        assert n.fields["last-message-body"] == "while you are away"
        await close(bob)
    finally:
        await asyncio.to_thread(driver.quit)
        await future(defer.maybeDeferred(port.stopListening))


NODE_HARNESS = r"""
const vm = require("vm");
const fs = require("fs");
vm.runInThisContext(fs.readFileSync(process.argv[2], "utf8"));
const { client, xml } = globalThis.XMPP;
const say = (o) => process.stdout.write(JSON.stringify(o) + "\n");
const xmpp = client({ service: process.argv[3], domain: "localhost", resource: "node",
                      username: "alice", password: "alice" });
xmpp.on("error", (e) => say({ error: String(e) }));
xmpp.on("stanza", async (s) => {
  if (s.is("message") && s.getChildText("body") === "hello, node") {
    await xmpp.send(xml("presence", {}, xml("show", {}, "away")));
    await xmpp.iqCaller.request(xml("iq", { type: "set" },
      xml("enable", { xmlns: "urn:xmpp:push:0", jid: "push.localhost", node: "node-node",
                      away: "true" })));
    say({ away: true });
  }
});
xmpp.on("online", async (address) => {
  await xmpp.send(xml("presence"));
  say({ online: address.toString() });
  await xmpp.send(xml("message", { to: "bob@localhost", type: "chat" },
                      xml("body", {}, "hello from node")));
});
xmpp.start().catch((e) => { say({ error: String(e) }); process.exit(1); });
setTimeout(() => process.exit(0), 20000);
"""


def node_has_websocket() -> bool:
    if not NODE:
        return False
    probe = subprocess.run([NODE, "--experimental-websocket", "-e",
                            "process.exit(typeof WebSocket === 'function' ? 0 : 1)"],
                           capture_output=True, timeout=30)
    return probe.returncode == 0


@pytest.mark.skipif(not node_has_websocket(),
                    reason="Node.js with a WebSocket global (20.10+) is not installed")
async def test_xmppjs_in_node_logs_in_over_websocket_chats_and_gets_pushed(
        server, tmp_path) -> None:
    harness = tmp_path / "harness.cjs"
    harness.write_text(NODE_HARNESS)
    service = f"ws://127.0.0.1:{server.ports().http}/xmpp-websocket"
    bob = await login(server, "bob")
    proc = await asyncio.create_subprocess_exec(
        NODE, "--experimental-websocket", "--no-warnings", str(harness),
        str(WEB / "xmpp.min.js"), service, stdout=asyncio.subprocess.PIPE)

    async def line() -> dict[str, Any]:
        text = await asyncio.wait_for(proc.stdout.readline(), 15)
        assert text, "node exited"
        return json.loads(text)

    try:
        address = (await line())["online"]  # Bind2: the tag plus a unique part
        assert address.startswith("alice@localhost/node"), address
        got = await bob.next_message()
        assert got["body"] == "hello from node"
        bob.send_message(mto=address, mbody="hello, node", mtype="chat")
        assert await line() == {"away": True}
        bob.send_message(mto="alice@localhost", mbody="while node is away", mtype="chat")
        n = await wait_push(server, account="alice", timeout=10)
        assert n.node == "node-node" and n.fields["last-message-body"] == "while node is away"
    finally:
        proc.kill()
        await proc.wait()
        await close(bob)


@pytest.mark.skipif(not (CHROMIUM and CHROMEDRIVER), reason=(
    "Chromium and chromedriver are not installed (Debian packages chromium and "
    "chromium-driver; .ci/run installs them)"))
async def test_readme_web_client_snippet_works_in_chromium(server, tmp_path) -> None:
    """The README's copy-paste page, with the CDN script swapped for the vendored copy
    of the same release and the port for this server's."""
    import re

    from twisted.internet import reactor
    from twisted.web import server as web_server
    from twisted.web import static

    readme = (ROOT / "README.md").read_text()
    section = readme[readme.index("## Connect a web client"):]
    html = re.search(r"```html\n(.*?)```", section, re.S).group(1)
    assert "https://unpkg.com/@xmpp/client@0.14.0/dist/xmpp.min.js" in html
    html = html.replace("https://unpkg.com/@xmpp/client@0.14.0/dist/xmpp.min.js",
                        "xmpp.min.js")
    html = html.replace("ws://127.0.0.1:5280/",
                        f"ws://127.0.0.1:{server.ports().http}/")
    (tmp_path / "index.html").write_text(html)
    (tmp_path / "xmpp.min.js").write_bytes((WEB / "xmpp.min.js").read_bytes())
    site = web_server.Site(static.File(str(tmp_path)))
    port = reactor.listenTCP(0, site, interface="127.0.0.1")
    bob = await login(server, "bob")
    driver = await asyncio.to_thread(browser)
    try:
        await asyncio.to_thread(driver.get,
                                    f"http://127.0.0.1:{port.getHost().port}/index.html")
        got = await bob.next_message(timeout=15)
        assert got["body"] == "Hi Bob" and got["from"].bare == "alice@localhost"
        log = await asyncio.to_thread(
            driver.execute_script, "return document.getElementById('log').textContent")
        assert "online as alice@localhost/" in log
    finally:
        await asyncio.to_thread(driver.quit)
        await future(defer.maybeDeferred(port.stopListening))
        await close(bob)
