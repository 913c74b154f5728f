"""The batch driver: plan the scenes, hand one task per scene to the Dask cluster, collect what each gave.

Planning happens here, before any worker starts: every scene is described (a missing or unreadable one is
reported and left out), its index folder found with the one-scene engine's own key (scene.index), and a
scene whose index is already whole is skipped, so a second run starts no cluster at all. The indexes a
batch needs must fit the index cache's size limit together, or the cache would evict the batch's first
indexes to make room for its last ones: that is refused before any work.
"""

from __future__ import annotations

import argparse
import os
import uuid
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Iterable, Sequence

from ..errors import SarclipError
from ..scene.__main__ import add_settings_arguments, add_task_arguments, checked_settings, describe_quietly
from ..scene.cache import LIMIT_ENV, folder_bytes, human_bytes
from ..scene.settings import SceneSettings
from .cluster import connect
from .worker import ModelRef, index_task, query_task

if TYPE_CHECKING:
    from distributed import Client, Future

    from ..scene.backend import InferenceModel

HITS_FILE = "hits.gpkg"
REPORT_FILE = "batch.json"


@dataclass
class SceneResult:
    """What became of one scene: indexed, reused (built meanwhile by another run), skipped (already indexed),
    done (queried) or failed, with its one-line error."""

    scene: str
    status: str
    error: str | None = None
    index: str | None = None
    out: str | None = None
    worker: str | None = None
    seconds: float | None = None
    details: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {k: v for k, v in asdict(self).items() if v not in (None, {})}


ProgressFn = Callable[[SceneResult, int, int], None]  # a scene's result, scenes finished, scenes in all


def model_ref(model: str | os.PathLike, backend: str = "auto") -> tuple[InferenceModel, ModelRef]:
    """The model loaded here (PyTorch or ONNX Runtime, scene.backend), and how workers find it: a checkpoint
    folder by its absolute path."""
    from ..scene.backend import load_model, model_identity

    spec = str(model)
    if spec != "default" and Path(spec).is_dir():
        spec = str(Path(spec).resolve())
    checkpoint = load_model(spec, backend)
    return checkpoint, ModelRef(spec, model_identity(checkpoint), backend)


def unique_scenes(scenes: Iterable[str | os.PathLike]) -> list[str]:
    """Absolute scene paths (workers may run elsewhere), each once, in the order given."""
    return list(dict.fromkeys(str(Path(scene).resolve()) for scene in scenes))


def index_scenes(scenes: Sequence[str | os.PathLike], model: str | os.PathLike = "default",
                 settings: SceneSettings = SceneSettings(), cluster: str | Client = "local",
                 progress: ProgressFn | None = None, backend: str = "auto") -> list[SceneResult]:
    """Index every scene into settings.index_dir on the cluster, one task per scene; one result per scene."""
    from ..scene.backend import window_encoder
    from ..scene.cells import SceneCells
    from ..scene.index import estimated_bytes, existing, index_folder

    checkpoint, ref = model_ref(model, backend)
    native = checkpoint.reader.native_size
    per_window, dim = window_encoder(checkpoint).cell_shape(settings.tile or native)
    ordered = unique_scenes(scenes)
    results: dict[str, SceneResult] = {}
    todo: list[str] = []
    need = 0
    for scene in ordered:
        try:
            info = describe_quietly(scene)
            folder = index_folder(info, ref.digest, settings, native)
            found = existing(folder)
            if found is None:
                need += estimated_bytes(SceneCells.for_windows(settings.grid(info, native), per_window), dim)
        except SarclipError as error:
            results[scene] = SceneResult(scene, "failed", error=str(error))
            continue
        if found is not None:
            need += folder_bytes(folder)
            results[scene] = SceneResult(scene, "skipped", index=str(folder), details={"windows": found.windows})
        else:
            todo.append(scene)
    _check_cache_limit(need, settings, len(todo) + sum(r.status == "skipped" for r in results.values()))
    _report_planned(results, len(ordered), progress)

    def submit(client: Client, scene: str) -> Future:
        return client.submit(index_task, scene, ref, settings, key=_key("index", scene), pure=False)

    def finish(scene: str, value: dict[str, Any]) -> SceneResult:
        if "error" in value:
            return SceneResult(scene, "failed", error=value["error"], worker=value["worker"])
        return SceneResult(scene, "reused" if value["reused"] else "indexed", index=value["index"],
                           worker=value["worker"], seconds=value["seconds"],
                           details={"windows": value["windows"], "cells": value["cells"]})

    results.update(_run_tasks(cluster, todo, submit, finish, progress, len(results), len(ordered)))
    return [results[scene] for scene in ordered]


def _check_cache_limit(need: int, settings: SceneSettings, scenes: int) -> None:
    limit = settings.cache_limit()
    if need > limit:
        raise SarclipError(f"the batch's {scenes} scene indexes would take about {human_bytes(need)}, more than the "
                           f"index cache's limit of {human_bytes(limit)}, so the cache would evict the batch's own "
                           f"indexes; raise --index-cache-gb (or ${LIMIT_ENV}) to at least {need / 1e9:.1f}")


