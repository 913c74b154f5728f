"""What every command-line tool does with a failure: one line naming the problem, never a traceback."""

from __future__ import annotations

import sys
from typing import Callable

from .errors import SarclipError


def run_cli(body: Callable[[], int | None], interrupted: str = "interrupted") -> int:
    """Run a CLI's work: a SarclipError prints `error: ...` and gives exit status 2; Ctrl-C prints and gives 130."""
    try:
        return body() or 0
    except SarclipError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"error: {interrupted}", file=sys.stderr)
        return 130
