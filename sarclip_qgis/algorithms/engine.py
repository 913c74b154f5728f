"""The plugin's only door to sarclip_core.scene: import it lazily and translate its errors and callbacks.

Importing torch at plugin load would crash or slow QGIS when it is missing, so the engine is imported
when an algorithm runs; a failed import becomes a QgsProcessingException that names what is missing
and the exact install command (the same text the dock panel shows).
"""

from __future__ import annotations

import importlib
from contextlib import contextmanager
from typing import Callable, Iterator

from qgis.core import QgsProcessingException, QgsProcessingFeedback

from .. import deps, paths


def scene_engine():
    """sarclip_core.scene, or a QgsProcessingException explaining how to install what it needs."""
    try:
        importlib.import_module("sarclip_core.scene.api")  # the package loads its PyTorch side on first use only
        return importlib.import_module("sarclip_core.scene")
    except ImportError as exc:
        target = str(paths.dependencies_dir())
        raise QgsProcessingException(deps.explain(deps.missing_dependencies(), str(exc), target)) from exc


def callbacks(feedback: QgsProcessingFeedback) -> tuple[Callable[[float], None], Callable[[], bool]]:
    """The engine's progress(fraction) and is_cancelled() on top of a Processing feedback."""
    def progress(fraction: float) -> None:
        feedback.setProgress(100.0 * min(max(fraction, 0.0), 1.0))

    return progress, feedback.isCanceled


@contextmanager
def user_errors() -> Iterator[None]:
    """Turn the engine's one-line user errors (bad input, cancel) into Processing errors."""
    from sarclip_core.errors import SarclipError

    try:
        yield
    except SarclipError as exc:
        raise QgsProcessingException(str(exc)) from exc
