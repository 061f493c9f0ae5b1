"""DNS rebinding and cross-site requests against the HTTP listener (``web/guard.py``),
over real HTTP with the Host and Origin a browser would send; and in Chromium itself."""

from __future__ import annotations

import asyncio
import http.client
import json
import shutil
import socket
from typing import Any

import pytest

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
CHROMEDRIVER = shutil.which("chromedriver")

ACCOUNT = json.dumps({"name": "mallory", "password": "pw"}).encode()
JSON = {"Content-Type": "application/json"}
#: what a cross-site form with enctype multipart/form-data posts
MULTIPART = (b'--x\r\nContent-Disposition: form-data; name="name"\r\n\r\nmallory\r\n'
             b"--x--\r\n")


def _exchange(address: str, port: int, method: str, path: str, host: str | None,
              headers: dict[str, str], body: bytes | None) -> tuple[int, Any]:
    connection = http.client.HTTPConnection(address, port, timeout=30)
    try:
        connection.putrequest(method, path, skip_host=True, skip_accept_encoding=True)
        connection.putheader("Host", host if host is not None else f"{address}:{port}")
        for name, value in headers.items():
            connection.putheader(name, value)
        if body is not None:
            connection.putheader("Content-Length", str(len(body)))
        connection.endheaders(body)
        response = connection.getresponse()
        text = response.read()
        try:
            return response.status, json.loads(text) if text.strip() else None
        except ValueError:
            return response.status, text
    finally:
        connection.close()


async def send(server: Any, method: str, path: str, host: str | None = None,
               body: bytes | None = None, address: str = "127.0.0.1",
               **headers: str) -> tuple[int, Any]:
    """One request with exactly this Host (default: the address and port) and headers
    (``Content_Type="..."`` → ``Content-Type``); (status, JSON or bytes)."""
    return await asyncio.to_thread(
        _exchange, address, server.ports().http, method, path, host,
        {k.replace("_", "-"): v for k, v in headers.items()}, body)


def refused(answer: tuple[int, Any], status: int = 403) -> bool:
    code, body = answer
    return code == status and isinstance(body, dict) and bool(body["error"])


# -- Host: every path ---------------------------------------------------------------------


@pytest.mark.server_options(http="tcp:0")
async def test_a_host_that_names_another_server_is_refused_on_every_path(server) -> None:
    for path in ("/api/state", "/api/uploads", "/api/accounts", "/", "/status",
                 "/.well-known/host-meta", "/upload/slot/file.txt", "/xmpp-websocket",
                 "/http-bind"):
        assert refused(await send(server, "GET", path, host="evil.example")), path
        assert refused(await send(server, "GET", path, host="evil.example:80")), path
    status, body = await send(server, "GET", "/api/state", host="evil.example")
    assert "--http-host" in body["error"] and "accounts" not in body
    assert refused(await send(server, "POST", "/api/accounts", host="evil.example",
                              body=ACCOUNT, **JSON))
    assert not server.accounts.exists("mallory")
    assert refused(await send(server, "GET", "/api/state", host="localhost.evil.example"))
    assert refused(await send(server, "GET", "/api/state", host="0.0.0.0"))
    assert refused(await send(server, "GET", "/api/state", host="[localhost]"), 400)


@pytest.mark.server_options(http="tcp:0")
async def test_loopback_names_and_addresses_are_the_listener_with_or_without_port(
        server) -> None:
    port = server.ports().http
    for host in (f"localhost:{port}", "localhost", f"LOCALHOST:{port}",
                 f"127.0.0.1:{port}", "127.0.0.1", "127.0.0.2", f"[::1]:{port}", "[::1]"):
        for path in ("/api/state", "/api/uploads", "/"):
            status, _ = await send(server, "GET", path, host=host)
            assert status == 200, (host, path, status)
    status, state = await send(server, "GET", "/api/state", host=f"localhost:{port}")
    assert state["domain"] == "localhost"


@pytest.mark.server_options(http="tcp:0", domain="example.net", user=("alice:alice",),
                            http_host=("example.test", "[2001:db8::5]"),
                            http_url="https://xmpp.example.org:8443/")
async def test_the_domain_http_url_and_http_host_name_the_listener(server) -> None:
    for host in ("example.test", "example.test:5280", "EXAMPLE.TEST", "example.net:1",
                 "xmpp.example.org:8443", "[2001:db8::5]:80", "localhost"):
        assert (await send(server, "GET", "/api/state", host=host))[0] == 200, host
    for host in ("other.test", "test", "www.example.net", "[2001:db8::6]"):
        assert refused(await send(server, "GET", "/api/state", host=host)), host


