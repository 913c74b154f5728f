"""What runs on a Dask worker: one scene's index or queries, by the one-scene engine, with the model loaded once.

A worker process keeps the model it loaded, keyed by the model spec and the digest the run's driver
computed (scene.backend.model_identity, which also keys every index): the first task loads and checks it, later
tasks reuse it. A worker that sees other weights under the same spec (a different checkout on another
machine) fails its tasks with one line instead of writing indexes under another model's keys.

Tasks return plain dicts. A user error (SarclipError: a missing or corrupt scene, no valid pixels) comes back
as {"error": one line} so the run goes on with the other scenes; anything else is raised and reported by
the driver. A worker lost mid-task is Dask's to handle: the scheduler gives the task to another worker.
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable

import numpy as np

from ..errors import SarclipError

if TYPE_CHECKING:
    from ..scene import SceneSettings
    from ..scene.backend import InferenceModel

SUMMARY_FILE = "summary.json"


@dataclass(frozen=True)
class ModelRef:
    """The model a batch uses: what --model and --backend said, and the identity of its image tower that keys
    the indexes (scene.backend.model_identity)."""

    spec: str
    digest: str
    backend: str = "auto"


_loaded: dict[ModelRef, InferenceModel] = {}  # the one model this worker process keeps
_loading = threading.Lock()


def worker_model(ref: ModelRef) -> InferenceModel:
    """The model for `ref`, loaded on this worker's first task and kept for the next ones."""
    from ..scene.backend import load_model, model_identity

    with _loading:
        if ref not in _loaded:
            checkpoint = load_model(ref.spec, ref.backend)
            if model_identity(checkpoint) != ref.digest:
                raise SarclipError(f"model {ref.spec!r} on worker {where()} has other weights than on the machine "
                                   "that started the batch; give every worker the same model files")
            _loaded.clear()
            _loaded[ref] = checkpoint
        return _loaded[ref]


def where() -> str:
    """This worker process, as host:pid (which worker did a task, for the run's report)."""
    return f"{socket.gethostname()}:{os.getpid()}"


STOPPED_TASK = {"cancelled", "released", "forgotten"}  # a task's states on the worker once the driver let go of it


def task_cancelled() -> Callable[[], bool]:
    """Whether the Dask task running this thread should stop: the driver cancelled it (Ctrl-C, SIGTERM, an error)
    or its worker is closing. Dask cannot interrupt a running task, so without this a cancelled index build ran
    on, and could even be committed while the cluster was shutting down; the engine checks this between batches
    of windows and removes what it had staged. Outside a Dask task it is never true."""
    from distributed import get_worker
    from distributed.core import Status

    try:
        worker = get_worker()
        key = worker.get_current_task()
    except ValueError:  # not running in a Dask worker (the function called directly)
        return lambda: False

    def cancelled() -> bool:
        if worker.status not in (Status.running, Status.paused):
            return True
        task = worker.state.tasks.get(key)
        return task is None or task.state in STOPPED_TASK

    return cancelled


def index_task(scene: str, model: ModelRef, settings: SceneSettings) -> dict[str, Any]:
    """Build (or reuse) one scene's index in the settings' index folder; a cancelled task stops its build."""
    from ..scene.api import build_index

    started = time.perf_counter()
    try:
        index = build_index(scene, worker_model(model), settings, is_cancelled=task_cancelled())
    except SarclipError as error:
        return {"error": str(error), "worker": where()}
    return {"index": str(index.path), "reused": index.reused, "windows": index.windows, "cells": index.count,
            "seconds": round(time.perf_counter() - started, 3), "worker": where()}


def query_task(scene: str, model: ModelRef, request: dict[str, Any], out: str) -> dict[str, Any]:
    """The one-scene CLI's run on one scene (outputs and summary.json in `out`), and its hits in EPSG:4326.

    `request` holds the one-scene CLI's task and settings arguments (add_task_arguments,
    add_settings_arguments), so every scene's outputs are exactly what `python -m sarclip_core.scene`
    writes for them.
    """
    from ..files import atomic_text
    from ..scene.__main__ import run

    started = time.perf_counter()
    args = argparse.Namespace(**request, scene=scene, out=Path(out), json=None, example=[], example_point=[])
    try:
        summary = run(args, worker_model(model), task_cancelled())
        with atomic_text(Path(out) / SUMMARY_FILE) as handle:
            json.dump(summary, handle, indent=2)
        hits, notes = scene_hits(scene, summary)
    except SarclipError as error:
        return {"error": str(error), "worker": where()}
    return {"summary": summary, "hits": hits, "notes": notes, "seconds": round(time.perf_counter() - started, 3),
            "worker": where()}


def scene_hits(scene: str, summary: dict[str, Any]) -> tuple[list[tuple[float, float, str, float]], list[str]]:
    """(longitude, latitude, label, score) of a scene's heatmap peaks and counted objects, and notes."""
    from ..scene.__main__ import describe_quietly
    from .hits import read_peaks, to_lonlat

    found: list[tuple[float, float, str, float]] = []
    if "query" in summary:
        found += [(p["x"], p["y"], summary["query"]["query"], p["score"]) for p in summary["query"]["peaks"]]
    if "count" in summary:
        found += read_peaks(Path(summary["count"]["outputs"]["peaks"]))
    if not found:
        return [], []
    crs = describe_quietly(scene).crs
    if crs is None:
        return [], [f"{scene}: no CRS, so its {len(found)} hit(s) cannot be placed in EPSG:4326 (left out)"]
    lonlat = to_lonlat(crs, np.array([(x, y) for x, y, _, _ in found]))
    return [(float(lon), float(lat), label, float(score)) for (lon, lat), (_, _, label, score) in zip(lonlat, found)], []
