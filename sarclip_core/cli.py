"""What every command-line tool does with a failure: one line naming the problem, never a traceback.

SIGTERM (what `timeout`, service managers and a killed qgis_process send) is handled like Ctrl-C while a
CLI runs: it raises Terminated, a KeyboardInterrupt, so the same cleanup removes staging folders and
temporary outputs. Only the command-line entry points do this, never the library: inside QGIS the
host owns its signal handlers.
"""

from __future__ import annotations

import signal
import sys
import threading
from contextlib import contextmanager
from typing import Callable, Iterator

from .errors import SarclipError


class Terminated(KeyboardInterrupt):
    """The process was asked to stop with SIGTERM."""


def _terminate(signum: int, frame: object) -> None:
    signal.signal(signal.SIGTERM, signal.SIG_IGN)  # a second SIGTERM must not cut the cleanup short
    raise Terminated()


@contextmanager
def terminate_as_interrupt() -> Iterator[None]:
    """While the block runs, SIGTERM raises Terminated (a KeyboardInterrupt) in the main thread."""
    if threading.current_thread() is not threading.main_thread():
        yield  # signal handlers can only be set from the main thread
        return
    previous = signal.signal(signal.SIGTERM, _terminate)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def run_cli(body: Callable[[], int | None], interrupted: str = "interrupted") -> int:
    """Run a CLI's work: a SarclipError prints `error: ...` and gives exit status 2; Ctrl-C prints and gives 130,
    SIGTERM 143 (128 + the signal's number, as a shell reports it)."""
    try:
        with terminate_as_interrupt():
            return body() or 0
    except SarclipError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    except Terminated:
        print(f"error: {interrupted} (SIGTERM)", file=sys.stderr)
        return 128 + signal.SIGTERM
    except KeyboardInterrupt:
        print(f"error: {interrupted}", file=sys.stderr)
        return 130
