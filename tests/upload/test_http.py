"""HTTP File Upload (XEP-0363) over HTTP: the upload itself, PUT checked against its slot,
expiry, CORS."""

from __future__ import annotations

import os

import pytest

from tests.helpers import close, http, login, raw_http
from tests.upload.helpers import slot


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


