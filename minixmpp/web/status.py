"""The live status page at ``/``: plain HTML and a little JavaScript
(``status_page.html``, package data) that poll the control API once a second. No
front-end build step; the page holds no data itself (with ``--http-token``, open it as
``/?token=TOKEN``)."""

from __future__ import annotations

import html
from importlib import resources

from twisted.web import resource, server


def page(domain: str) -> bytes:
    """The page for ``domain`` (its only server-side value)."""
    text = resources.files(__package__).joinpath("status_page.html").read_text("utf-8")
    return text.replace("{{domain}}", html.escape(domain)).encode()


class StatusPage(resource.Resource):
    """Serves the page; the data comes from ``/api/state``."""

    isLeaf = True

    def __init__(self, domain: str) -> None:
        super().__init__()
        self.body = page(domain)

    def render_GET(self, request: server.Request) -> bytes:
        request.setHeader(b"content-type", b"text/html; charset=utf-8")
        request.setHeader(b"cache-control", b"no-store")
        return self.body
