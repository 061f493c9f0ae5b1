"""Helpers for the upload tests: slot requests with slixmpp's xep_0363."""

from __future__ import annotations

from typing import Any


def slot_request(client: Any, filename: str, size: int, content_type: str | None = None,
                 to: str = "upload.localhost") -> Any:
    return client.plugin["xep_0363"].request_slot(to, filename, size, content_type)


async def slot(client: Any, filename: str, size: int, content_type: str = "text/plain") -> str:
    iq = await slot_request(client, filename, size, content_type)
    assert iq["http_upload_slot"]["put"]["url"] == iq["http_upload_slot"]["get"]["url"]
    return iq["http_upload_slot"]["put"]["url"]
