"""Few-shot classification: the linear probe trained on k images per class, averaged over seeded trials."""

from __future__ import annotations

from typing import Sequence

import numpy as np

from ..errors import SarclipError
from .embeddings import Embedder
from .folders import embed_folder
from .metrics import accuracy, confusion_matrix
from .probe import DEFAULT_C, probe_predict
from .results import TaskResult


def parse_shots(shots: str | int | Sequence[int]) -> list[int]:
    """Shots from "1,5,10", a number or a list; each at least 1."""
    if isinstance(shots, str):
        try:
            shots = [int(part) for part in shots.split(",") if part.strip()]
        except ValueError:
            raise SarclipError(f"--shots: {shots!r} is not a list of whole numbers such as 1,5,10") from None
    values = sorted(set([shots] if isinstance(shots, int) else shots))
    if not values or values[0] < 1:
        raise SarclipError("--shots: give one or more numbers of at least 1, such as 1,5,10")
    return values


def sample_shots(targets: np.ndarray, k: int, rng: np.random.Generator) -> np.ndarray:
    """Indices of k random examples of every class (a boolean mask over targets)."""
    chosen = np.zeros(len(targets), dtype=bool)
    for label in np.unique(targets):
        chosen[rng.choice(np.flatnonzero(targets == label), k, replace=False)] = True
    return chosen


def evaluate(embedder: Embedder, data: str, shots: str | Sequence[int] = (1, 5, 10), trials: int = 5,
             test_data: str | None = None, max_per_class: int | None = None, seed: int = 0,
             c: float = DEFAULT_C) -> TaskResult:
    """Mean and standard deviation over trials of the probe's top-1 accuracy for each k.

    Without test_data, each trial is scored on the images of data that were not drawn as shots.
    """
    shots, trials = parse_shots(shots), int(trials)
    if trials < 1:
        raise SarclipError("--trials must be at least 1")
    train = embed_folder(embedder, data, max_per_class=max_per_class, seed=seed)
    test = embed_folder(embedder, test_data, train.classes, max_per_class, seed) if test_data else None
    smallest = min(np.bincount(train.targets, minlength=len(train.classes)))
    needed = max(shots) + (0 if test else 1)
    if smallest < needed:
        raise SarclipError(f"{data}: a class has only {smallest} readable images; {max(shots)}-shot needs "
                           f"{needed}{'' if test else ' (k to train, at least one to test; or give --test-data)'}")
    metrics: dict[str, float] = {}
    for k in shots:
        scores = []
        for trial in range(trials):
            chosen = sample_shots(train.targets, k, np.random.default_rng([seed, k, trial]))
            test_x, test_y = (test.vectors, test.targets) if test else (train.vectors[~chosen], train.targets[~chosen])
            predicted = probe_predict(train.vectors[chosen], train.targets[chosen], test_x, c)
            scores.append(accuracy(confusion_matrix(test_y, predicted, len(train.classes))))
        metrics[f"top1_{k}shot"] = float(np.mean(scores))
        metrics[f"top1_{k}shot_std"] = float(np.std(scores))
    images = len(train.targets) + (len(test.targets) if test else 0)
    return TaskResult("fewshot", f"{data}" + (f", test {test_data}" if test else ""), images, metrics,
                      train.problems + (test.problems if test else []))
