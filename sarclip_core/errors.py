"""Errors the engine reports to people: one line that names the file and the problem."""

from __future__ import annotations

from os import PathLike


class SarclipError(Exception):
    """A problem with the user's input or environment, shown as one clear line (no traceback)."""


class RasterError(SarclipError):
    """A raster cannot be read or written as asked."""

    def __init__(self, path: str | PathLike | None, problem: str):
        self.path = None if path is None else str(path)
        self.problem = problem
        super().__init__(f"{self.path}: {problem}" if self.path else problem)


class Cancelled(SarclipError):
    """The caller's is_cancelled() said stop; nothing half-written is left behind."""

    def __init__(self) -> None:
        super().__init__("cancelled")
