"""Running tasks: the task registry, the Python API (`run_task`, `evaluate_task`) and config-driven suites."""

from __future__ import annotations

import inspect
import os
import time
from dataclasses import dataclass
from typing import Any, Callable

from ..errors import SarclipError
from ..model import Checkpoint
from . import count_probe, counting, detection, fewshot, linear_probe, pointing, retrieval, segmentation, zeroshot
from .config import TASK_NAMES
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


def _task(name: str) -> Callable[..., TaskResult]:
    if name not in TASKS:
        raise SarclipError(f"unknown task {name!r} (tasks: {', '.join(TASK_NAMES)})")
    return TASKS[name]
