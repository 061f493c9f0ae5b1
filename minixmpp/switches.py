"""What a served domain's settings switch: the features that are off (``--disable`` and the
older ``--no-*`` options) and how clients log in (``--auth``). Part of
:meth:`minixmpp.config.Settings.validate`."""

from __future__ import annotations

from typing import TYPE_CHECKING

from minixmpp.options import ConfigError, domain_jid, loopback

if TYPE_CHECKING:
    from minixmpp.config import Settings

#: ``--auth`` modes
AUTH_MODES = ("accounts", "anonymous", "any-password")


def auth_modes(self: Settings) -> dict[str, str]:
    """``--auth MODE`` or ``--auth DOMAIN=MODE``: every domain's mode."""
    modes = dict.fromkeys(self.domains, "accounts")
    for spec in self.auth:
        target, sep, mode = str(spec).rpartition("=")
        if mode not in AUTH_MODES:
            raise ConfigError(f"--auth {spec!r}: the mode must be {', '.join(AUTH_MODES)}")
        if not sep:
            modes = dict.fromkeys(self.domains, mode)
            continue
        domain = domain_jid("auth", target)
        if domain not in modes:
            raise ConfigError(f"--auth {spec!r}: {domain} is not a served domain "
                              f"({', '.join(self.domains)})")
        modes[domain] = mode
    open_modes = sorted({m for m in modes.values() if m != "accounts"})
    if open_modes and not self.allow_insecure_auth:
        exposed = [listener for listener in client_listeners(self)
                   if not loopback(listener)]
        if exposed:
            raise ConfigError(f"--auth {open_modes[0]} lets anyone log in: it needs "
                              f"loopback listeners (not {exposed[0]}) or "
                              "--allow-insecure-auth")
    return modes


def client_listeners(self: Settings) -> list[str]:
    """The endpoints clients log in through."""
    listeners = [self.c2s]
    if self.c2s_tls != "off" and "direct-tls" not in self.disabled:
        listeners.append(self.c2s_tls)
    if self.http and not {"websocket", "bosh"} <= self.disabled:
        listeners.append(self.http)
    return listeners


def disabled(self: Settings) -> frozenset[str]:
    """``--disable`` names, checked, with what the ``--no-*`` aliases switch off."""
    from minixmpp.features import ALIASES, NAMES, mechanisms

    for name in self.disable:
        if name not in NAMES:
            raise ConfigError(f"--disable {name!r}: not a feature; one of "
                              f"{', '.join(NAMES)}")
    disabled = set(self.disable)
    for flag, names in ALIASES.items():
        if getattr(self, flag):
            disabled.update(names)
    if self.registration == "off":
        disabled.add("register")
    if self.c2s_tls == "off":
        disabled.add("direct-tls")
    if self.require_tls and "starttls" in disabled:
        raise ConfigError("--disable starttls and --require-tls contradict each other "
                          "(no client could authenticate)")
    if not mechanisms(frozenset(disabled)):
        raise ConfigError("--disable leaves no SASL mechanism to log in with")
    return frozenset(disabled)
