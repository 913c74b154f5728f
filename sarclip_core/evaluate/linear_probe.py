"""Linear probing: a logistic-regression probe trained on the full train folder, scored on the test folder."""

from __future__ import annotations

from .embeddings import Embedder
from .folders import embed_folder
from .metrics import accuracy, confusion_matrix, mean_per_class_accuracy
from .probe import DEFAULT_C, probe_predict
from .results import Confusion, TaskResult


def evaluate(embedder: Embedder, data: str, test_data: str, max_per_class: int | None = None, seed: int = 0,
             c: float = DEFAULT_C) -> TaskResult:
    """Top-1 and mean per-class accuracy of the probe, with its confusion matrix."""
    train = embed_folder(embedder, data, max_per_class=max_per_class, seed=seed)
    test = embed_folder(embedder, test_data, train.classes, max_per_class, seed)
    predicted = probe_predict(train.vectors, train.targets, test.vectors, c)
    confusion = confusion_matrix(test.targets, predicted, len(train.classes))
    return TaskResult("linear-probe", f"train {data}, test {test_data}", len(train.targets) + len(test.targets),
                      {"top1": accuracy(confusion), "mean_per_class": mean_per_class_accuracy(confusion)},
                      train.problems + test.problems, [Confusion("linear probe", train.classes, confusion)])