def _non_loopback_address() -> str | None:
    """This machine's address towards the outside (no packet is sent), if it has one."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        try:
            probe.connect(("192.0.2.1", 9))
        except OSError:
            return None
        address = probe.getsockname()[0]
    return None if address.startswith("127.") or address == "0.0.0.0" else address


ADDRESS = _non_loopback_address()


@pytest.mark.skipif(ADDRESS is None, reason="no non-loopback IPv4 address here")
async def test_the_address_a_connection_came_in_on_names_the_listener(server_factory) -> None:
    assert ADDRESS is not None
    server = server_factory(http=f"tcp:0:interface={ADDRESS}")
    port = server.ports().http
    status, _ = await send(server, "GET", "/api/state", address=ADDRESS,
                           host=f"{ADDRESS}:{port}")
    assert status == 200
    assert refused(await send(server, "GET", "/api/state", address=ADDRESS,
                              host="192.0.2.254"))


# -- Origin and Content-Type: state changes through the API ---------------------------------


@pytest.mark.server_options(http="tcp:0")
async def test_a_cross_site_simple_post_creates_no_account(server) -> None:
    for ctype in ("text/plain", "text/plain;charset=UTF-8", "application/json",
                  "application/x-www-form-urlencoded"):
        answer = await send(server, "POST", "/api/accounts", body=ACCOUNT,
                            Origin="http://evil.example", Content_Type=ctype)
        assert refused(answer), (ctype, answer)
    assert refused(await send(server, "POST", "/api/accounts", body=MULTIPART,
                              Origin="http://evil.example",
                              Content_Type="multipart/form-data; boundary=x"))
    assert refused(await send(server, "POST", "/api/reset", Origin="http://evil.example"))
    assert refused(await send(server, "POST", "/api/reset", Origin="null"))
    port = server.ports().http
    # another loopback origin is another site too (a page on another local port)
    assert refused(await send(server, "POST", "/api/accounts", body=ACCOUNT,
                              Origin=f"http://localhost:{port}", **JSON))
    assert refused(await send(server, "DELETE", "/api/accounts/alice",
                              Origin="http://127.0.0.1:8000"))
    assert not server.accounts.exists("mallory") and server.accounts.exists("alice")


@pytest.mark.server_options(http="tcp:0")
async def test_json_without_origin_and_from_the_pages_own_origin_is_accepted(
        server, test_server) -> None:
    port = server.ports().http
    status, body = await send(server, "POST", "/api/accounts", body=ACCOUNT, **JSON)
    assert status == 201 and body["jid"] == "mallory@localhost"
    loop = asyncio.get_running_loop()
    client = await test_server.login("mallory", password="pw").asFuture(loop)  # XMPP
    await client.disconnect().asFuture(loop)
    for host in (f"127.0.0.1:{port}", f"localhost:{port}"):  # what the status page sends
        answer = await send(server, "PUT", "/api/accounts/mallory/password", host=host,
                            body=b'{"password": "new"}', Origin=f"http://{host}",
                            Content_Type="application/json; charset=utf-8")
        assert answer[0] == 200, answer
    assert (await send(server, "POST", "/api/reset", Origin=f"http://127.0.0.1:{port}"))[
        0] == 200
    assert not server.accounts.exists("mallory")


@pytest.mark.server_options(http="tcp:0")
async def test_content_type_must_be_json_except_tool_defaults_without_origin(server) -> None:
    for ctype, body in (("text/plain", ACCOUNT), ("text/xml", ACCOUNT),
                        ("multipart/form-data; boundary=x", MULTIPART)):
        answer = await send(server, "POST", "/api/accounts", body=body, Content_Type=ctype)
        assert refused(answer, 415) and "application/json" in answer[1]["error"], ctype
    assert not server.accounts.exists("mallory")
    # an empty cross-site form post: it carries a type (forms always do)
    assert refused(await send(server, "POST", "/api/reset",
                              Content_Type="application/x-www-form-urlencoded"), 415)
    assert refused(await send(server, "POST", "/api/reset", Content_Type="text/plain"), 415)
    # what curl -d and urllib send, and a body-less POST without a type
    status, _ = await send(server, "POST", "/api/accounts", body=ACCOUNT,
                           Content_Type="application/x-www-form-urlencoded")
    assert status == 201
    assert (await send(server, "POST", "/api/accounts", body=b'{"name": "m2", '
                       b'"password": "pw"}'))[0] == 201
    assert (await send(server, "POST", "/api/reset"))[0] == 200
    assert (await send(server, "DELETE", "/api/push/notifications"))[0] == 204
    # reads are not state changes: no rule on them
    assert (await send(server, "GET", "/api/state", Origin="http://evil.example",
                       Content_Type="text/plain"))[0] == 200


@pytest.mark.server_options(http="tcp:0", http_origins=("http://app.example:8000",))
async def test_an_http_origins_origin_may_change_state_with_json_only(server) -> None:
    app = "http://app.example:8000"
    status, _ = await send(server, "POST", "/api/accounts", body=ACCOUNT, Origin=app, **JSON)
    assert status == 201
    assert refused(await send(server, "PUT", "/api/accounts/mallory/password",
                              body=b'{"password": "x"}', Origin=app,
                              Content_Type="text/plain"), 415)
    # a simple (body-less, typeless) POST from there would skip the CORS preflight
    assert refused(await send(server, "POST", "/api/reset", Origin=app), 415)
    assert (await send(server, "POST", "/api/reset", Origin=app, **JSON))[0] == 200
    assert refused(await send(server, "POST", "/api/reset", Origin="http://evil.example",
                              **JSON))


@pytest.mark.server_options(http="tcp:0", http_origins=("*",))
async def test_a_wildcard_http_origins_lets_no_site_change_state(server) -> None:
    assert refused(await send(server, "POST", "/api/accounts", body=ACCOUNT,
                              Origin="http://evil.example", **JSON))
    assert not server.accounts.exists("mallory")


@pytest.mark.server_options(http="tcp:0", http_token="t0ken")
async def test_the_token_is_still_required_after_host_and_origin(server) -> None:
    assert (await send(server, "POST", "/api/accounts", body=ACCOUNT, **JSON))[0] == 401
    assert refused(await send(server, "POST", "/api/accounts", body=ACCOUNT,
                              host="evil.example", Authorization="Bearer t0ken", **JSON))
    assert refused(await send(server, "POST", "/api/accounts", body=ACCOUNT,
                              Origin="http://evil.example", Authorization="Bearer t0ken",
                              **JSON))
    assert (await send(server, "POST", "/api/accounts", body=ACCOUNT,
                       Authorization="Bearer t0ken", **JSON))[0] == 201


# -- in a real browser ----------------------------------------------------------------------


def chromium(*flags: str) -> Any:
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic",
                 "--no-first-run", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync",
                 "--disable-dev-shm-usage", *flags):
        options.add_argument(flag)
    return webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)


async def page_text(driver: Any, needle: str, timeout: float = 15) -> str:
    from selenium.webdriver.common.by import By

    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while True:
        text = await asyncio.to_thread(
            lambda: driver.find_element(By.TAG_NAME, "body").text)
        if needle in text:
            return text
        if loop.time() > deadline:
            raise AssertionError(f"{needle!r} never appeared: {text!r}")
        await asyncio.sleep(0.2)


FETCH = """const done = arguments[arguments.length - 1];
fetch(arguments[0], {method: "POST", mode: "no-cors", body: arguments[1]})
  .then(() => done("sent"), (e) => done("failed: " + e));"""

FORM = """const form = document.createElement("form");
form.method = "POST"; form.enctype = "text/plain"; form.action = arguments[0];
const field = document.createElement("input");
field.name = '{"name": "formed", "password": "pw", "x": "'; field.value = '"}';
form.appendChild(field); document.body.appendChild(form); form.submit();"""


@pytest.mark.launch
@pytest.mark.skipif(not (CHROMIUM and CHROMEDRIVER), reason=(
    "Chromium and chromedriver are not installed (Debian packages chromium and "
    "chromium-driver; .ci/run installs them)"))
@pytest.mark.server_options(http="tcp:0")
async def test_in_chromium_localhost_works_rebinding_and_cross_site_posts_do_not(
        server) -> None:
    from twisted.web import resource, static
    from twisted.web import server as web

    page = resource.Resource()
    page.putChild(b"", static.Data(b"<!doctype html><title>elsewhere</title><p>a page "
                                   b"from another site", "text/html"))
    attacker = web.Site(page)
    attacker.noisy = False
    elsewhere = server.reactor.listenTCP(0, attacker, interface="127.0.0.1")
    port = server.ports().http
    # evil.example resolves to loopback, as after DNS rebinding
    driver = await asyncio.to_thread(
        chromium, "--host-resolver-rules=MAP evil.example 127.0.0.1")
    try:
        await asyncio.to_thread(driver.get, f"http://localhost:{port}/")
        await page_text(driver, "live")
        await asyncio.to_thread(driver.get, f"http://evil.example:{port}/api/accounts")
        text = await page_text(driver, "does not name this server")
        assert "alice" not in text
        await asyncio.to_thread(
            driver.get, f"http://evil.example:{elsewhere.getHost().port}/")
        await page_text(driver, "another site")
        api = f"http://127.0.0.1:{port}/api/accounts"
        sent = await asyncio.to_thread(driver.execute_async_script, FETCH, api,
                                       '{"name": "fetched", "password": "pw"}')
        assert sent == "sent"
        await asyncio.to_thread(driver.execute_script, FORM, api)
        await page_text(driver, "may not change this server")
        assert not server.accounts.exists("fetched")
        assert not server.accounts.exists("formed")
    finally:
        await asyncio.to_thread(driver.quit)
        await elsewhere.stopListening().asFuture(asyncio.get_running_loop())
