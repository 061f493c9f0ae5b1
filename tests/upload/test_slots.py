"""HTTP File Upload (XEP-0363) slot requests: discovery, size limits, bad requests,
quotas, --no-upload."""

from __future__ import annotations

import pytest

from minixmpp import ns
from tests.helpers import close, iq_error, login
from tests.upload.helpers import slot, slot_request


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


@pytest.mark.server_options(no_upload=True)
async def test_no_upload_leaves_the_service_out(server) -> None:
    alice = await login(server, "alice", plugins=("xep_0363",))
    assert await alice.plugin["xep_0363"].find_upload_service(timeout=5) is None
    await close(alice)
