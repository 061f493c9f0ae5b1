"""The servers under test, each private, on loopback ports, in a temporary directory.

- :class:`Minixmpp`: ``twistd -n minixmpp`` with the benchmark accounts, a XEP-0114
  component for the external App Server and the HTTP API (to read push timings).
- :class:`Prosody`: Debian's ``prosody`` with its own config (memory storage except
  accounts, which ``prosodyctl`` must write to files), the same modules on, and
  ``mod_cloud_notify`` from ``prosody-modules``, ``mod_websocket`` and ``mod_bosh`` on an
  HTTP port of its own, the ``pubsub`` component at :data:`PUBSUB`. Never touches a
  system-wide service.
- :class:`Ejabberd`: Debian's ``ejabberd`` with its own ``ejabberd.yml``, Erlang node
  name, cookie and mnesia spool, run in the foreground through ``ejabberdctl``; the
  accounts are created through its ReST API (``mod_http_api``) on a loopback port.
  Never touches the system-wide service either.
"""

from __future__ import annotations

import json
import os
import pwd
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

DOMAIN = "localhost"
COMPONENT = "pushapp.localhost"
SECRET = "bench-secret"
#: the XEP-0060 service every server runs, and the account that creates the benchmark's
#: node there (Prosody 0.12's mod_pubsub lets only admins create nodes: this account is
#: an admin of that component alone)
PUBSUB = f"pubsub.{DOMAIN}"
PUBSUB_CREATOR = "bench32"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_port(port: int, timeout: float = 20) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.05)
    raise RuntimeError(f"nothing listens on {port} after {timeout} s")


def rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def descendant(pid: int, comm: str) -> int | None:
    """The first process below ``pid`` whose command name is ``comm`` (breadth first)."""
    children: dict[int, list[tuple[int, str]]] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            head, _, rest = stat.read_text().rpartition(")")
        except OSError:
            continue
        child, name = head.split(" (", 1)
        children.setdefault(int(rest.split()[1]), []).append((int(child), name))
    queue = [pid]
    while queue:
        for child, name in children.get(queue.pop(0), []):
            if name == comm:
                return child
            queue.append(child)
    return None


def package_version(package: str) -> str | None:
    """The installed Debian version of ``package``, or None."""
    try:
        out = subprocess.run(["dpkg-query", "-W", "-f", "${Version}", package],
                             capture_output=True, text=True, timeout=10)
    except (OSError, subprocess.TimeoutExpired):
        return None
    return out.stdout.strip() or None if out.returncode == 0 else None


def run_as(user: str, directory: Path) -> list[str]:
    """The command prefix that runs a peer as its own ``user`` when we are root (after
    handing it ``directory``); nothing otherwise. setpriv, not runuser or su: those go
    through PAM, which would cap the open files at 1024 and stall a peer past about a
    thousand sessions."""
    if os.geteuid() != 0:
        return []
    account = pwd.getpwnam(user)
    for path in [directory, *directory.rglob("*")]:
        os.chown(path, account.pw_uid, account.pw_gid)
    return ["setpriv", "--reuid", user, "--regid", user, "--init-groups"]


class Server:
    name = ""
    title = ""
    #: serves XMPP over WebSocket (RFC 7395) at /xmpp-websocket on ``http_port``
    websocket = False
    process: subprocess.Popen | None = None

    def __init__(self, workdir: Path, users: list[str], archive: bool) -> None:
        self.workdir = workdir
        self.users = users
        self.archive = archive
        self.port = free_port()
        self.component_port = free_port()
        self.http_port = free_port()  # BOSH (and, for minixmpp, WebSocket and the API)

    @property
    def pid(self) -> int:
        assert self.process is not None
        return self.process.pid

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.process = None

    def __enter__(self) -> Server:
        try:
            self.start()
        except BaseException:
            self.stop()
            raise
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def start(self) -> None:
        raise NotImplementedError


