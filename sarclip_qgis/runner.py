"""Run one Processing algorithm in a background task and report progress and the outcome on the main thread.

The dock goes through this, so the panel and the toolbox run exactly the same algorithm code.
"""

from __future__ import annotations

from qgis.core import (
    QgsApplication,
    QgsProcessingAlgRunnerTask,
    QgsProcessingContext,
    QgsProcessingFeedback,
    QgsProject,
)
from qgis.PyQt.QtCore import QObject, pyqtSignal


class _Feedback(QgsProcessingFeedback):
    """Remembers the last error the algorithm reported, to show it as the result line."""

    def __init__(self):
        super().__init__()
        self.last_error = ""

    def reportError(self, error, fatalError=False):  # noqa: N802,N803 - QGIS API
        self.last_error = error
        super().reportError(error, fatalError)


class AlgorithmRun(QObject):
    """One run of `algorithm_id` with `parameters`; emit finished(ok, results, error) when done."""

    progress = pyqtSignal(float)
    finished = pyqtSignal(bool, dict, str)

    def __init__(self, algorithm_id: str, parameters: dict, parent: QObject | None = None):
        super().__init__(parent)
        algorithm = QgsApplication.processingRegistry().createAlgorithmById(algorithm_id)
        if algorithm is None:
            raise RuntimeError(f"Processing algorithm {algorithm_id} is not registered")
        # context and feedback must outlive the task: they belong to this object
        self.context = QgsProcessingContext()
        self.context.setProject(QgsProject.instance())
        self.feedback = _Feedback()
        self.feedback.progressChanged.connect(self.progress)
        self.task = QgsProcessingAlgRunnerTask(algorithm, parameters, self.context, self.feedback)
        self.task.executed.connect(self._executed)

    def start(self) -> None:
        QgsApplication.taskManager().addTask(self.task)

    def cancel(self) -> None:
        """Ask the algorithm to stop; the engine checks between batches and leaves no output."""
        self.feedback.cancel()

    def _executed(self, ok: bool, results: dict) -> None:
        error = "" if ok else ("cancelled" if self.feedback.isCanceled() else self.feedback.last_error or "failed")
        self.finished.emit(ok, dict(results or {}), error)
