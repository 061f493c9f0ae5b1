"""Run wokkel 18.0.0 (2018) on current Twisted.

wokkel imports two names that Twisted has since removed:

- ``twisted.python.compat._PY3`` (a boolean; always true on Python 3);
- the module ``twisted.python.constants``, which moved to the ``constantly``
  package (a Twisted dependency).

:func:`install` restores exactly those names, idempotently, and must run
before any ``wokkel`` import. ``minixmpp/__init__.py`` calls it, so importing
anything from ``minixmpp`` is enough. Nothing of wokkel is copied here.
"""

from __future__ import annotations

import sys


def install() -> None:
    """Restore the names wokkel 18.0.0 needs (idempotent)."""
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


install()
