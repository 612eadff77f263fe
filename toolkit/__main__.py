"""``python -m toolkit``: the command line, ``toolkit/cli/``."""

import signal
import sys

if __name__ == "__main__":
    # A stop (Ctrl-C, or the dashboard's Stop a second after Start) can come while torch is still being
    # imported: from the first line on it only asks for a clean stop (toolkit/cli/stopping.py), never a
    # traceback. Those that come before the command line is loaded are handed on to it.
    early: list[int] = []
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda signum, frame: early.append(signum))
    from toolkit.cli import main
    from toolkit.cli.stopping import STOP_REQUESTS, ask_to_stop

    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, ask_to_stop)
    STOP_REQUESTS.extend(early)
    sys.exit(main())
