"""HTTP File Upload (XEP-0363) end to end: slixmpp's xep_0363 plugin, then plain HTTP."""

from __future__ import annotations

import os
from typing import Any

import pytest

from minixmpp import ns
from tests.helpers import close, http, iq_error, login


async def raw_http(method: str, url: str, body: bytes | None = None,
                   headers: dict[str, str] | None = None) -> tuple[int, bytes, Any]:
    """One HTTP request from a thread; (status, body, headers)."""
    import asyncio
    import urllib.error
    import urllib.request

    request = urllib.request.Request(url, data=body, method=method, headers=headers or {})

    def call() -> tuple[int, bytes, Any]:
        try:
            with urllib.request.urlopen(request, timeout=30) as response:
                return response.status, response.read(), response.headers
        except urllib.error.HTTPError as e:
            return e.code, e.read(), e.headers

    return await asyncio.to_thread(call)


def slot_request(client: Any, filename: str, size: int, content_type: str | None = None,
                 to: str = "upload.localhost") -> Any:
    return client.plugin["xep_0363"].request_slot(to, filename, size, content_type)


async def slot(client: Any, filename: str, size: int, content_type: str = "text/plain") -> str:
    iq = await slot_request(client, filename, size, content_type)
    assert iq["http_upload_slot"]["put"]["url"] == iq["http_upload_slot"]["get"]["url"]
    return iq["http_upload_slot"]["put"]["url"]


async def test_slixmpp_uploads_a_mebibyte_and_get_returns_the_same_bytes(server) -> None:
    alice = await login(server, "alice", plugins=("xep_0363",))
    data = os.urandom(1 << 20)
    import io

    url = await alice.plugin["xep_0363"].upload_file(
        "photo.jpg", size=len(data), content_type="image/jpeg", input_file=io.BytesIO(data),
        timeout=10)
    assert url.startswith(f"http://127.0.0.1:{server.ports().http}/upload/")
    status, body, headers = await raw_http("GET", url)
    assert status == 200 and body == data
    assert headers["Content-Type"] == "image/jpeg"
    assert headers["X-Content-Type-Options"] == "nosniff"
    # the HTTP API lists it; reset removes it
    status, listed = await http("GET", f"http://127.0.0.1:{server.ports().http}"
                                           "/api/uploads")
    assert status == 200 and [(u["account"], u["filename"], u["size"], u["url"])
                              for u in listed] == [("alice", "photo.jpg", 1 << 20, url)]
    await http("POST", f"http://127.0.0.1:{server.ports().http}/api/reset")
    assert (await raw_http("GET", url))[0] == 404
    assert not list(server.uploads.directory.iterdir())
    await close(alice)


async def test_upload_service_is_discoverable_with_its_max_size(server) -> None:
    alice = await login(server, "alice", plugins=("xep_0363",))
    info = await alice.plugin["xep_0363"].find_upload_service(timeout=5)
    assert info is not None and info["from"] == "upload.localhost"
    forms = [f["values"] for f in info["disco_info"].iterables]
    upload_forms = [f for f in forms if f["FORM_TYPE"] in (ns.UPLOAD, [ns.UPLOAD])]
    assert len(upload_forms) == 1
    assert upload_forms[0]["max-file-size"] == str(10 * 1024 * 1024)
    await close(alice)


@pytest.mark.server_options(upload_max_size=1000)
async def test_too_large_file_gets_file_too_large_with_the_max_size(server) -> None:
    from slixmpp.exceptions import IqError

    alice = await login(server, "alice", plugins=("xep_0363",))
    with pytest.raises(IqError) as caught:
        await slot_request(alice, "big.bin", 1001)
    error = caught.value.iq["error"]
    assert error["condition"] == "not-acceptable" and error["type"] == "modify"
    too_large = error.xml.find(f"{{{ns.UPLOAD}}}file-too-large")
    assert too_large is not None
    assert too_large.find(f"{{{ns.UPLOAD}}}max-file-size").text == "1000"
    assert await slot(alice, "ok.bin", 1000)  # positive control: at the limit
    await close(alice)


