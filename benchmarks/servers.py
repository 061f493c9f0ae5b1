"""The servers under test, each private, on loopback ports, in a temporary directory.

- :class:`Minixmpp`: ``twistd -n minixmpp`` with the benchmark accounts, a XEP-0114
  component for the external App Server and the HTTP API (to read push timings).
- :class:`Prosody`: Debian's ``prosody`` with its own config (memory storage except
  accounts, which ``prosodyctl`` must write to files), the same modules on, and
  ``mod_cloud_notify`` from ``prosody-modules``, ``mod_bosh`` on an HTTP port of its
  own. Never touches a system-wide service.
"""

from __future__ import annotations

import os
import pwd
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

DOMAIN = "localhost"
COMPONENT = "pushapp.localhost"
SECRET = "bench-secret"


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


class Server:
    name = ""
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
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def start(self) -> None:
        raise NotImplementedError


class Minixmpp(Server):
    name = "minixmpp"

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
            # No line per publish, as Prosody runs here at log level warn.
            "--push-quiet",
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
                    "cloud_notify", "offline", "pep", "bosh"{mam} }}
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
"""


class Prosody(Server):
    name = "prosody"

    @staticmethod
    def available() -> bool:
        return shutil.which("prosody") is not None and shutil.which("prosodyctl") is not None

    def start(self) -> None:
        directory = self.workdir / "prosody"
        (directory / "data" / DOMAIN / "accounts").mkdir(parents=True, exist_ok=True)
        self.workdir.chmod(0o755)
        config = directory / "prosody.cfg.lua"
        config.write_text(PROSODY_CONFIG.format(
            dir=directory, port=self.port, component_port=self.component_port,
            http_port=self.http_port,
            domain=DOMAIN, component=COMPONENT, secret=SECRET,
            mam=', "mam"' if self.archive else "",
            muc_mam='"muc_mam"' if self.archive else ""))
        run_as: list[str] = []
        if os.geteuid() == 0:
            # Prosody will not run as root: hand the directory to its own user.
            user = pwd.getpwnam("prosody")
            for path in [directory, *directory.rglob("*")]:
                os.chown(path, user.pw_uid, user.pw_gid)
            # setpriv, not runuser: runuser goes through PAM, which would cap the open
            # files at 1024 and stall Prosody past about a thousand sessions.
            run_as = ["setpriv", "--reuid", "prosody", "--regid", "prosody", "--init-groups"]
        for name in self.users:
            subprocess.run(run_as + ["prosodyctl", "--config", str(config), "register", name,
                                     DOMAIN, name], check=True, capture_output=True)
        log = (directory / "stdout.log").open("ab")
        self.process = subprocess.Popen(run_as + ["prosody", "--config", str(config)],
                                        stdout=log, stderr=subprocess.STDOUT)
        wait_port(self.port)
        time.sleep(0.3)
        self._pid = self.process.pid  # setpriv execs prosody in place

    @property
    def pid(self) -> int:
        return self._pid
