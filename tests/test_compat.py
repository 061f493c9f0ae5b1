"""wokkel 18.0.0 imports on the installed Twisted through minixmpp._compat."""

import importlib
import subprocess
import sys

import pytest

WOKKEL_MODULES = ["wokkel.subprotocols", "wokkel.disco", "wokkel.pubsub", "wokkel.data_form",
                  "wokkel.component", "wokkel.ping", "wokkel.iwokkel", "wokkel.generic",
                  "wokkel.delay", "wokkel.xmppim", "wokkel.muc", "wokkel.shim"]


@pytest.mark.parametrize("name", WOKKEL_MODULES)
def test_wokkel_module_imports_after_minixmpp(name: str) -> None:
    code = f"import minixmpp, {name}"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr


def test_compat_restores_exactly_the_missing_names() -> None:
    from twisted.python import compat as tcompat

    import minixmpp._compat as compat

    compat.install()
    compat.install()  # idempotent
    assert tcompat._PY3 is True
    constants = importlib.import_module("twisted.python.constants")
    assert hasattr(constants, "Values") and hasattr(constants, "ValueConstant")


def test_wokkel_data_form_works_on_current_twisted() -> None:
    from wokkel import data_form

    import minixmpp  # noqa: F401

    form = data_form.Form("submit", formNamespace="urn:example")
    form.addField(data_form.Field(var="x", value="1"))
    parsed = data_form.Form.fromElement(form.toElement())
    assert parsed.formNamespace == "urn:example" and parsed.getValues() == {"x": "1"}
