"""Upload slots for file names with reserved characters (issue 22, finding 5).

XEP-0363 §4–§5: the URL a slot hands out must take its PUT and serve its GET. The file
name is one path segment, percent-encoded exactly once in the slot URL and decoded
exactly once by the HTTP resource, whatever it holds (spaces, ``%``, unicode, ``#``,
``?``, dots). A name with ``/`` is refused, as Prosody's mod_http_file_share refuses it;
files are stored under the slot name, so no name or URL reaches outside the upload
directory. Never a traceback in the log."""

from __future__ import annotations

import asyncio
import socket
from typing import Any
from urllib.parse import quote, unquote, urlsplit

import pytest

from tests.helpers import close, iq_error, login

NAMES = ["a b.txt", "a%20b.txt", "100%.txt", "%", "%2e%2e", "a%2Fb", "%25%%41",
         "héllo wörld.txt", "日本語.txt", "😀.png", "a#b.txt", "what?.txt", "a?b=c&d#e",
         "..x", "a..b", "...", "x..", "it's \"quoted\" <b>.txt", "a+b;c,d=e@f:g.txt",
         "~user!$()*.txt"]


pytestmark = pytest.mark.usefixtures("no_tracebacks")  # conftest.py


async def raw_http(method: str, url: str, body: bytes | None = None,
                   headers: dict[str, str] | None = None) -> tuple[int, bytes]:
    """One HTTP request from a thread, the URL sent as it is; (status, body)."""
    import urllib.error
    import urllib.request

    request = urllib.request.Request(url, data=body, method=method, headers=headers or {})

    def call() -> tuple[int, bytes]:
        try:
            with urllib.request.urlopen(request, timeout=30) as response:
                return response.status, response.read()
        except urllib.error.HTTPError as e:
            return e.code, e.read()

    return await asyncio.to_thread(call)


async def raw_get(port: int, path: str) -> int:
    """A GET of ``path`` byte for byte (no client normalizes its dots); the status."""
    def call() -> int:
        with socket.create_connection(("127.0.0.1", port), timeout=10) as s:
            s.sendall(f"GET {path} HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n".encode())
            return int(s.recv(64).split(b" ")[1])

    return await asyncio.to_thread(call)


async def slot(client: Any, name: str, size: int) -> str:
    iq = await client.plugin["xep_0363"].request_slot("upload.localhost", name, size,
                                                      "text/plain")
    put, get = iq["http_upload_slot"]["put"]["url"], iq["http_upload_slot"]["get"]["url"]
    assert put == get
    return put


async def test_names_with_reserved_characters_round_trip(server) -> None:
    """Slot request → PUT → GET the same bytes, for every name; the URL's last segment
    is the name percent-encoded once and nothing else."""
    alice = await login(server, "alice", plugins=("xep_0363",))
    for n, name in enumerate(NAMES):
        data = f"{n}: {name}".encode()
        url = await slot(alice, name, len(data))
        segment = urlsplit(url).path.rsplit("/", 1)[1]
        assert segment == quote(name, safe="") and unquote(segment) == name, url
        status, _ = await raw_http("PUT", url, data, {"Content-Type": "text/plain"})
        assert status == 201, (name, url, status)
        assert await raw_http("GET", url) == (200, data), (name, url)
    slots = {u.slot for u in server.uploads.uploads("alice")}
    assert {p.name for p in server.uploads.directory.iterdir()} == slots
    await close(alice)


@pytest.mark.parametrize("name", ["../../x", "a/b.txt", "/etc/passwd", "..", ".",
                                  "a\\b.txt"])
async def test_a_name_that_is_a_path_gets_no_slot(server, name) -> None:
    """A path separator or a dot segment is not a file name: ``not-acceptable``, and
    nothing is stored anywhere."""
    alice = await login(server, "alice", plugins=("xep_0363",))
    iq = alice.make_iq_get(ito="upload.localhost")
    iq["http_upload_request"]["filename"] = name
    iq["http_upload_request"]["size"] = "10"
    assert await iq_error(iq) == "not-acceptable"
    assert server.uploads.uploads("alice") == []
    assert list(server.uploads.directory.iterdir()) == []
    await close(alice)


async def test_a_slot_url_cannot_address_anything_else(server) -> None:
    """The slot and the name are compared with what was handed out, after one decoding:
    dot segments, encoded slashes and double encodings find nothing."""
    alice = await login(server, "alice", plugins=("xep_0363",))
    data = b"secret"
    url = await slot(alice, "..x", len(data))
    assert (await raw_http("PUT", url, data, {"Content-Type": "text/plain"}))[0] == 201
    path = urlsplit(url).path
    slot_id = path.split("/")[2]
    port = server.ports().http
    for probe in (f"/upload/{slot_id}/..", f"/upload/{slot_id}/%2E%2E",
                  f"/upload/{slot_id}/..%2Fx", f"/upload/{slot_id}/%252E%252Ex",
                  f"/upload/{slot_id}/../{slot_id}/..x", f"/upload/..%2F{slot_id}/..x",
                  f"/upload/{slot_id}", "/upload/../api/state", f"/upload/{slot_id}/.%2E/x"):
        assert await raw_get(port, probe) == 404, probe
    assert await raw_get(port, path) == 200
    await close(alice)
