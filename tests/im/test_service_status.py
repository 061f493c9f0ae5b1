"""Service Outage Status (XEP-0455): the server advertises (in its disco#info, FORM_TYPE
``urn:xmpp:sos:0``) a status document of its own on the HTTP listener, which says there is
no outage until the control API declares one; ``--outage-status-address`` advertises other
addresses instead. slixmpp's ``xep_0455`` plugin is the client; at the end, slixmpp's own
``itests/test_sos.py`` runs unchanged against the server, as slixmpp's CI runs it."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import unittest
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from slixmpp.test.integration import SlixIntegration

from tests.helpers import close, http, login

try:
    import aiohttp
except ImportError:
    aiohttp = None

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


# -- slixmpp's own integration test ----------------------------------------------------------
#
# TestSos is itests/test_sos.py of slixmpp 1.17.0, copied unchanged from its PyPI sdist
# (slixmpp-1.17.0.tar.gz, itests/test_sos.py, sha256
# b158778dd1cfa6eedd4f463032e3a5c9cd7f2f9ade5375906a59dcf70c5a2134; the same text is at
# commit c3ef7e6b9d8c067a3a4c187c05bf1143b3341465 of the GitHub fork
# michael-on-github/slixmpp-alt; upstream is codeberg.org/poezio/slixmpp). Only its imports
# (``unittest``, ``SlixIntegration``, the optional ``aiohttp``) moved to the top of this
# module, and ``__test__ = False`` is added below it. slixmpp's licence:
#
#   Copyright (c) 2010 Nathanael C. Fritz
#
#   Permission is hereby granted, free of charge, to any person obtaining a copy
#   of this software and associated documentation files (the "Software"), to deal
#   in the Software without restriction, including without limitation the rights
#   to use, copy, modify, merge, publish, distribute, sublicense, and/or sell
#   copies of the Software, and to permit persons to whom the Software is
#   furnished to do so, subject to the following conditions:
#
#   The above copyright notice and this permission notice shall be included in
#   all copies or substantial portions of the Software.
#
#   THE SOFTWARE IS PROVIDED "AS IS", WITHOUT WARRANTY OF ANY KIND, EXPRESS OR
#   IMPLIED, INCLUDING BUT NOT LIMITED TO THE WARRANTIES OF MERCHANTABILITY,
#   FITNESS FOR A PARTICULAR PURPOSE AND NONINFRINGEMENT. IN NO EVENT SHALL THE
#   AUTHORS OR COPYRIGHT HOLDERS BE LIABLE FOR ANY CLAIM, DAMAGES OR OTHER
#   LIABILITY, WHETHER IN AN ACTION OF CONTRACT, TORT OR OTHERWISE, ARISING FROM,
#   OUT OF OR IN CONNECTION WITH THE SOFTWARE OR THE USE OR OTHER DEALINGS IN
#   THE SOFTWARE.

class TestSos(SlixIntegration):
    async def asyncSetUp(self):
        await super().asyncSetUp()
        self.add_client(
            self.envjid('CI_ACCOUNT1'),
            self.envstr('CI_ACCOUNT1_PASSWORD'),
        )
        self.register_plugins(['xep_0455'])
        await self.connect_clients()

    @unittest.skipIf(aiohttp is None, "aiohttp is not installed")
    async def test_sos(self):
        """Check we can get the status addr and fetch empty data"""
        addresses = await self.clients[0]['xep_0455'].get_external_status_addresses()
        self.assertGreaterEqual(len(addresses), 1)
        fetched_status = await self.clients[0]['xep_0455'].fetch_status(addresses[0])
        self.assertEqual(fetched_status, None)


suite = unittest.TestLoader().loadTestsFromTestCase(TestSos)

# -- end of the copy ---------------------------------------------------------------------------

# pytest would run it in this process, where the reactor's loop is running and
# IsolatedAsyncioTestCase cannot start its own; it runs in a subprocess below.
TestSos.__test__ = False

ROOT = Path(__file__).resolve().parents[2]

#: What slixmpp's run_integration_tests.py does with an itest module (import it, run its
#: ``suite`` with a verbose TextTestRunner), plus the one thing its CI gets from DNS: the
#: address to connect to. There the account's domain resolves to Prosody on port 5222; here
#: the server is on a free port (parallel workers never clash), so the clients that
#: SlixIntegration makes connect to MINIXMPP_C2S when the test names no address.
RUNNER = """
import os, sys, unittest
import slixmpp.test.integration as integration

host, port = os.environ["MINIXMPP_C2S"].rsplit(":", 1)

class ClientXMPP(integration.ClientXMPP):
    def connect(self, host_=None, port_=None):
        return super().connect(host_ or host, port_ or int(port))

integration.ClientXMPP = ClientXMPP
from tests.im import test_service_status as itest

result = unittest.TextTestRunner(verbosity=2).run(itest.suite)
print(f"ran={result.testsRun} skipped={len(result.skipped)} ok={result.wasSuccessful()}")
sys.exit(not result.wasSuccessful())
"""


@pytest.mark.launch
@pytest.mark.server_options(user=("slix-ci-1:slix-ci-1-pass", "slix-ci-2:slix-ci-2-pass"))
async def test_slixmpps_own_itest_passes(server, tmp_path) -> None:
    """slixmpp's itests/test_sos.py, with the environment its CI gives it (compose.yml):
    the account in CI_ACCOUNT1/CI_ACCOUNT1_PASSWORD, and the server's certificate trusted
    (the CI installs Prosody's in the system store; SSL_CERT_FILE here), so the client
    logs in over STARTTLS with its default, verifying settings."""
    pytest.importorskip("aiohttp")
    cert = tmp_path / "minixmpp.pem"
    cert.write_bytes(server.tls.cert_pem)
    env = {**os.environ, "PYTHONPATH": str(ROOT),
           "CI_ACCOUNT1": f"slix-ci-1@{server.settings.domain}",
           "CI_ACCOUNT1_PASSWORD": "slix-ci-1-pass",
           "SSL_CERT_FILE": str(cert),
           "MINIXMPP_C2S": f"127.0.0.1:{server.port}"}
    # Bounded: slixmpp retries a failed connection forever and SlixIntegration has no
    # timeout of its own; a server that does not answer fails the test, it does not hang it.
    result = await asyncio.to_thread(
        subprocess.run, [sys.executable, "-c", RUNNER], cwd=ROOT, env=env,
        capture_output=True, text=True, timeout=20)
    assert "ran=1 skipped=0 ok=True" in result.stdout, result.stderr[-3000:]
    assert result.returncode == 0
