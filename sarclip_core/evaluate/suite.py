"""Running tasks: the task registry, the Python API (`run_task`, `evaluate_task`) and config-driven suites."""

from __future__ import annotations

import inspect
import os
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

from ..configs import read_config
from ..errors import SarclipError
from ..model import Checkpoint
from . import count_probe, counting, detection, fewshot, linear_probe, pointing, retrieval, segmentation, zeroshot
from .embeddings import Embedder, evaluation_mode
from .results import TaskResult

TASKS: dict[str, Callable[..., TaskResult]] = {
    "retrieval": retrieval.evaluate,
    "zeroshot": zeroshot.evaluate,
    "fewshot": fewshot.evaluate,
    "linear-probe": linear_probe.evaluate,
    "counting": counting.evaluate,
    "count-probe": count_probe.evaluate,
    "pointing": pointing.evaluate,
    "detection": detection.evaluate,
    "segmentation": segmentation.evaluate,
}
PATH_OPTIONS = ("data", "test_data", "annotations", "images", "masks", "fit_data", "fit_annotations", "fit_images")  # resolved against a config file's folder


def task_options(name: str) -> list[str]:
    """The option names a task takes (its keyword arguments)."""
    return list(inspect.signature(_task(name)).parameters)[1:]


def check_options(name: str, options: dict[str, Any]) -> None:
    """A clear error for an unknown task or option (not a TypeError half-way through a suite)."""
    unknown = sorted(set(options) - set(task_options(name)))
    if unknown:
        raise SarclipError(f"task {name} has no option {', '.join(unknown)} (it takes {', '.join(task_options(name))})")


def evaluate_task(name: str, embedder: Embedder, **options: Any) -> TaskResult:
    """Run one task for one model and time it."""
    check_options(name, options)
    task = _task(name)
    start = time.perf_counter()
    with evaluation_mode(embedder.checkpoint):
        result = task(embedder, **options)
    result.model, result.seconds = embedder.label, time.perf_counter() - start
    return result


def run_task(name: str, checkpoint: Checkpoint | str | os.PathLike, batch_size: int = 64, progress: bool = False,
             **options: Any) -> dict[str, float]:
    """The metrics of one task for a loaded Checkpoint or a model spec (e.g. for validation during training).

    For example `run_task("zeroshot", checkpoint, data="val/")`, `run_task("retrieval", "default", data="captions.csv")`.
    The model's train/eval state is restored afterwards.
    """
    if isinstance(checkpoint, Checkpoint):
        embedder = Embedder(checkpoint, "model", batch_size, progress)
    else:
        embedder = Embedder.load(checkpoint, batch_size, progress)
    return evaluate_task(name, embedder, **options).metrics


@dataclass
class TaskRun:
    """One task of a suite: its options and its result for the model and, if asked, the baseline."""

    name: str
    options: dict[str, Any]
    result: TaskResult
    baseline: TaskResult | None = None


def run_suite(tasks: list[tuple[str, dict[str, Any]]], model: Embedder,
              baseline: Embedder | None = None) -> list[TaskRun]:
    """Run tasks in order for the model (and baseline); each model's embedding cache is shared by all tasks."""
    for name, options in tasks:  # check every task before spending time on any
        check_options(name, options)
    return [TaskRun(name, options, evaluate_task(name, model, **options),
                    evaluate_task(name, baseline, **options) if baseline else None) for name, options in tasks]


def load_config(path: str | os.PathLike) -> dict[str, Any]:
    """An evaluation config (YAML or JSON): optional model, baseline, batch_size, and a list of tasks.

        model: default            # --model / --baseline on the command line win
        baseline: RN50
        tasks:
          - {task: zeroshot, data: mstar/test}
          - {task: fewshot, data: mstar/test, shots: [1, 5], trials: 3}
          - {task: counting, format: jsonl, data: scenes.jsonl}

    Relative paths in tasks, and a model or baseline that is a folder beside the config, are relative to it.
    """
    path = Path(path)
    config = read_config(path)
    if not isinstance(config.get("tasks"), list) or not config["tasks"]:
        raise SarclipError(f"{path}: needs a non-empty 'tasks' list")
    tasks = []
    for number, entry in enumerate(config["tasks"], 1):
        if not isinstance(entry, dict) or "task" not in entry:
            raise SarclipError(f"{path}: task {number} needs a 'task' name ({', '.join(TASKS)})")
        options = {key.replace("-", "_"): value for key, value in entry.items() if key != "task"}
        for key in PATH_OPTIONS:
            if isinstance(options.get(key), str):
                options[key] = str(path.parent / options[key])
        tasks.append((str(entry["task"]), options))
    models = {key: str(path.parent / config[key]) for key in ("model", "baseline")
              if isinstance(config.get(key), str) and (path.parent / config[key]).is_dir()}
    return {**config, **models, "tasks": tasks}


def _task(name: str) -> Callable[..., TaskResult]:
    if name not in TASKS:
        raise SarclipError(f"unknown task {name!r} (tasks: {', '.join(TASKS)})")
    return TASKS[name]
