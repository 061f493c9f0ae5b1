"""The status page in a real headless Chromium: a push appears without reloading, the
stanza timeline follows the streams, and the push decisions say why."""

from __future__ import annotations

import asyncio
import shutil

import pytest

from tests.helpers import barrier, close, enable_push, login

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
CHROMEDRIVER = shutil.which("chromedriver")

pytestmark = [pytest.mark.launch, pytest.mark.skipif(
    not (CHROMIUM and CHROMEDRIVER),
    reason="Chromium and chromedriver are not installed (Debian packages chromium and "
           "chromium-driver; .ci/run installs them)")]


def browser():
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic",
                 "--no-first-run", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync",
                 "--disable-dev-shm-usage"):
        options.add_argument(flag)
    return webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)


def text_of(driver, selector: str) -> str:
    from selenium.webdriver.common.by import By

    return driver.find_element(By.CSS_SELECTOR, selector).text


async def until(driver, selector: str, needle: str, timeout: float = 15) -> str:
    """Poll the live page (no reload) until ``needle`` shows in ``selector``."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while True:
        text = await asyncio.to_thread(text_of, driver, selector)
        if needle in text:
            return text
        if loop.time() > deadline:
            raise AssertionError(f"{needle!r} never appeared in {selector}: {text!r}")
        await asyncio.sleep(0.2)


async def wait(driver, condition, what: str, timeout: float = 15):
    """Selenium's ``WebDriverWait`` (bounded, polling the live page) in a thread, so the
    server keeps running on this loop; returns what ``condition(driver)`` gave."""
    from selenium.webdriver.support.ui import WebDriverWait

    waiting = WebDriverWait(driver, timeout, poll_frequency=0.2)
    return await asyncio.to_thread(waiting.until, condition, what)


#: the timeline's entries as the page shows them, newest first
ENTRIES = """return [...document.querySelectorAll('#timeline details')].map(d => ({
  seq: +d.dataset.seq, jid: d.dataset.jid, direction: d.dataset.direction,
  marked: d.className + ' ' + d.querySelector('summary .dir').innerText,
  summary: d.querySelector('summary').innerText, xml: d.querySelector('pre').textContent,
  open: d.open}))"""

#: each table row's cells as text
ROWS = """return [...document.querySelectorAll(arguments[0] + ' tbody tr')].map(
  tr => [...tr.cells].map(c => c.innerText))"""


def entries_where(**match):
    """A wait condition: the timeline's entries once one has each of ``match``'s values
    (``text``: in its XML)."""
    def condition(driver):
        entries = driver.execute_script(ENTRIES)
        text = match.get("text", "")
        return entries if any(
            text in e["xml"] and all(e[k] == v for k, v in match.items() if k != "text")
            for e in entries) else False
    return condition


async def aio_publish(client) -> None:
    """A PEP node for the page to show."""
    import xml.etree.ElementTree as ET

    client.register_plugin("xep_0060")
    await client["xep_0060"].publish(None, "urn:example:status", id="1",
                                     payload=ET.Element("{urn:example:status}x"))


@pytest.mark.server_options(http="tcp:0")
async def test_status_page_shows_sessions_and_new_notifications_live(server) -> None:
    driver = await asyncio.to_thread(browser)
    try:
        await asyncio.to_thread(driver.get,
                                    f"http://127.0.0.1:{server.ports().http}/")
        await until(driver, "#status", "live")
        assert "minixmpp serving localhost" in await asyncio.to_thread(
            text_of, driver, "h1")
        alice = await login(server, "alice", resource="phone", show="xa")
        await until(driver, "#sessions", "alice@localhost/phone")
        await enable_push(alice, "browser-node", away=True, secret="s3")
        await until(driver, "#registrations", "browser-node")
        await aio_publish(alice)
        pep_row = await until(driver, "#pep", "urn:example:status")
        assert "alice" in pep_row and "presence" in pep_row
        await close(alice)
        bob = await login(server, "bob", resource="desk")
        bob.send_message(mto="alice@localhost", mbody="Hi from the browser test",
                         mtype="chat")
        row = await until(driver, "#notifications", "Hi from the browser test")
        assert "bob@localhost/desk" in row and "browser-node" in row
        await close(bob)
        carol = await login(server, "carol", resource="desk", plugins=("xep_0045",))
        await carol["xep_0045"].join_muc_wait("lounge@conference.localhost", "Caro",
                                                  timeout=5)
        row = await until(driver, "#rooms", "Caro")
        assert "lounge@conference.localhost" in row and "carol@localhost" in row
        await close(carol)
    finally:
        await asyncio.to_thread(driver.quit)


@pytest.mark.server_options(http="tcp:0")
async def test_status_page_timeline_and_push_decisions_update_live(server) -> None:
    from selenium.webdriver.common.by import By

    driver = await asyncio.to_thread(browser)
    try:
        await asyncio.to_thread(driver.get, f"http://127.0.0.1:{server.ports().http}/")
        await until(driver, "#status", "live")
        await asyncio.to_thread(driver.execute_script, "window.notReloaded = true")

        # A message that pushes: alice is offline with a registration.
        alice = await login(server, "alice", resource="phone")
        await enable_push(alice, "phone-node")
        await close(alice)
        bob = await login(server, "bob", resource="desk")
        bob.send_message(mto="alice@localhost", mbody="Pushed while you were away",
                         mtype="chat")
        await barrier(bob)
        # One that does not: alice is back, online and available.
        alice = await login(server, "alice", resource="laptop")
        bob.send_message(mto="alice@localhost", mbody="Delivered while you are here",
                         mtype="chat")
        await barrier(bob)

        # The timeline: bob's stanza in (from his client), the copy out to alice's.
        body = "Delivered while you are here"
        await wait(driver, entries_where(jid="bob@localhost/desk", direction="in",
                                         text=body), "bob's message in the timeline")
        entries = await wait(driver, entries_where(jid="alice@localhost/laptop",
                                                   direction="out", text=body),
                             "the message out to alice in the timeline")
        sent = next(e for e in entries if e["direction"] == "in" and body in e["xml"])
        got = next(e for e in entries if e["direction"] == "out" and body in e["xml"])
        assert sent["marked"] == "in in" and got["marked"] == "out out"
        assert body in sent["summary"] and "to alice@localhost" in sent["summary"]
        assert f"\n  <body>{body}</body>\n" in got["xml"]  # pretty-printed, indented
        assert got["xml"].startswith("<message ") and got["open"]
        assert [e["seq"] for e in entries] == sorted((e["seq"] for e in entries),
                                                     reverse=True)  # newest at the top

        # The JID filter: a bare JID shows every resource of it and nobody else's,
        # and keeps following new traffic.
        box = await asyncio.to_thread(driver.find_element, By.ID, "traffic-jid")
        await asyncio.to_thread(box.send_keys, "alice@localhost")

        def only_alice(driver):
            entries = driver.execute_script(ENTRIES)
            resources = {e["jid"] for e in entries}
            return entries if resources == {"alice@localhost/phone",
                                            "alice@localhost/laptop"} else False
        await wait(driver, only_alice, "the filter shows both of alice's resources only")
        hostile = 'After the filter <img src=x onerror="window.pwned=1"><b>not bold</b>'
        bob.send_message(mto="alice@localhost/laptop", mbody=hostile, mtype="chat")
        await barrier(bob)
        entries = await wait(driver, entries_where(direction="out", text="After the filter"),
                             "new traffic under the filter")
        assert {e["jid"] for e in entries} <= {"alice@localhost/phone",
                                               "alice@localhost/laptop"}
        assert await until(driver, "#traffic-note", "showing alice@localhost")
        # Stanza text is shown as text, never as markup (XSS).
        shown = next(e for e in entries if "After the filter" in e["xml"])
        assert "<body>After the filter &lt;img src=x onerror=\"window.pwned=1\"&gt;" \
            in shown["xml"] and '“After the filter <img src=x' in shown["summary"]
        assert await asyncio.to_thread(driver.execute_script, """return window.pwned ===
            undefined && !document.querySelector('#timeline img, #timeline b')""")

        # An entry folds and unfolds.
        seq = next(e["seq"] for e in entries if "After the filter" in e["xml"])
        summary = await asyncio.to_thread(
            driver.find_element, By.CSS_SELECTOR, f'#timeline details[data-seq="{seq}"] summary')
        pre = await asyncio.to_thread(
            driver.find_element, By.CSS_SELECTOR, f'#timeline details[data-seq="{seq}"] pre')
        assert await asyncio.to_thread(pre.is_displayed)
        await asyncio.to_thread(summary.click)
        await wait(driver, lambda _: not pre.is_displayed(), "the entry folds")
        await asyncio.to_thread(summary.click)
        await wait(driver, lambda _: pre.is_displayed(), "the entry unfolds")

        # The decisions: why one pushed and the other did not, and the pushed one beside
        # its notification.
        await until(driver, "#decisions", "online")
        rows = await asyncio.to_thread(driver.execute_script, ROWS, "#decisions")
        by_rule = {row[5]: row for row in rows}
        pushed, not_pushed = by_rule["offline"], by_rule["online"]
        assert pushed[1] == "alice" and pushed[3] == "phone-node" and pushed[4] == "yes"
        assert not_pushed[1] == "alice" and not_pushed[4] == "no"
        assert pushed[6] and not_pushed[6]  # the detail
        assert pushed[7] and pushed[7] == not_pushed[7]  # the profile
        assert await asyncio.to_thread(driver.find_elements, By.CSS_SELECTOR,
                                       "#decisions .yes")
        assert await asyncio.to_thread(driver.find_elements, By.CSS_SELECTOR,
                                       "#decisions .no")
        notification = await until(driver, "#notifications", "Pushed while you were away")
        assert "offline " + pushed[6] in notification

        assert await asyncio.to_thread(driver.execute_script,
                                       "return window.notReloaded === true")
        await close(alice, bob)
    finally:
        await asyncio.to_thread(driver.quit)


@pytest.mark.server_options(http="tcp:0", traffic=0)
async def test_status_page_says_when_traffic_capture_is_off(server) -> None:
    driver = await asyncio.to_thread(browser)
    try:
        await asyncio.to_thread(driver.get, f"http://127.0.0.1:{server.ports().http}/")
        await until(driver, "#traffic-note", "traffic capture is off")
        await until(driver, "#status", "live")
    finally:
        await asyncio.to_thread(driver.quit)


@pytest.mark.server_options(http="tcp:0")
async def test_status_page_runs_no_script_it_did_not_ship(server) -> None:
    """Its Content-Security-Policy allows its own inline script by hash: the page runs,
    and an inline handler that reached the DOM some other way is refused."""
    driver = await asyncio.to_thread(browser)
    try:
        await asyncio.to_thread(driver.get, f"http://127.0.0.1:{server.ports().http}/")
        await until(driver, "#status", "live")
        await asyncio.to_thread(driver.execute_script, """
            window.refused = [];
            document.addEventListener("securitypolicyviolation",
                                      e => window.refused.push(e.effectiveDirective));
            const img = document.createElement("img");
            img.setAttribute("onerror", "window.injected = true");
            img.src = "x";
            document.body.append(img);""")
        await wait(driver, lambda d: d.execute_script(
            "return window.refused.includes('script-src-attr')"), "the handler is refused")
        assert await asyncio.to_thread(driver.execute_script,
                                       "return window.injected === undefined")
    finally:
        await asyncio.to_thread(driver.quit)
