"""The plugin's only door to sarclip_core.scene: import it lazily and translate its errors and callbacks.

Importing the engine at plugin load would fail or slow QGIS when a dependency is missing, so it is imported
when an algorithm runs; a failed import becomes a QgsProcessingException that names what is missing
and the exact install command (the same text the dock panel shows).
"""

from __future__ import annotations

import importlib
import threading
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Callable, Iterator

from qgis.core import QgsProcessingException, QgsProcessingFeedback

from .. import deps, paths


def scene_engine():
    """sarclip_core.scene, or a QgsProcessingException explaining how to install what it needs."""
    try:
        scene = importlib.import_module("sarclip_core.scene")
        scene.text_query  # noqa: B018 - the package loads its PyTorch side on first use: now, so a gap shows here
        return scene
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


_loaded: dict[tuple, Any] = {}  # (spec, files' signature) -> Checkpoint: the one model kept for the session
_loading = threading.Lock()


def session_model(spec: str):
    """The model for a MODEL value ('default', a checkpoint folder, an open_clip name), loaded once per QGIS
    session and again only when its files change. One model is kept: a dock session's queries then reuse its
    weights and its text embeddings (sarclip_core.scene.prompts) instead of reloading both on every run."""
    from sarclip_core.model import DEFAULT_CHECKPOINT
    from sarclip_core.scene import load_model

    folder = DEFAULT_CHECKPOINT if spec == "default" else Path(spec)
    files = sorted(folder.iterdir()) if folder.is_dir() else []
    key = (spec, tuple((p.name, p.stat().st_mtime_ns, p.stat().st_size) for p in files if p.is_file()))
    with _loading:
        if key not in _loaded:
            model = load_model(spec)  # PyTorch where it is installed, else ONNX Runtime (the checkpoint's export)
            _loaded.clear()
            _loaded[key] = model
        return _loaded[key]
