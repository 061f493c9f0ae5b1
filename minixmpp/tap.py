"""twistd integration: ``twistd -n minixmpp [options]`` (see ``twistd minixmpp --help``)."""

from __future__ import annotations

import gc
import sys
from typing import Any

from twisted.application import service
from twisted.python import usage

from minixmpp.config import OPTIONS, ConfigError, Settings, attr


def _describe(default: Any) -> str:
    if default in (None, (), False):
        return ""
    if isinstance(default, tuple):
        default = ", ".join(default)
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


def _repeatable(name: str, help: str) -> Any:
    """``--NAME VALUE``, repeatable: each value is appended (the option's own help)."""
    def opt(self: Options, value: str) -> None:
        self[name].append(value)

    opt.__doc__ = help
    return opt


for _option in OPTIONS:  # list options take their --help text from the one declaration
    if _option.kind == "list":
        setattr(Options, f"opt_{attr(_option.name)}",
                _repeatable(_option.name, _option.help + _describe(_option.default)))


def _fail(message: str, status: int) -> None:
    sys.stderr.write(f"minixmpp: error: {message}\n")
    raise SystemExit(status)


def makeService(options: Options) -> service.IService:
    """Build the server for twistd (the reactor is installed by now)."""
    from twisted.internet import reactor

    from minixmpp.server import Server

    try:
        built = Server(options.settings, reactor)
    except ConfigError as e:
        _fail(str(e), 2)
        raise
    # The modules and the server just built live as long as the process: frozen out of
    # the cyclic collector's sight, no full collection walks them again (gc.freeze).
    gc.freeze()
    return built