def scene_request(args: argparse.Namespace) -> dict[str, Any]:
    """The one-scene CLI's task and settings arguments out of a batch CLI's arguments (defaults for those it lacks)."""
    parser = argparse.ArgumentParser(add_help=False)
    add_task_arguments(parser)
    add_settings_arguments(parser)
    return {action.dest: getattr(args, action.dest, action.default) for action in parser._actions}


def query_scenes(scenes: Sequence[str | os.PathLike], request: dict[str, Any], out: str | os.PathLike,
                 cluster: str | Client = "local", progress: ProgressFn | None = None) -> tuple[list[SceneResult], Path]:
    """Run the one-scene CLI's query, label map and/or count (`request`: its arguments, see scene_request) on
    every scene, each into its own folder in `out`, and write the best hits of all scenes to `out`/hits.gpkg.

    Returns one result per scene and the hits file's path.
    """
    from ..files import check_writable_place
    from .hits import Hit, point_wkb, write_hits

    checked_settings(argparse.Namespace(**request))  # bad flags and texts fail here, once, not on every worker
    out = Path(out)
    if out.exists() and not out.is_dir():
        raise SarclipError(f"{out}: --out is a file, not a folder; give a folder for the outputs")
    check_writable_place(out / HITS_FILE, "--out")
    _, ref = model_ref(request["model"], request["backend"])
    ordered = unique_scenes(scenes)
    folders = dict(zip(ordered, output_folders(ordered, out)))
    hits: list[Hit] = []

    def submit(client: Client, scene: str) -> Future:
        return client.submit(query_task, scene, ref, request, str(folders[scene]), key=_key("query", scene),
                             pure=False)

    def finish(scene: str, value: dict[str, Any]) -> SceneResult:
        if "error" in value:
            return SceneResult(scene, "failed", error=value["error"], worker=value["worker"])
        hits.extend(Hit(scene, label, score, point_wkb(lon, lat)) for lon, lat, label, score in value["hits"])
        messages = {step: result["message"] for step, result in value["summary"].items()}
        return SceneResult(scene, "done", out=str(folders[scene]), worker=value["worker"], seconds=value["seconds"],
                           details={"messages": messages, "hits": len(value["hits"]), "notes": value["notes"]})

    results = _run_tasks(cluster, ordered, submit, finish, progress, 0, len(ordered))
    out.mkdir(parents=True, exist_ok=True)
    return [results[scene] for scene in ordered], write_hits(out / HITS_FILE, hits)


def output_folders(scenes: Sequence[str], out: Path) -> list[Path]:
    """A folder in `out` per scene, named by its file name without extension (SCENE_2, ... when names repeat or
    would be the batch's own files)."""
    taken = {HITS_FILE, REPORT_FILE}
    folders = []
    for scene in scenes:
        stem, name, k = Path(scene).stem, Path(scene).stem, 2
        while name in taken:
            name, k = f"{stem}_{k}", k + 1
        taken.add(name)
        folders.append(out / name)
    return folders


def _key(kind: str, scene: str) -> str:
    """A task name that shows which scene it is in Dask's dashboard and logs, unique to this run."""
    return f"sarclip-{kind}-{Path(scene).name}-{uuid.uuid4().hex[:8]}"


def _report_planned(results: dict[str, SceneResult], total: int, progress: ProgressFn | None) -> None:
    if progress is not None:
        for done, result in enumerate(results.values(), start=1):
            progress(result, done, total)


def _run_tasks(cluster: str | Client, scenes: list[str], submit: Callable[[Client, str], Future],
               finish: Callable[[str, dict[str, Any]], SceneResult], progress: ProgressFn | None,
               done: int, total: int) -> dict[str, SceneResult]:
    """Each scene's task on the cluster (connected only when there is work); results as the tasks end."""
    if not scenes:
        return {}
    if isinstance(cluster, str):
        with connect(cluster) as client:
            return _gather(client, scenes, submit, finish, progress, done, total)
    return _gather(cluster, scenes, submit, finish, progress, done, total)


def _gather(client: Client, scenes: list[str], submit: Callable[[Client, str], Future],
            finish: Callable[[str, dict[str, Any]], SceneResult], progress: ProgressFn | None,
            done: int, total: int) -> dict[str, SceneResult]:
    from distributed import as_completed

    futures = {submit(client, scene): scene for scene in scenes}
    results: dict[str, SceneResult] = {}
    try:
        for future in as_completed(futures):
            scene = futures[future]
            if future.status == "error":
                result = SceneResult(scene, "failed", error=task_error(scene, future.exception()))
            else:
                result = finish(scene, future.result())
            results[scene] = result
            done += 1
            if progress is not None:
                progress(result, done, total)
    finally:
        client.cancel(list(futures))  # Ctrl-C or an error here: nothing keeps running on the cluster
    return results


def task_error(scene: str, error: BaseException) -> str:
    """One line for a task that raised (not a user error) or whose workers kept dying."""
    from distributed import KilledWorker

    if isinstance(error, KilledWorker):
        return (f"{scene}: the workers running it died every time it was tried (Dask's "
                "distributed.scheduler.allowed-failures); is it too large for a worker's memory?")
    text = (str(error).splitlines() or [""])[0]
    return f"{scene}: {type(error).__name__}: {text}" if text else f"{scene}: {type(error).__name__}"
