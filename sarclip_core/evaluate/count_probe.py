"""Counting with a linear probe: a logistic-regression probe on frozen image embeddings predicts each image's
total target count, trained on annotated training scenes and scored on held-out ones.

The counterpart of `counting` (zero-shot count prompts) as `linear-probe` is of `zeroshot`: it measures how
much count information the image embedding holds, whether or not the text side can name it.
"""

from __future__ import annotations

import numpy as np

from ..errors import SarclipError
from .counting import embedded_counts
from .embeddings import Embedded, Embedder
from .metrics import confusion_matrix, counting_metrics
from .probe import DEFAULT_C, probe_predict
from .results import Confusion, TaskResult


def evaluate(embedder: Embedder, data: str, test_data: str, c: float = DEFAULT_C) -> TaskResult:
    """Exact-count accuracy, accuracy within one and MAE of total counts; data/test_data are D2C records JSONL."""
    train, train_totals, train_problems = _totals(embedder, data, "count-probe training images")
    test, test_totals, test_problems = _totals(embedder, test_data, "count-probe test images")
    if len(np.unique(train_totals)) < 2:
        raise SarclipError(f"{data}: the training images need at least two different counts to fit a probe")
    predicted = probe_predict(train.vectors, train_totals, test.vectors, c)
    size = int(max(train_totals.max(), test_totals.max())) + 1
    table = [{"total": n, "test images": int(np.sum(test_totals == n)), "training images": int(np.sum(train_totals == n)),
              **counting_metrics(test_totals[test_totals == n], predicted[test_totals == n])}
             for n in range(size) if np.any(test_totals == n)]
    return TaskResult("count-probe", f"train {data}, test {test_data}", len(train_totals) + len(test_totals),
                      counting_metrics(test_totals, predicted), train_problems + test_problems,
                      [Confusion("count probe: total count (true vs predicted)", [str(n) for n in range(size)],
                                 confusion_matrix(test_totals, predicted, size))], table)


def _totals(embedder: Embedder, data: str, what: str) -> tuple[Embedded, np.ndarray, list[str]]:
    """The readable images' embeddings and total counts, and the problems met on the way."""
    embedded, counts, problems = embedded_counts(embedder, "jsonl", data, what=what)
    return embedded, np.array([sum(c.values()) for c in counts], dtype=np.int64), problems
