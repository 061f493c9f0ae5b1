"""The status page in a real headless Chromium: a push appears without reloading."""

from __future__ import annotations

import asyncio
import shutil

import pytest

from tests.helpers import close, enable_push, login

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
