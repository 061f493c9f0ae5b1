"""The command line: the README's run command, --help, TOML config and clear errors."""

from __future__ import annotations

import asyncio
import os
import re
import signal
import socket
import subprocess
import sys
import zipfile
from dataclasses import fields
from pathlib import Path
from typing import Any

import pytest

from minixmpp.config import OPTIONS, ConfigError, Settings
from tests.helpers import Remote, close, login

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
TWISTD = str(BIN / "twistd")


def run_twistd(*args: str, cwd: Path, timeout: float = 30) -> subprocess.CompletedProcess:
    return subprocess.run([TWISTD, "-n", "--pidfile=", "minixmpp", *args], cwd=cwd,
                          capture_output=True, text=True, timeout=timeout)


def readme_run_command() -> list[str]:
    """The server command of the README's first set-up block (its last ``&&`` part)."""
    text = (ROOT / "README.md").read_text()
    block = re.search(r"```sh\n(.*?)```", text, re.S)
    assert block, "README has a ```sh block with the set-up commands"
    first = block.group(1).strip().splitlines()[0]
    command = first.split("&&")[-1].strip().split()
    assert command[0].endswith("/minixmpp"), "the README starts the plain console script"
    return command


def port_free(port: int) -> bool:
    with socket.socket() as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as Twisted listens
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


async def start_twistd(executable: str, *args: str, cwd: Path) -> tuple[Any, str]:
    """Start twistd; return the process and its log up to the "connect a client" line."""
    proc = await asyncio.create_subprocess_exec(
        executable, *args, cwd=cwd, stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT)
    output = b""
    try:
        while b"connect a client to" not in output:
            line = await asyncio.wait_for(proc.stdout.readline(), 15)
            assert line, output.decode()
            output += line
    except BaseException:
        if proc.returncode is None:  # never leave a server behind holding its ports
            proc.kill()
            await proc.wait()
        raise
    return proc, output.decode()


@pytest.mark.launch
async def test_readme_run_command_serves_real_clients(tmp_path: Path) -> None:
    command = readme_run_command()
    if not (port_free(5222) and port_free(5223) and port_free(5280)):
        pytest.skip("port 5222, 5223 or 5280 is taken by another process on this machine; the "
                    "README's command uses the default ports")
    executable = str(BIN / Path(command[0]).name)  # the README runs it from the venv
    proc, text = await start_twistd(executable, *command[1:], cwd=tmp_path)
    try:
        assert "alice@localhost (password 'alice')" in text
        assert "127.0.0.1:5222" in text
        assert "Direct TLS (XEP-0368, ALPN xmpp-client) on 127.0.0.1:5223" in text
        server = Remote(5222)
        alice = await login(server, "alice", "alice")
        bob = await login(server, "bob", "bob")
        alice.send_message(mto="bob@localhost", mbody="from the README", mtype="chat")
        assert (await bob.next_message())["body"] == "from the README"
        await close(alice, bob)
    finally:
        proc.send_signal(signal.SIGINT)  # Ctrl-C, as the README says
        rest = await asyncio.wait_for(proc.communicate(), 15)
    # twistd shuts down cleanly, then re-raises the signal on itself (Unix convention).
    assert proc.returncode in (0, -signal.SIGINT)
    assert b"Server Shut Down." in rest[0]
    assert b"Traceback" not in text.encode() + rest[0]
    assert not (tmp_path / "twistd.pid").exists()


@pytest.mark.launch
def test_help_lists_every_option_with_its_default(tmp_path: Path) -> None:
    result = subprocess.run([TWISTD, "minixmpp", "--help"], cwd=tmp_path, capture_output=True,
                            text=True)
    assert result.returncode == 0
    flat = " ".join(result.stdout.split())
    for option in OPTIONS:
        assert f"--{option.name}" in flat
        if option.default not in (None, (), False):
            default = option.default
            if isinstance(default, tuple):
                default = ", ".join(default)
            assert f"[default: {default}]" in flat, option.name


@pytest.mark.launch
@pytest.mark.parametrize("args, message", [
    (["--bogus"], "option --bogus not recognized"),
    (["--user", "nocolon"], "expected NAME:PASSWORD"),
    (["--user", "a b@:x"], "not a valid username"),
    (["--c2s", "nonsense:1"], "not a valid endpoint"),
    (["--c2s", "tcp:notaport"], "not a valid endpoint"),
    (["--domain", "a@b"], "must be a bare domain"),
    (["--tls-cert", "/nonexistent.pem", "--tls-key", "/nonexistent.key"], "not readable"),
    (["--tls-cert", "/etc/hostname"], "must be given together"),
    (["--plain-without-tls", "sometimes"], "loopback, always or never"),
    (["--max-stanza-size", "big"], "must be an integer"),
    (["--config", "/nonexistent.toml"], "--config /nonexistent.toml"),
    (["--no-archive", "--push-on-archive"], "--no-archive and --push-on-archive contradict"),
])
def test_bad_configuration_is_one_clear_line(tmp_path: Path, args: list[str],
                                             message: str) -> None:
    result = run_twistd(*args, cwd=tmp_path)
    assert result.returncode != 0
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("minixmpp: error: "), result.stderr
    assert message in lines[0]
    assert "Traceback" not in result.stdout + result.stderr


