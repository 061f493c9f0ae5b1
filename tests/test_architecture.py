"""The house rules of docs/architecture.md, checked on the source: small modules, the
composition root imported only by the entry points, every namespace defined once."""

from __future__ import annotations

import ast
import re
from pathlib import Path

PACKAGE = Path(__file__).resolve().parent.parent / "minixmpp"
ENTRY_POINTS = {"tap.py", "__main__.py", "server.py"}
#: XML namespace strings as they appear in minixmpp (XEPs, RFC 6120/6121, Tigase)
NAMESPACE = re.compile(r"^(urn:(xmpp|ietf):|http://jabber\.org/|jabber:|vcard-temp|"
                       r"tigase:|http://etherx\.jabber\.org/|storage:|eu\.siacs\.)")


def modules() -> list[Path]:
    return sorted(PACKAGE.rglob("*.py"))


def test_no_module_is_over_500_lines_and_none_in_muc_over_400() -> None:
    too_long = {str(p.relative_to(PACKAGE)): n for p in modules()
                if (n := len(p.read_text().splitlines())) > (400 if "muc" in p.parts else 500)}
    assert too_long == {}


def test_only_the_entry_points_import_the_composition_root() -> None:
    importers = set()
    for path in modules():
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom) and node.module == "minixmpp.server":
                importers.add(str(path.relative_to(PACKAGE)))
    assert importers <= {"tap.py", "__main__.py", "testing/fixture.py"}, importers
    assert "testing/fixture.py" in importers  # the check sees imports at all


def test_every_namespace_string_is_defined_once_in_ns_py() -> None:
    spelled: dict[str, list[str]] = {}
    for path in modules():
        tree = ast.parse(path.read_text())
        docstrings = {id(n.body[0].value) for n in ast.walk(tree)
                      if isinstance(n, ast.Module | ast.ClassDef | ast.FunctionDef)
                      and n.body and isinstance(n.body[0], ast.Expr)}
        for node in ast.walk(tree):
            if isinstance(node, ast.Constant) and isinstance(node.value, str) \
                    and id(node) not in docstrings and NAMESPACE.match(node.value):
                spelled.setdefault(node.value, []).append(str(path.relative_to(PACKAGE)))
    outside = {value: where for value, where in spelled.items() if where != ["ns.py"]}
    assert outside == {}
    assert "urn:xmpp:push:0" in spelled  # the scan sees ns.py's definitions


#: reading wall time instead of the injected reactor's clock (``--clock manual``)
WALL_CLOCK = re.compile(r"\btime\.(time|monotonic|perf_counter)\b|\bdatetime\.(datetime\.)?"
                        r"(now|utcnow|today)\b|\bdate\.today\b")
#: where wall time is right: the clock itself, the test fixtures' real-time waits, and
#: the TLS certificate's validity (clients check it against their own clock)
REAL_TIME = {"clock.py", "testing/process.py", "c2s/tls.py"}


def test_no_module_reads_wall_time_but_the_clock() -> None:
    readers = {str(p.relative_to(PACKAGE)) for p in modules()
               if WALL_CLOCK.search(p.read_text())}
    assert readers - REAL_TIME == set()
    assert "clock.py" in readers  # the scan sees a read at all
