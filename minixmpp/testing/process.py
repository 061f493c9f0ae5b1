"""The real ``twistd -n minixmpp`` in a subprocess, for clients in other processes.

It listens on ports the kernel picks (``tcp:0``) and says which in its ``--ready-file``:
no port is chosen before it is bound, so parallel test processes (pytest-xdist) never
race for one."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

from minixmpp.c2s.tls import self_signed


def free_port() -> int:
    """A port free right now (another process may take it before it is used: prefer
    listening on port 0 and reading the port actually used)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class ProcessServer:
    """Runs twistd with its own certificate, free ports and the HTTP control API."""

    __test__ = False

    def __init__(self, directory: Path, domain: str = "localhost",
                 users: tuple[str, ...] = ("alice:alice", "bob:bob"),
                 extra: tuple[str, ...] = ()) -> None:
        self.directory = Path(directory)
        self.domain = domain
        self.host = "127.0.0.1"
        self.port = 0  # known once started (from the ready file)
        self.http_port = 0
        self.users = users
        self.extra = extra
        self.cert_file = self.directory / "minixmpp-cert.pem"
        self.key_file = self.directory / "minixmpp-key.pem"
        self.log_file = self.directory / "minixmpp.log"
        self.ready_file = self.directory / "minixmpp-ready.json"
        self.ready: dict = {}
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def http_url(self) -> str:
        return f"http://127.0.0.1:{self.http_port}"

    @property
    def tls_certificate(self) -> bytes:
        return self.cert_file.read_bytes()

    def command(self) -> list[str]:
        args = [sys.executable, "-c", "from twisted.scripts.twistd import run; run()",
                "-n", "--pidfile=", "minixmpp", "--domain", self.domain,
                "--c2s", f"tcp:{self.port}:interface=127.0.0.1", "--c2s-tls", "off",
                "--http", f"tcp:{self.http_port}:interface=127.0.0.1",
                "--ready-file", str(self.ready_file),
                "--tls-cert", str(self.cert_file), "--tls-key", str(self.key_file)]
        for user in self.users:
            args += ["--user", user]
        return args + list(self.extra)

    def start(self, timeout: float = 20) -> None:
        if not self.cert_file.exists():
            cert, key = self_signed(self.domain)
            self.key_file.touch(mode=0o600)
            self.key_file.write_bytes(key)
            self.cert_file.write_bytes(cert)
        # The log goes straight to a file: a pipe nobody reads would fill up and stall
        # the server once it has logged 64 KiB.
        offset = self.log_file.stat().st_size if self.log_file.exists() else 0
        self.ready_file.unlink(missing_ok=True)
        with self.log_file.open("ab") as log:
            self.process = subprocess.Popen(self.command(), cwd=self.directory, stdout=log,
                                            stderr=subprocess.STDOUT,
                                            env={**os.environ, "PYTHONUNBUFFERED": "1"})
        deadline = time.monotonic() + timeout
        while True:
            if self.ready_file.exists():
                self.ready = json.loads(self.ready_file.read_text())
                # a restart (crash tests) keeps the ports it had
                self.port, self.http_port = self.ready["c2s"], self.ready["http"]
                return
            text = self.log_file.read_bytes()[offset:]
            if self.process.poll() is not None:
                raise RuntimeError(f"minixmpp exited at start:\n{text.decode()}")
            if time.monotonic() > deadline:
                self.stop()
                raise RuntimeError(f"minixmpp did not start in {timeout} s:\n{text.decode()}")
            time.sleep(0.02)

    def kill(self) -> None:
        """SIGKILL: the server gets no chance to clean up (crash tests)."""
        if self.process is not None:
            self.process.kill()
            self.process.wait()
            self.process = None

    def stop(self, timeout: float = 10) -> int | None:
        if self.process is None:
            return None
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        code = self.process.returncode
        self.process = None
        return code