@pytest.mark.launch
def test_unusable_certificate_is_one_clear_line(tmp_path: Path) -> None:
    (tmp_path / "c.pem").write_text("not a certificate")
    (tmp_path / "k.pem").write_text("not a key")
    result = run_twistd("--tls-cert", "c.pem", "--tls-key", "k.pem", cwd=tmp_path)
    assert result.returncode != 0
    assert result.stderr.strip().startswith("minixmpp: error: --tls-cert")
    assert "Traceback" not in result.stdout + result.stderr


@pytest.mark.launch
def test_port_in_use_is_one_clear_line(tmp_path: Path) -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        result = run_twistd("--c2s", f"tcp:{port}:interface=127.0.0.1", cwd=tmp_path)
    assert result.returncode != 0
    assert "cannot listen" in result.stderr and "Address already in use" in result.stderr
    assert "Traceback" not in result.stdout + result.stderr


@pytest.mark.launch
def test_bad_toml_is_one_clear_line(tmp_path: Path) -> None:
    (tmp_path / "bad.toml").write_text("domain = \n")
    result = run_twistd("--config", "bad.toml", cwd=tmp_path)
    assert result.returncode != 0 and "not valid TOML" in result.stderr
    (tmp_path / "unknown.toml").write_text("colour = 'blue'\n")
    result = run_twistd("--config", "unknown.toml", cwd=tmp_path)
    assert result.returncode != 0 and "unknown setting 'colour'" in result.stderr


@pytest.mark.launch
async def test_toml_config_is_read_and_command_line_wins(tmp_path: Path) -> None:
    (tmp_path / "minixmpp.toml").write_text(
        'domain = "example.test"\nuser = ["dave:pw1"]\nplain-without-tls = "always"\n'
        'c2s = "tcp:1:interface=127.0.0.1"\n')
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    proc, text = await start_twistd(
        TWISTD, "-n", "--pidfile=", "minixmpp", "--config", "minixmpp.toml",
        "--c2s", f"tcp:{port}:interface=127.0.0.1", "--no-http", "--c2s-tls", "off",
        cwd=tmp_path)
    try:
        assert f"serving example.test on 127.0.0.1:{port}" in text
        assert "accounts: dave@example.test" in text and "alice" not in text
    finally:
        proc.send_signal(signal.SIGTERM)
        await asyncio.wait_for(proc.communicate(), 15)


@pytest.mark.launch
@pytest.mark.skipif(os.environ.get("MINIXMPP_SKIP_WHEEL") == "1",
                    reason="MINIXMPP_SKIP_WHEEL=1 set (building a wheel needs the build backend)")
def test_wheel_ships_the_plugin_but_no_plugins_init(tmp_path: Path) -> None:
    result = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w",
                             str(tmp_path), str(ROOT)], capture_output=True, text=True,
                            timeout=300)
    assert result.returncode == 0, result.stderr
    wheel = next(tmp_path.glob("minixmpp-*.whl"))
    names = zipfile.ZipFile(wheel).namelist()
    assert "twisted/plugins/minixmpp_plugin.py" in names
    assert "twisted/plugins/__init__.py" not in names
    assert "minixmpp/_compat.py" in names


def test_ci_runs_the_readme_test_command() -> None:
    text = (ROOT / "README.md").read_text()
    block = re.search(r"```sh\n(.*?)```", text, re.S)
    assert block
    test_command = block.group(1).strip().splitlines()[1].strip()
    assert "pytest" in test_command
    assert test_command in (ROOT / ".ci" / "run").read_text()


def test_readme_option_table_lists_every_option() -> None:
    text = (ROOT / "README.md").read_text()
    table = text[text.index("## Options"):]
    for option in OPTIONS:
        assert f"`--{option.name}" in table, option.name


def test_settings_fields_are_the_options_with_their_defaults() -> None:
    """OPTIONS is the one declaration: Settings has exactly its fields, in its order,
    with its defaults (plus the parsed values)."""
    derived = {"component_secrets", "accounts", "demo_accounts", "stun_servers",
               "turn_servers", "contact_addresses", "disabled", "domain", "users",
               "auth_modes", "auth_mode"}
    names = [f.name for f in fields(Settings) if f.name not in derived]
    assert names == [o.field for o in OPTIONS]
    defaults = Settings()
    for option in OPTIONS:
        assert getattr(defaults, option.field) == option.default, option.name


