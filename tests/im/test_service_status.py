"""Service Outage Status (XEP-0455): the server advertises (in its disco#info, FORM_TYPE
``urn:xmpp:sos:0``) a status document of its own on the HTTP listener, which says there is
no outage until the control API declares one; ``--outage-status-address`` advertises other
addresses instead. slixmpp's ``xep_0455`` plugin is the client, as in slixmpp's own
``itests/test_sos.py``."""

from __future__ import annotations

import asyncio
import urllib.error
import urllib.request

import pytest

from tests.helpers import close, http, login

SOS = "urn:xmpp:sos:0"
OUTAGE = {"planned": True, "beginning": "2031-01-12T01:01:01Z",
          "expected_end": "2031-01-12T05:00:00Z",
          "message": {"default": "Mise à jour du serveur", "en": "The server is updated"}}


async def status_of(url: str) -> int:
    """The HTTP status of a GET (the body need not be JSON)."""
    def get() -> int:
        try:
            with urllib.request.urlopen(url, timeout=10) as response:
                return response.status
        except urllib.error.HTTPError as e:
            return e.code

    return await asyncio.to_thread(get)


async def client(server):
    return await login(server, "alice", plugins=("xep_0455",))


async def test_the_advertised_status_document_says_there_is_no_outage(server) -> None:
    alice = await client(server)
    addresses = await alice["xep_0455"].get_external_status_addresses()
    http_port = server.ports().http
    assert addresses == [f"http://127.0.0.1:{http_port}/outage-status.json"]
    assert await alice["xep_0455"].fetch_status(addresses[0]) is None  # "{}": no outage
    await close(alice)


async def test_an_outage_declared_through_the_api_reaches_the_client(server) -> None:
    api = f"http://127.0.0.1:{server.ports().http}/api/outage"
    alice = await client(server)
    [address] = await alice["xep_0455"].get_external_status_addresses()
    status, body = await http("POST", api, OUTAGE)
    assert status == 200 and body == OUTAGE
    fetched = await alice["xep_0455"].fetch_status(address)
    assert fetched.planned is True and fetched.message["en"] == "The server is updated"
    assert (fetched.beginning.year, fetched.expected_end.hour) == (2031, 5)
    assert await http("GET", api) == (200, OUTAGE)
    assert (await http("GET", f"http://127.0.0.1:{server.ports().http}/api/state")
            )[1]["outage"] == OUTAGE
    status, _ = await http("DELETE", api)
    assert status == 204
    assert await alice["xep_0455"].fetch_status(address) is None
    await close(alice)


@pytest.mark.parametrize("body, why", [
    ({"planned": True}, "beginning"),
    ({"beginning": "yesterday"}, "beginning"),
    ({"beginning": "2031-01-12T01:01:01Z", "message": {"en": "no default"}}, "message"),
    ({"beginning": "2031-01-12T01:01:01Z", "planned": "yes"}, "planned"),
])
async def test_a_document_that_is_not_an_outage_is_refused(server, body, why) -> None:
    base = f"http://127.0.0.1:{server.ports().http}"
    status, answer = await http("POST", f"{base}/api/outage", body)
    assert status == 400 and why in answer["error"]
    assert await http("GET", f"{base}/outage-status.json") == (200, {})


async def test_the_document_is_open_to_web_clients(server) -> None:
    url = f"http://127.0.0.1:{server.ports().http}/outage-status.json"
    request = urllib.request.Request(url, headers={"Origin": "https://web.example"})

    def fetch() -> tuple[str | None, str | None]:
        with urllib.request.urlopen(request, timeout=10) as response:
            return (response.headers["Access-Control-Allow-Origin"],
                    response.headers["Content-Type"])

    assert await asyncio.to_thread(fetch) == ("https://web.example", "application/json")


@pytest.mark.server_options(outage_status_address=["https://status.example/xmpp.json",
                                                   "http://mirror.example/s.json"])
async def test_other_addresses_are_advertised_instead(server) -> None:
    alice = await client(server)
    assert await alice["xep_0455"].get_external_status_addresses() == [
        "https://status.example/xmpp.json", "http://mirror.example/s.json"]
    await close(alice)


@pytest.mark.server_options(no_http=True)
async def test_without_an_http_listener_or_addresses_nothing_is_advertised(server) -> None:
    alice = await client(server)
    assert await alice["xep_0455"].get_external_status_addresses() == []
    await close(alice)


@pytest.mark.server_options(disable=["sos"])
async def test_switched_off_there_is_no_form_no_document_and_no_api(server) -> None:
    base = f"http://127.0.0.1:{server.ports().http}"
    alice = await client(server)
    assert await alice["xep_0455"].get_external_status_addresses() == []
    await close(alice)
    assert await status_of(f"{base}/outage-status.json") == 404
    assert (await http("POST", f"{base}/api/outage", OUTAGE))[0] == 404
