"""twistd integration: ``twistd -n minixmpp [options]`` (see ``twistd minixmpp --help``)."""

from __future__ import annotations

import sys
from typing import Any

from twisted.application import service
from twisted.python import usage

from minixmpp.config import OPTIONS, ConfigError, Settings, attr


def _describe(default: Any) -> str:
    if default in (None, (), False):
        return ""
    return f" [default: {default}]"


class Options(usage.Options):
    """Command line options; each one is also a key of the ``--config`` TOML file."""

    optFlags = [[o.name, None, o.help] for o in OPTIONS if o.kind == "flag"]
    optParameters = [[o.name, None, None, o.help + _describe(o.default)]
                     for o in OPTIONS if o.kind in ("str", "int")]
    longdesc = ("A small, complete XMPP server for development and end-to-end tests. "
                "Without options it serves 'localhost' on 127.0.0.1:5222 with demo accounts "
                "alice/alice and bob/bob.")

    def __init__(self) -> None:
        super().__init__()
        for option in OPTIONS:
            if option.kind == "list":
                self[option.name] = []

    def getSynopsis(self) -> str:
        if sys.argv and sys.argv[0] == "minixmpp":  # the plain command (minixmpp.__main__)
            return "Usage: minixmpp [options]"
        return super().getSynopsis()

    def opt_user(self, value: str) -> None:
        """account NAME:PASSWORD, repeatable; without any, demo accounts are created"""
        self["user"].append(value)

    def opt_component(self, value: str) -> None:
        """external component NAME:SECRET (XEP-0114), repeatable"""
        self["component"].append(value)

    def opt_http_host(self, value: str) -> None:
        """another host name the HTTP listener answers to (Host header), repeatable"""
        self["http-host"].append(value)

    def opt_http_origins(self, value: str) -> None:
        """browser origin allowed by CORS, repeatable [default: every origin]"""
        self["http-origins"].append(value)

    def opt_stun(self, value: str) -> None:
        """STUN server HOST:PORT announced by XEP-0215, repeatable"""
        self["stun"].append(value)

    def opt_turn(self, value: str) -> None:
        """TURN server HOST:PORT:SECRET (coturn use-auth-secret) for XEP-0215, repeatable"""
        self["turn"].append(value)
    def opt_contact_address(self, value: str) -> None:
        """contact address KIND=URI of the service (XEP-0157; KIND: abuse, admin,
        feedback, sales, security, status, support), repeatable"""
        self["contact-address"].append(value)

    def parseOptions(self, options: Any = None) -> None:
        """Parse; any problem is one line on stderr and exit status 2 (no usage dump)."""
        try:
            super().parseOptions(options)
        except usage.UsageError as e:
            _fail(str(e), 2)

    def postOptions(self) -> None:
        cli: dict[str, Any] = {}
        for option in OPTIONS:
            value = self.get(option.name)
            if option.kind == "flag":
                value = True if value else None
            elif option.kind == "int" and value is not None:
                try:
                    value = int(value)
                except ValueError:
                    _fail(f"--{option.name} must be an integer, not {value!r}", 2)
            elif option.kind == "list":
                value = tuple(value or ())
            cli[attr(option.name)] = value
        try:
            self.settings = Settings.build(cli)
        except ConfigError as e:
            _fail(str(e), 2)


def _fail(message: str, status: int) -> None:
    sys.stderr.write(f"minixmpp: error: {message}\n")
    raise SystemExit(status)


def makeService(options: Options) -> service.IService:
    """Build the server for twistd (the reactor is installed by now)."""
    from twisted.internet import reactor

    from minixmpp.server import Server

    try:
        return Server(options.settings, reactor)
    except ConfigError as e:
        _fail(str(e), 2)
        raise