class Minixmpp(Server):
    name = "minixmpp"
    title = "minixmpp"
    websocket = True
    #: No stanza capture (the status page's timeline, traffic()): a debugging aid
    #: neither peer keeps; its cost is measured on its own (``MinixmppCapture``).
    capture = ["--traffic", "0"]

    @staticmethod
    def available() -> bool:
        return True

    def start(self) -> None:
        """Listens on ports the kernel picks and reads them from the ready file (no
        race with parallel test workers for a port chosen in advance)."""
        import json

        config = self.workdir / "minixmpp.toml"
        config.write_text("user = [" + ", ".join(f'"{u}:{u}"' for u in self.users) + "]\n")
        ready = self.workdir / "minixmpp-ready.json"
        ready.unlink(missing_ok=True)
        twistd = [sys.executable, "-c", "from twisted.scripts.twistd import run; run()"]
        args = twistd + [
            "-n", "--pidfile=", "minixmpp", "--config", str(config), "--no-tls",
            "--c2s", "tcp:0:interface=127.0.0.1:backlog=1024", "--c2s-tls", "off",
            "--components", "tcp:0:interface=127.0.0.1",
            "--component", f"{COMPONENT}:{SECRET}",
            "--http", "tcp:0:interface=127.0.0.1", "--ready-file", str(ready),
            "--auth-fail-limit", "1000000", "--max-connections", "50000",
            # No line per publish or per session bound and ended, as Prosody and ejabberd
            # run here at log level warn(ing).
            "--push-quiet", "--session-quiet", *self.capture,
            # Prosody's MUC has no per-occupant rate limit unless mod_muc_limits is loaded.
            "--muc-rate", "0"]
        if not self.archive:
            args.append("--no-archive")
        log = (self.workdir / "minixmpp.log").open("ab")
        self.process = subprocess.Popen(args, cwd=self.workdir, stdout=log,
                                        stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 20
        while not ready.exists():
            if self.process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"minixmpp did not start; see {log.name}")
            time.sleep(0.02)
        info = json.loads(ready.read_text())
        self.port, self.component_port, self.http_port = (
            info["c2s"], info["components"], info["http"])


class MinixmppCapture(Minixmpp):
    """minixmpp as it runs by default, keeping the last stanzas for the status page
    and ``traffic()`` (``--peers capture``): beside ``Minixmpp``, the capture's cost."""

    name = "capture"
    title = "minixmpp, capture on"
    capture: list[str] = []

    @staticmethod
    def why_not() -> str | None:
        return None


PROSODY_CONFIG = """
pidfile = "{dir}/prosody.pid"
data_path = "{dir}/data"
daemonize = false
log = {{ warn = "{dir}/prosody.log" }}
interfaces = {{ "127.0.0.1" }}
c2s_ports = {{ {port} }}
c2s_direct_tls_ports = {{ }}
legacy_ssl_ports = {{ }}
s2s_ports = {{ }}
component_ports = {{ {component_port} }}
component_interface = "127.0.0.1"
http_ports = {{ {http_port} }}
http_interfaces = {{ "127.0.0.1" }}
http_default_host = "{domain}"
https_ports = {{ }}
admin_socket = "{dir}/prosody.sock"
modules_enabled = {{ "roster", "saslauth", "disco", "ping", "carbons", "smacks", "csi_simple",
                    "cloud_notify", "offline", "pep", "websocket", "bosh"{mam} }}
modules_disabled = {{ "tls", "s2s" }}
c2s_require_encryption = false
allow_unencrypted_plain_auth = true
authentication = "internal_hashed"
default_storage = "memory"
storage = {{ accounts = "internal" }}
archive_expires_after = "never"
limits = {{ c2s = {{ rate = "100mb/s" }} }}
VirtualHost "{domain}"
Component "{component}"
  component_secret = "{secret}"
Component "conference.{domain}" "muc"
  modules_enabled = {{ {muc_mam} }}
  muc_room_default_history_length = 20
Component "{pubsub}" "pubsub"
  admins = {{ "{pubsub_creator}@{domain}" }}
"""


