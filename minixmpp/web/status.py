"""The live status page at ``/``: plain HTML and a little JavaScript
(``status_page.html``, package data) that poll the control API once a second. No
front-end build step; the page holds no data itself (with ``--http-token``, open it as
``/?token=TOKEN``).

The page shows what clients send (the stanza timeline), so it is served with a
Content-Security-Policy that runs only its own inline script and style, by hash: should
stanza text ever reach the DOM as markup, nothing in it would run or load.
"""

from __future__ import annotations

import base64
import hashlib
import html
import re
from importlib import resources

from twisted.web import resource, server


def page(domain: str) -> bytes:
    """The page for ``domain`` (its only server-side value)."""
    text = resources.files(__package__).joinpath("status_page.html").read_text("utf-8")
    return text.replace("{{domain}}", html.escape(domain)).encode()


def policy(body: bytes) -> bytes:
    """CSP allowing the page's own ``<script>`` and ``<style>`` blocks (by SHA-256) and
    requests to its own origin (the API), nothing else."""

    def hashes(tag: bytes) -> bytes:
        blocks = re.findall(rb"<" + tag + rb">(.*?)</" + tag + rb">", body, re.S)
        return b" ".join(b"'sha256-" + base64.b64encode(hashlib.sha256(b).digest()) + b"'"
                         for b in blocks)

    return (b"default-src 'none'; connect-src 'self'; script-src " + hashes(b"script")
            + b"; style-src " + hashes(b"style")
            + b"; base-uri 'none'; form-action 'none'; frame-ancestors 'none'")


class StatusPage(resource.Resource):
    """Serves the page; the data comes from ``/api/state``, ``/api/traffic``."""

    isLeaf = True

    def __init__(self, domain: str) -> None:
        super().__init__()
        self.body = page(domain)
        self.policy = policy(self.body)

    def render_GET(self, request: server.Request) -> bytes:
        request.setHeader(b"content-type", b"text/html; charset=utf-8")
        request.setHeader(b"cache-control", b"no-store")
        request.setHeader(b"content-security-policy", self.policy)
        return self.body