def test_contradicting_options_are_refused_in_toml_too(tmp_path: Path) -> None:
    config = tmp_path / "minixmpp.toml"
    config.write_text("no-archive = true\npush-on-archive = true\n")
    with pytest.raises(ConfigError, match="--no-archive and --push-on-archive contradict"):
        Settings.build({"config": str(config)})
    assert Settings.build({"no_archive": True}).no_archive  # each alone is fine
    assert Settings.build({"push_on_archive": True}).push_on_archive


PLAIN_COMMANDS = {"minixmpp": [str(BIN / "minixmpp")],
                  "python -m minixmpp": [sys.executable, "-m", "minixmpp"]}


@pytest.mark.launch
@pytest.mark.parametrize("command, sig", [
    ("minixmpp", signal.SIGINT), ("python -m minixmpp", signal.SIGTERM)],
    ids=["script-SIGINT", "module-SIGTERM"])
async def test_plain_command_serves_clients_and_stops_cleanly(tmp_path: Path, command: str,
                                                              sig: int) -> None:
    """``minixmpp`` / ``python -m minixmpp`` on a free port: the ready file says where;
    a login and a message; then a signal stops it with streams closed, no traceback."""
    import json

    ready = tmp_path / "ready.json"
    executable, *args = PLAIN_COMMANDS[command]
    proc, text = await start_twistd(
        executable, *args, "--c2s", "tcp:0:interface=127.0.0.1", "--c2s-tls",
        "tcp:0:interface=127.0.0.1", "--http", "tcp:0", "--ready-file", str(ready),
        cwd=tmp_path)
    try:
        info = json.loads(ready.read_text())
        assert f"serving localhost on 127.0.0.1:{info['c2s']}" in text
        assert info["host"] == "127.0.0.1" and info["domain"] == "localhost"
        assert info["http_url"] == f"http://127.0.0.1:{info['http']}"
        assert info["push_jid"] == "push.localhost" and info["components"] is None
        assert info["tls_certificate"].startswith("-----BEGIN CERTIFICATE-----")
        server = Remote(info["c2s"], cert_pem=info["tls_certificate"].encode())
        alice = await login(server, "alice", tls=True)
        bob = await login(server, "bob")
        alice.send_message(mto="bob@localhost", mbody="plain command", mtype="chat")
        assert (await bob.next_message())["body"] == "plain command"
        closed = asyncio.ensure_future(alice.wait_until("disconnected", 10))
    finally:
        proc.send_signal(sig)
        try:
            rest = await asyncio.wait_for(proc.communicate(), 15)
        except TimeoutError:
            proc.kill()
            await proc.wait()
            raise
    await closed  # the server closed alice's stream on the way down
    assert "system-shutdown" in alice.stream_errors
    await close(bob)
    assert proc.returncode in (0, -sig)
    assert b"Server Shut Down." in rest[0]
    assert b"Traceback" not in text.encode() + rest[0]
    assert not ready.exists(), "the ready file goes when the server stops"
    assert not (tmp_path / "twistd.pid").exists()


@pytest.mark.launch
def test_plain_command_has_the_same_options_and_one_line_errors(tmp_path: Path) -> None:
    """The console script's help lists every option; both commands fail in one line
    (every error message itself is tested through twistd above: the same code)."""
    help_text = subprocess.run([*PLAIN_COMMANDS["minixmpp"], "--help"], cwd=tmp_path,
                               capture_output=True, text=True, timeout=60)
    assert help_text.returncode == 0 and help_text.stdout.startswith("Usage: minixmpp")
    flat = " ".join(help_text.stdout.split())
    assert all(f"--{option.name}" in flat for option in OPTIONS)
    for command, args, message in [
            ("minixmpp", ["--bogus"], "option --bogus not recognized"),
            ("python -m minixmpp", ["--user", "nocolon"], "expected NAME:PASSWORD")]:
        result = subprocess.run([*PLAIN_COMMANDS[command], *args], cwd=tmp_path,
                                capture_output=True, text=True, timeout=60)
        assert result.returncode == 2
        lines = result.stderr.strip().splitlines()
        assert lines == [lines[0]] and lines[0].startswith("minixmpp: error: ") and \
            message in lines[0], result.stderr


@pytest.mark.launch
def test_unwritable_ready_file_is_one_clear_line(tmp_path: Path) -> None:
    result = run_twistd("--c2s", "tcp:0:interface=127.0.0.1", "--c2s-tls",
                        "tcp:0:interface=127.0.0.1", "--http", "tcp:0:interface=127.0.0.1",
                        "--ready-file", str(tmp_path / "missing-dir" / "ready.json"),
                        cwd=tmp_path)
    assert result.returncode != 0
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("minixmpp: error: --ready-file"), \
        result.stderr
