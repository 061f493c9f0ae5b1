"""``minixmpp [options]`` and ``python -m minixmpp [options]``.

Exactly ``twistd -n --pidfile= minixmpp [options]``: the same options (``minixmpp
--help``), the same one-line errors, the log on stdout, and Ctrl-C or SIGTERM shut the
server down cleanly (streams closed with ``system-shutdown``). It runs twistd itself
rather than a copy of it, so the two can never drift apart.
"""

from __future__ import annotations

import signal
import sys


def main(argv: list[str] | None = None) -> None:
    """Run the server in the foreground until interrupted."""
    args = sys.argv[1:] if argv is None else argv
    # Ctrl-C stops the server even where SIGINT came in ignored (a shell's background
    # job, some CI runners): twistd only takes over a signal left at its default.
    signal.signal(signal.SIGINT, signal.default_int_handler)
    sys.argv = ["minixmpp", "-n", "--pidfile=", "minixmpp", *args]
    from twisted.scripts.twistd import run

    run()


if __name__ == "__main__":
    main()
