"""host-meta (XEP-0156): the web transports named, with CORS."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET

from tests.helpers import raw_http


async def test_host_meta_names_the_web_transports_with_cors(server) -> None:
    base = f"http://127.0.0.1:{server.ports().http}"
    status, body, headers = await raw_http(
        "GET", f"{base}/.well-known/host-meta", headers={"Origin": "http://app.example"})
    assert status == 200 and headers["Content-Type"] == "application/xrd+xml"
    assert headers["Access-Control-Allow-Origin"] == "http://app.example"
    xrd = ET.fromstring(body)
    links = {link.get("rel"): link.get("href")
             for link in xrd.iter("{http://docs.oasis-open.org/ns/xri/xrd-1.0}Link")}
    status, body, headers = await raw_http("GET", f"{base}/.well-known/host-meta.json")
    assert status == 200 and headers["Content-Type"] == "application/json"
    assert {link["rel"]: link["href"] for link in json.loads(body)["links"]} == links
    assert links == {
        "urn:xmpp:alt-connections:websocket":
            f"ws://127.0.0.1:{server.ports().http}/xmpp-websocket",
        "urn:xmpp:alt-connections:xbosh": f"{base}/http-bind"}
