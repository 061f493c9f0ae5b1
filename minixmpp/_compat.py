"""Run wokkel 18.0.0 (2018) on current Twisted, quietly.

wokkel imports two names that Twisted has since removed:

- ``twisted.python.compat._PY3`` (a boolean; always true on Python 3);
- the module ``twisted.python.constants``, which moved to the ``constantly``
  package (a Twisted dependency).

:func:`install` restores exactly those names, idempotently, and must run
before any ``wokkel`` import. ``minixmpp/__init__.py`` calls it, so importing
anything from ``minixmpp`` is enough. Nothing of wokkel is copied here.

wokkel also imports names Twisted has deprecated (``unicode``, ``StringType``,
``iteritems``, ``itervalues``): each import and each call of ``iteritems`` warns,
into the output of every test that uses minixmpp. :func:`install` silences
exactly those, and only for wokkel: an import hook runs each ``wokkel`` module's
import with ``DeprecationWarning`` ignored and then gives the module plain
equivalents of the deprecated helpers. Warnings from any other code are untouched.
"""

from __future__ import annotations

import importlib.abc
import importlib.machinery
import sys
import warnings
from collections.abc import Iterator, Sequence
from types import ModuleType
from typing import Any


def _iteritems(d: dict[Any, Any]) -> Iterator[tuple[Any, Any]]:
    return iter(d.items())


def _itervalues(d: dict[Any, Any]) -> Iterator[Any]:
    return iter(d.values())


def _items(d: dict[Any, Any]) -> list[tuple[Any, Any]]:
    return list(d.items())


#: Deprecated ``twisted.python.compat`` functions → the plain code they stand for.
_PLAIN = {"iteritems": _iteritems, "itervalues": _itervalues, "items": _items}


class _QuietLoader(importlib.abc.Loader):
    """Executes one wokkel module with Twisted's deprecation warnings ignored."""

    def __init__(self, loader: Any) -> None:
        self.loader = loader

    def create_module(self, spec: importlib.machinery.ModuleSpec) -> ModuleType | None:
        return self.loader.create_module(spec)

    def exec_module(self, module: ModuleType) -> None:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)
            self.loader.exec_module(module)
            from twisted.python import compat

            deprecated = {id(getattr(compat, name)): name for name in _PLAIN}
        for attribute, value in list(vars(module).items()):
            name = deprecated.get(id(value))
            if name is not None:
                setattr(module, attribute, _PLAIN[name])

    def __getattr__(self, name: str) -> Any:  # get_source, is_package, ... of the real one
        return getattr(self.loader, name)


class _QuietWokkel(importlib.abc.MetaPathFinder):
    """Finds ``wokkel`` and ``wokkel.*`` as usual and wraps their loader."""

    def find_spec(self, fullname: str, path: Sequence[str] | None,
                  target: ModuleType | None = None) -> importlib.machinery.ModuleSpec | None:
        if fullname != "wokkel" and not fullname.startswith("wokkel."):
            return None
        spec = importlib.machinery.PathFinder.find_spec(fullname, path)
        if spec is not None and spec.loader is not None:
            spec.loader = _QuietLoader(spec.loader)
        return spec


def install() -> None:
    """Restore the names wokkel 18.0.0 needs and quiet its deprecations (idempotent)."""
    from twisted.python import compat

    if not hasattr(compat, "_PY3"):
        compat._PY3 = True  # type: ignore[attr-defined]

    if "twisted.python.constants" not in sys.modules:
        try:
            import twisted.python.constants  # noqa: F401  (an older Twisted)
        except ImportError:
            import constantly

            sys.modules["twisted.python.constants"] = constantly
            import twisted.python

            twisted.python.constants = constantly  # type: ignore[attr-defined]

    if not any(isinstance(finder, _QuietWokkel) for finder in sys.meta_path):
        sys.meta_path.insert(0, _QuietWokkel())


install()
