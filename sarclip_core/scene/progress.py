"""Progress and cancel as plain callables, split across the stages of a run."""

from __future__ import annotations

from typing import Callable

from ..errors import Cancelled

ProgressFn = Callable[[float], None]
CancelFn = Callable[[], bool]


class StageProgress:
    """Reports a stage's own 0..1 progress as its share [start, end] of the whole run, and checks for cancel."""

    def __init__(self, progress: ProgressFn | None = None, is_cancelled: CancelFn | None = None,
                 start: float = 0.0, end: float = 1.0):
        self._progress, self._is_cancelled = progress, is_cancelled
        self.start, self.end = start, end

    def part(self, start: float, end: float) -> "StageProgress":
        """A sub-stage covering [start, end] of this stage."""
        span = self.end - self.start
        return StageProgress(self._progress, self._is_cancelled, self.start + span * start, self.start + span * end)

    def report(self, fraction: float) -> None:
        """Check for cancel, then report `fraction` (0..1) of this stage done."""
        self.check()
        if self._progress is not None:
            self._progress(self.start + (self.end - self.start) * min(1.0, max(0.0, fraction)))

    def check(self) -> None:
        """Raise Cancelled when the caller asked to stop."""
        if self._is_cancelled is not None and self._is_cancelled():
            raise Cancelled()
