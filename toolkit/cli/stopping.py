"""Ctrl-C and SIGTERM: ``train`` finishes its step and checkpoints (see ``toolkit/cli/train.py``); every other
command stops at once and leaves no partial output (``toolkit/outputs.py``).

A stop (Ctrl-C, or the dashboard's Stop a second after Start) can come while torch is still being imported:
``toolkit/__main__.py`` installs :func:`ask_to_stop` from its first line on, so such a stop only asks for a
clean stop (recorded in ``STOP_REQUESTS``), never a traceback."""

from __future__ import annotations

import contextlib
import signal
import threading

STOP_REQUESTS: list[int] = []  # signals that came before the command could stop cleanly


def ask_to_stop(signum, frame) -> None:
    STOP_REQUESTS.append(signum)


def stop_now(signum, frame) -> None:
    from ..outputs import STOPS, Stopped

    STOPS.append(signum)  # read between images and steps (stop_point), should the exception be swallowed
    raise Stopped(signum)


@contextlib.contextmanager
def stop_on_signal():
    """Ctrl-C and SIGTERM raise ``Stopped`` wherever the command is (between two images or steps: the
    work in hand is dropped, and ``toolkit/outputs.py`` removes what it had written); one that came while the
    toolkit was starting up stops it before any work. Only the main thread can take signals."""
    from ..outputs import STOPS, Stopped

    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = {sig: signal.signal(sig, stop_now) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        if STOP_REQUESTS:
            raise Stopped(STOP_REQUESTS[-1])
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        STOP_REQUESTS.clear()
        STOPS.clear()