class Prosody(Server):
    name = "prosody"
    title = "Prosody"
    websocket = True  # mod_websocket, at /xmpp-websocket on the http port

    @staticmethod
    def why_not() -> str | None:
        """None when this peer can run here, else why not."""
        if shutil.which("prosody") is None or shutil.which("prosodyctl") is None:
            return "prosody is not installed (--install-prosody installs Debian's)"
        return None

    @classmethod
    def available(cls) -> bool:
        return cls.why_not() is None

    def start(self) -> None:
        """Accounts are registered with ``prosodyctl`` once per run (one Lua start per
        account) and their files copied into every later server's data directory."""
        directory = self.workdir / "prosody"
        accounts = directory / "data" / DOMAIN / "accounts"
        template = self.workdir.parent / "prosody-accounts"
        accounts.parent.mkdir(parents=True, exist_ok=True)
        self.workdir.chmod(0o755)
        self.http_port = free_port()
        config = directory / "prosody.cfg.lua"
        config.write_text(PROSODY_CONFIG.format(
            dir=directory, port=self.port, component_port=self.component_port,
            http_port=self.http_port, domain=DOMAIN, component=COMPONENT, secret=SECRET,
            pubsub=PUBSUB, pubsub_creator=PUBSUB_CREATOR,
            mam=', "mam"' if self.archive else "",
            muc_mam='"muc_mam"' if self.archive else ""))
        if template.exists():
            shutil.copytree(template, accounts)
        else:
            accounts.mkdir()
        prefix = run_as("prosody", directory)
        if not template.exists():
            for name in self.users:
                subprocess.run(prefix + ["prosodyctl", "--config", str(config), "register",
                                         name, DOMAIN, name], check=True, capture_output=True)
            shutil.copytree(accounts, template)
        log = (directory / "stdout.log").open("ab")
        self.process = subprocess.Popen(prefix + ["prosody", "--config", str(config)],
                                        stdout=log, stderr=subprocess.STDOUT)
        wait_port(self.port)
        wait_port(self.http_port)
        time.sleep(0.3)
        self._pid = self.process.pid  # setpriv execs prosody in place

    @property
    def pid(self) -> int:
        return self._pid


# ejabberd 23.01 options (docs.ejabberd.im, "Top-Level Options", "Listen Modules",
# "Listen Options", "Modules Options"; the ReST API from "Simple Configuration" and
# "API Permissions"). YAML; {{}} is an empty map.
EJABBERD_CONFIG = """\
loglevel: warning
hosts: [{domain}]
auth_method: [mnesia]
auth_password_format: scram
auth_scram_hash: sha
shaper_rules:
  max_user_sessions: 1000000
  max_user_offline_messages: 1000000
api_permissions:
  "benchmark accounts, from loopback only":
    from: [mod_http_api]
    who:
      ip: 127.0.0.1/8
    what: [register]
listen:
  -
    port: {port}
    ip: 127.0.0.1
    module: ejabberd_c2s
    backlog: 1024
    max_stanza_size: 10485760
    shaper: none
    starttls: false
  -
    port: {component_port}
    ip: 127.0.0.1
    module: ejabberd_service
    hosts:
      {component}:
        password: {secret}
  -
    port: {http_port}
    ip: 127.0.0.1
    module: ejabberd_http
    request_handlers:
      /api: mod_http_api
      /xmpp-websocket: ejabberd_http_ws
      /http-bind: mod_bosh
modules:
  mod_bosh: {{}}
  mod_caps: {{}}
  mod_carboncopy: {{}}
  mod_client_state: {{}}
  mod_disco: {{}}
  mod_http_api: {{}}
  mod_muc:
    history_size: 20
    default_room_options:
      mam: {room_mam}
  mod_offline:
    access_max_user_messages: max_user_offline_messages
  mod_ping: {{}}
  mod_pubsub:
    hosts: [{pubsub}]
    access_createnode: all
    plugins: [flat, pep]
  mod_push: {{}}
  mod_push_keepalive: {{}}
  mod_roster: {{}}
  mod_stream_mgmt: {{}}
{mam}"""

# Read by ejabberdctl (--config-dir): node name, cookie, distribution on one loopback
# port with no epmd (ERL_DIST_PORT), and schedulers that sleep when idle instead of
# spinning, so the CPU column counts work and the generator keeps its core.
EJABBERDCTL_CONFIG = """\
ERLANG_NODE={node}
ERL_DIST_PORT={dist_port}
ERL_MAX_PORTS=65536
ERL_OPTIONS="-setcookie {cookie} -kernel inet_dist_use_interface {{127,0,0,1}} \
+sbwt none +sbwtdcpu none +sbwtdio none"
"""

EJABBERDCTL = "/usr/sbin/ejabberdctl"


