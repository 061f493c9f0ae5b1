"""Settings' declared checks (``option(..., min=1)``, ``choices=``, ``endpoint=``,
``domain=``, ``readable=``) and TOML types: each refusal is today's one line."""

from __future__ import annotations

import ast
import typing
from pathlib import Path

import pytest

from minixmpp import config
from minixmpp.config import OPTIONS, ConfigError, Settings
from minixmpp.tap import Options

KIND_TYPES = {"str": (str, str | None), "int": (int,), "flag": (bool,),
              "list": (tuple[str, ...],)}


def refusal(**given: object) -> str:
    with pytest.raises(ConfigError) as raised:
        Settings.build(given)
    message = str(raised.value)
    assert "\n" not in message
    return message


@pytest.mark.parametrize("given, message", [
    ({"max_offline": 0}, "--max-offline must be a positive integer"),
    ({"registration_limit": -3}, "--registration-limit must be a positive integer"),
    ({"muc_rate": -1}, "--muc-rate must be 0 or more"),
    ({"upload_quota": -1}, "--upload-quota must be 0 or more"),
    ({"max_stanza_size": 1023},
     "--max-stanza-size must be an integer of at least 1024 bytes"),
    ({"max_archive": "many"}, "--max-archive must be a positive integer"),
])
def test_below_the_minimum_is_refused(given: dict[str, object], message: str) -> None:
    assert refusal(**given) == message


def test_the_minimum_itself_is_accepted() -> None:
    settings = Settings.build({"max_offline": 1, "muc_rate": 0, "max_stanza_size": 1024})
    assert (settings.max_offline, settings.muc_rate, settings.max_stanza_size) == (1, 0, 1024)


@pytest.mark.parametrize("given, message", [
    ({"plain_without_tls": "sometimes"},
     "--plain-without-tls must be loopback, always or never, not 'sometimes'"),
    ({"registration": "closed"}, "--registration must be off, loopback or open, not 'closed'"),
    ({"push_profile": "openfire"}, "--push-profile must be one of minixmpp, tigase, prosody, "
                                   "ejabberd, mongooseim, not 'openfire'"),
])
def test_a_word_not_among_the_choices_is_refused(given: dict[str, object],
                                                 message: str) -> None:
    assert refusal(**given) == message


@pytest.mark.parametrize("given, message", [
    ({"c2s": "nonsense:1"},
     "--c2s 'nonsense:1' is not a valid endpoint: Unknown endpoint type: 'nonsense'"),
    ({"c2s_tls": "tcp:notaport"}, "--c2s-tls 'tcp:notaport' is not a valid endpoint (or off): "
                                  "invalid literal for int() with base 10: 'notaport'"),
    ({"components": "x"}, "--components 'x' is not a valid endpoint: Unknown endpoint type: 'x'"),
    # --http is checked as it will be used: loopback unless an interface is given
    ({"http": "tcp:notaport"}, "--http 'tcp:notaport:interface=127.0.0.1' is not a valid "
                               "endpoint: invalid literal for int() with base 10: 'notaport'"),
])
def test_a_bad_endpoint_is_refused(given: dict[str, object], message: str) -> None:
    assert refusal(**given) == message


def test_endpoints_that_are_off_are_not_checked() -> None:
    settings = Settings.build({"c2s_tls": "off", "no_http": True, "http": "tcp:notaport"})
    assert settings.c2s_tls == "off" and settings.http is None


@pytest.mark.parametrize("option", ["push_jid", "muc_jid", "upload_jid"])
def test_a_domain_jid_with_a_user_is_refused(option: str) -> None:
    assert refusal(**{option: "a@b"}) == f"--{option.replace('_', '-')} 'a@b' is not a valid " \
                                         "domain JID"


def test_a_domain_jid_is_prepared_and_defaults_follow_the_domain() -> None:
    settings = Settings.build({"domain": "Example.ORG", "push_jid": "PUSH.example.org"})
    assert settings.push_jid == "push.example.org"
    assert settings.muc_jid == "conference.example.org"
    assert settings.upload_jid == "upload.example.org"


def test_an_unreadable_certificate_is_refused(tmp_path: Path) -> None:
    key = tmp_path / "key.pem"
    key.write_text("a key")
    missing = tmp_path / "missing.pem"
    assert refusal(tls_cert=str(missing), tls_key=str(key)) == \
        f"--tls-cert {missing}: file not readable"
    # alone, it is the missing partner that is said first (as before the checks were declared)
    assert refusal(tls_cert=str(missing)) == "--tls-cert and --tls-key must be given together"


@pytest.mark.parametrize("line, message", [
    ("max-offline = '5'", "max-offline must be an integer"),
    ("max_offline = true", "max_offline must be an integer"),
    ("no-tls = 1", "no-tls must be true or false"),
    ("domain = 5", "domain must be a list of strings"),
    ("user = [1]", "user must be a list of strings"),
])
def test_a_toml_value_of_the_wrong_type_is_refused(tmp_path: Path, line: str,
                                                   message: str) -> None:
    config = tmp_path / "minixmpp.toml"
    config.write_text(line + "\n")
    assert refusal(config=str(config)) == f"--config {config}: {message}"


def test_a_toml_value_passes_the_same_checks(tmp_path: Path) -> None:
    config = tmp_path / "minixmpp.toml"
    config.write_text("max-offline = 0\n")
    assert refusal(config=str(config)) == "--max-offline must be a positive integer"


def test_the_command_line_says_a_declared_check_in_one_line(
        capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        Options().parseOptions(["--max-offline", "0"])
    assert exited.value.code == 2
    assert capsys.readouterr().err == \
        "minixmpp: error: --max-offline must be a positive integer\n"


def test_every_option_is_a_typed_field_of_settings() -> None:
    hints = typing.get_type_hints(Settings)
    for option in OPTIONS:
        assert hints[option.field] in KIND_TYPES[option.kind], option.name
    assert typing.Any not in hints.values()


def test_every_option_is_written_in_the_class_body() -> None:
    """What a type checker sees: each option an annotated ``option(...)`` field of
    ``Settings`` in the source, in the order of OPTIONS (nothing added at import)."""
    tree = ast.parse(Path(config.__file__).read_text(encoding="utf-8"))
    settings = next(node for node in tree.body
                    if isinstance(node, ast.ClassDef) and node.name == "Settings")
    declared = [node.target.id for node in settings.body
                if isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name)
                and isinstance(node.value, ast.Call)
                and getattr(node.value.func, "id", None) == "option"]
    assert declared == [option.field for option in OPTIONS]
