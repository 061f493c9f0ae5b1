"""The live status page at ``/``: plain HTML and a few lines of JavaScript that poll
``/api/state`` once a second. No front-end build step; the page holds no data itself
(with ``--http-token``, open it as ``/?token=TOKEN``)."""

from __future__ import annotations

import html

from twisted.web import resource, server

PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<title>minixmpp — {domain}</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<style>
 body {{ font: 14px/1.4 system-ui, sans-serif; margin: 1.5em; color: #222; }}
 h1 {{ font-size: 1.3em; margin: 0 0 .2em; }} h2 {{ font-size: 1.05em; margin: 1.4em 0 .4em; }}
 table {{ border-collapse: collapse; width: 100%; }}
 th, td {{ text-align: left; padding: .25em .6em; border-bottom: 1px solid #ddd;
          vertical-align: top; }}
 th {{ background: #f4f4f4; font-weight: 600; }}
 code, .mono {{ font-family: ui-monospace, monospace; font-size: 12.5px; }}
 .muted {{ color: #888; }} .bad {{ color: #b00; }} .ok {{ color: #070; }}
 #status {{ float: right; }}
</style></head>
<body>
<span id="status" class="muted">connecting…</span>
<h1>minixmpp <span class="muted">serving</span> {domain}</h1>
<div id="summary" class="muted"></div>
<div id="features" class="muted"></div>
<h2>Connected resources</h2>
<table id="sessions"><thead><tr><th>full JID</th><th>presence</th><th>priority</th>
<th>TLS</th><th>connected since</th></tr></thead><tbody></tbody></table>
<h2>Push registrations</h2>
<table id="registrations"><thead><tr><th>account</th><th>App Server</th><th>node</th>
<th>away</th><th>extensions</th><th>publish options</th><th>by</th><th>sent</th>
<th>errors</th></tr></thead>
<tbody></tbody></table>
<h2>PEP nodes</h2>
<table id="pep"><thead><tr><th>account</th><th>node</th><th>access model</th><th>items</th>
</tr></thead><tbody></tbody></table>
<h2>Push notifications <span class="muted">(newest first)</span></h2>
<table id="notifications"><thead><tr><th>#</th><th>time</th><th>account</th><th>node</th>
<th>count</th><th>sender</th><th>body</th></tr></thead><tbody></tbody></table>
<h2>Push events</h2>
<table id="events"><thead><tr><th>time</th><th>event</th><th>account</th><th>App Server</th>
<th>node</th><th>detail</th></tr></thead><tbody></tbody></table>
<h2>Group chat rooms</h2>
<table id="rooms"><thead><tr><th>room</th><th>name</th><th>kind</th><th>subject</th>
<th>occupants (nick — JID — role/affiliation)</th></tr></thead><tbody></tbody></table>
<h2>Recent authentication failures</h2>
<table id="failures"><thead><tr><th>time</th><th>from</th><th>condition</th></tr></thead>
<tbody></tbody></table>
<script>
const token = new URLSearchParams(location.search).get("token");
const headers = token ? {{"Authorization": "Bearer " + token}} : {{}};
const esc = s => String(s ?? "").replace(/[&<>"']/g,
  c => ({{"&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;"}})[c]);
const time = t => t ? esc(t.replace("T", " ").replace("+00:00", "Z")) : "";
function fill(id, rows, cells) {{
  const body = document.querySelector("#" + id + " tbody");
  const n = document.querySelector("#" + id + " thead th:last-child").parentNode.children.length;
  body.innerHTML = rows.length ? rows.map(r => "<tr>" + cells(r).map(c => "<td>" + c +
    "</td>").join("") + "</tr>").join("") :
    '<tr><td class="muted" colspan="' + n + '">none</td></tr>';
}}
async function refresh() {{
  try {{
    const r = await fetch("api/state", {{headers, cache: "no-store"}});
    if (!r.ok) throw new Error(r.status + " " + (await r.json()).error);
    const s = await r.json();
    document.getElementById("summary").textContent = "clients: " + s.c2s +
      " · accounts: " + s.accounts.map(a => a.jid).join(", ") +
      (s.push_jid ? " · push App Server: " + s.push_jid : "") +
      (s.muc_jid ? " · group chat: " + s.muc_jid : "");
    document.getElementById("features").textContent = "features on: " +
      s.features.join(" ") + (s.disabled.length ? " · off: " + s.disabled.join(" ") : "");
    fill("sessions", s.sessions, x => ["<code>" + esc(x.jid) + "</code>",
      x.available ? esc(x.show || "available") : '<span class="muted">no presence</span>',
      esc(x.priority), x.tls ? "yes" : "no", time(x.connected_since)]);
    fill("registrations", s.registrations, x => [esc(x.account), "<code>" + esc(x.jid) +
      "</code>", "<code>" + esc(x.node) + "</code>", x.away ? "yes" : "no",
      Object.keys(x.extensions || {{}}).length ? "<code>" +
      esc(JSON.stringify(x.extensions)) + "</code>" : '<span class="muted">none</span>',
      "<code>" + esc(JSON.stringify(x.publish_options)) + "</code>", esc(x.resource),
      esc(x.notifications), x.errors ? '<span class="bad">' + esc(x.errors) + " (" +
      esc(x.last_error) + ")</span>" : "0"]);
    fill("pep", s.accounts.flatMap(a => (a.pep_nodes || []).map(n => [a.name, n])),
      ([name, n]) => [esc(name), "<code>" + esc(n.node) + "</code>", esc(n.access_model),
      esc(n.items)]);
    fill("notifications", s.notifications, x => [esc(x.seq), time(x.time),
      esc(x.account), "<code>" + esc(x.node) + "</code>",
      esc(x.fields["message-count"]), esc(x.fields["last-message-sender"]),
      esc(x.fields["last-message-body"])]);
    fill("events", s.push_events, x => [time(x.time), esc(x.event), esc(x.account),
      esc(x.jid), "<code>" + esc(x.node) + "</code>", esc(x.detail)]);
    fill("rooms", s.rooms || [], x => ["<code>" + esc(x.jid) + "</code>", esc(x.name),
      esc([x.persistent ? "persistent" : "temporary", x.public ? "public" : "hidden",
           x.members_only ? "members-only" : "open"].concat(x.locked ? ["locked"] : [])
          .join(", ")), esc(x.subject),
      x.occupants.map(o => esc(o.nick) + " — <code>" + esc(o.jid) + "</code> — " +
        esc(o.role) + "/" + esc(o.affiliation)).join("<br>") ||
        '<span class="muted">empty</span>']);
    fill("failures", s.auth_failures, x => [time(x.time), esc(x.peer), esc(x.condition)]);
    const st = document.getElementById("status");
    st.textContent = "live"; st.className = "ok";
  }} catch (e) {{
    const st = document.getElementById("status");
    st.textContent = "not connected: " + e.message; st.className = "bad";
  }}
}}
refresh(); setInterval(refresh, 1000);
</script>
</body></html>
"""


class StatusPage(resource.Resource):
    """Serves the page; the data comes from ``/api/state``."""

    isLeaf = True

    def __init__(self, domain: str) -> None:
        super().__init__()
        self.body = PAGE.format(domain=html.escape(domain)).encode()

    def render_GET(self, request: server.Request) -> bytes:
        request.setHeader(b"content-type", b"text/html; charset=utf-8")
        request.setHeader(b"cache-control", b"no-store")
        return self.body
