"""minixmpp: a small, complete XMPP server for development and end-to-end tests."""

from minixmpp import _compat  # noqa: F401  (must precede every wokkel import)

__version__ = "0.1.0"