class Ejabberd(Server):
    name = "ejabberd"
    title = "ejabberd"
    websocket = True  # ejabberd_http_ws, at /xmpp-websocket on the http port

    @staticmethod
    def why_not() -> str | None:
        """None when this peer can run here, else why not."""
        if not Path(EJABBERDCTL).exists() or shutil.which("erl") is None:
            return "ejabberd is not installed (--install-ejabberd installs Debian's)"
        if os.geteuid() != 0:
            # ejabberdctl runs only as root or as the ejabberd user.
            try:
                if pwd.getpwuid(os.geteuid()).pw_name != "ejabberd":
                    return "ejabberdctl runs only as root or as the ejabberd user"
            except KeyError:
                return "ejabberdctl runs only as root or as the ejabberd user"
        return None

    @classmethod
    def available(cls) -> bool:
        return cls.why_not() is None

    def start(self) -> None:
        """``ejabberdctl foreground`` with a private config, node, cookie and spool; the
        accounts go in through the ReST API (one HTTP request each, no Erlang VM per
        account as ``ejabberdctl register`` would start)."""
        directory = self.workdir / "ejabberd"
        config, spool, logs = directory / "config", directory / "spool", directory / "logs"
        for path in (config, spool, logs):
            path.mkdir(parents=True, exist_ok=True)
        self.workdir.chmod(0o755)
        self.http_port = free_port()
        (config / "ejabberd.yml").write_text(EJABBERD_CONFIG.format(
            domain=DOMAIN, port=self.port, component_port=self.component_port,
            http_port=self.http_port, component=COMPONENT, secret=SECRET, pubsub=PUBSUB,
            room_mam="true" if self.archive else "false",
            mam="  mod_mam:\n    default: always\n" if self.archive else ""))
        (config / "ejabberdctl.cfg").write_text(EJABBERDCTL_CONFIG.format(
            node=f"ejabberd-bench-{os.getpid()}-{self.port}@localhost",
            dist_port=free_port(), cookie=secrets.token_hex(16)))
        (config / "inetrc").write_text('{lookup, ["file", "native"]}.\n'
                                       '{host, {127,0,0,1}, ["localhost"]}.\n')
        prefix = run_as("ejabberd", directory)
        log = (directory / "stdout.log").open("ab")
        self.process = subprocess.Popen(
            prefix + [EJABBERDCTL, "--config-dir", str(config), "--logs", str(logs),
                      "--spool", str(spool), "foreground"],
            stdout=log, stderr=subprocess.STDOUT, cwd=spool,
            env={**os.environ, "HOME": str(spool)})
        deadline = time.monotonic() + 60
        while not self._register(self.users[0]):
            if self.process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"ejabberd did not start; see {log.name} and {logs}")
            time.sleep(0.2)
        for user in self.users[1:]:
            self._register(user)
        wait_port(self.port)
        wait_port(self.component_port)
        beam = descendant(self.process.pid, "beam.smp")
        if beam is None:
            raise RuntimeError("ejabberd runs, but no beam.smp under ejabberdctl")
        self._pid = beam

    def _register(self, user: str) -> bool:
        """POST /api/register; False while nothing listens yet."""
        request = urllib.request.Request(
            f"http://127.0.0.1:{self.http_port}/api/register",
            json.dumps({"user": user, "host": DOMAIN, "password": user}).encode(),
            {"Content-Type": "application/json"})
        try:
            with urllib.request.urlopen(request, timeout=30) as reply:
                reply.read()
        except urllib.error.HTTPError as error:
            raise RuntimeError(f"ejabberd register {user}: {error.read()[:300]!r}") from None
        except (urllib.error.URLError, ConnectionError):
            return False
        return True

    @property
    def pid(self) -> int:
        return self._pid

    def stop(self) -> None:
        """SIGTERM to the Erlang VM: init:stop(), ejabberd's own orderly shutdown
        (ejabberdctl, the parent, is a shell that waits for it)."""
        if self.process is not None and self.process.poll() is None:
            beam = getattr(self, "_pid", None) or descendant(self.process.pid, "beam.smp")
            try:
                os.kill(beam or self.process.pid, signal.SIGTERM)
            except ProcessLookupError:
                pass
            try:
                self.process.wait(30)
            except subprocess.TimeoutExpired:
                if beam:
                    os.kill(beam, signal.SIGKILL)
                self.process.kill()
                self.process.wait()
        self.process = None