async def test_bad_filename_or_size_is_not_acceptable(server) -> None:
    alice = await login(server, "alice", plugins=("xep_0363",))
    iq = alice.make_iq_get(ito="upload.localhost")
    iq["http_upload_request"]["filename"] = "../../etc/passwd"
    iq["http_upload_request"]["size"] = "10"
    assert await iq_error(iq) == "not-acceptable"
    iq = alice.make_iq_get(ito="upload.localhost")
    iq["http_upload_request"]["filename"] = "a.txt"
    iq["http_upload_request"]["size"] = "0"
    assert await iq_error(iq) == "not-acceptable"
    iq = alice.make_iq_get(ito="upload.localhost")
    iq["http_upload_request"]["filename"] = "a.txt"
    iq["http_upload_request"]["size"] = "ten"
    assert await iq_error(iq) == "bad-request"
    await close(alice)


async def test_put_is_checked_against_the_slot(server) -> None:
    alice = await login(server, "alice", plugins=("xep_0363",))
    url = await slot(alice, "note.txt", 5)
    headers = {"Content-Type": "text/plain"}
    # wrong size: shorter and longer than the slot
    assert (await raw_http("PUT", url, b"1234", headers))[0] == 400
    assert (await raw_http("PUT", url, b"123456", headers))[0] == 413
    # another content type
    assert (await raw_http("PUT", url, b"12345", {"Content-Type": "image/png"}))[0] == 400
    # an unknown slot
    assert (await raw_http("PUT", url.replace("/upload/", "/upload/x"), b"12345",
                               headers))[0] == 404
    assert (await raw_http("GET", url))[0] == 404  # nothing uploaded yet
    # the right PUT, once
    assert (await raw_http("PUT", url, b"hello", headers))[0] == 201
    status, again, _ = await raw_http("PUT", url, b"HELLO", headers)
    assert status == 409
    status, body, _ = await raw_http("GET", url)
    assert status == 200 and body == b"hello"
    await close(alice)


async def test_expired_slot_refuses_the_put(server) -> None:
    alice = await login(server, "alice", plugins=("xep_0363",))
    url = await slot(alice, "late.txt", 4)
    real = server.uploads.clock
    server.uploads.clock = lambda: real() + server.settings.upload_slot_timeout + 1
    try:
        status, _, _ = await raw_http("PUT", url, b"late", {"Content-Type": "text/plain"})
    finally:
        server.uploads.clock = real
    assert status == 410
    # the expired slot is gone, and a fresh one works (positive control)
    assert (await raw_http("PUT", url, b"late", {"Content-Type": "text/plain"}))[0] == 404
    url = await slot(alice, "late.txt", 4)
    assert (await raw_http("PUT", url, b"late", {"Content-Type": "text/plain"}))[0] == 201
    await close(alice)


@pytest.mark.server_options(upload_max_size=1000, upload_quota=1500)
async def test_quota_per_account_makes_slot_requests_wait(server) -> None:
    from slixmpp.exceptions import IqError

    alice = await login(server, "alice", plugins=("xep_0363",))
    bob = await login(server, "bob", plugins=("xep_0363",))
    await slot(alice, "one.bin", 1000)
    with pytest.raises(IqError) as caught:
        await slot_request(alice, "two.bin", 600)
    assert caught.value.iq["error"]["condition"] == "resource-constraint"
    assert caught.value.iq["error"]["type"] == "wait"
    assert await slot(alice, "small.bin", 500)  # what is left still fits
    assert await slot(bob, "two.bin", 600)  # another account has its own quota
    await close(alice, bob)


@pytest.mark.server_options(http_origins=("http://app.example",))
async def test_cors_headers_for_allowed_browser_origins(server) -> None:
    alice = await login(server, "alice", plugins=("xep_0363",))
    url = await slot(alice, "c.txt", 2)
    status, _, headers = await raw_http("OPTIONS", url, None, {
        "Origin": "http://app.example", "Access-Control-Request-Method": "PUT"})
    assert status == 204 and headers["Access-Control-Allow-Origin"] == "http://app.example"
    assert "PUT" in headers["Access-Control-Allow-Methods"]
    status, _, headers = await raw_http("OPTIONS", url, None, {
        "Origin": "http://evil.example", "Access-Control-Request-Method": "PUT"})
    assert "Access-Control-Allow-Origin" not in headers
    await close(alice)


@pytest.mark.server_options(no_upload=True)
async def test_no_upload_leaves_the_service_out(server) -> None:
    alice = await login(server, "alice", plugins=("xep_0363",))
    assert await alice.plugin["xep_0363"].find_upload_service(timeout=5) is None
    await close(alice)
