"""Object counting, SARCount-style: for each class in an image (and for all targets), the count N whose prompt
"a SAR image of N <class>" is most similar to the image is its predicted count.

Annotations come from the D2C readers (voc, coco, yolo, dota, mask) or a D2C records JSONL (composed scenes).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ..d2c.captions import article
from ..d2c.numbers import number_word
from ..d2c.vocabulary import DEFAULT_VOCABULARY, Vocabulary, load_vocabulary, plural
from ..errors import SarclipError
from ..model.prompts import ensemble
from .annotated import read_annotated
from .embeddings import Embedded, Embedder
from .metrics import confusion_matrix, counting_metrics
from .results import Confusion, TaskResult

TOTAL = "total"
TOTAL_NOUN = "target"  # what D2C captions call objects of any class ("a SAR scene with five targets")


def count_phrases(n: int, noun: str) -> list[str]:
    """The ways D2C captions say n of a noun: "no tanks", "a tank"/"one tank", "three tanks"/"3 tanks"."""
    if n == 0:
        return [f"no {plural(noun)}"]
    if n == 1:
        return [article(noun), f"one {noun}"]
    return [f"{number_word(n)} {plural(noun)}", f"{n} {plural(noun)}"]


def read_counts(format: str, data: str | None, annotations: str | None, images: str | None,
                classes: str | None, vocabulary: Vocabulary) -> tuple[list[Path], list[dict[str, int]], list[str]]:
    """Image paths, their object counts per vocabulary class, and the annotation problems found on the way."""
    items, problems = read_annotated(format, data, annotations, images, classes)
    return [item.path for item in items], [_canonical(item.counts, vocabulary) for item in items], problems


def embedded_counts(embedder: Embedder, format: str, data: str | None, annotations: str | None = None,
                    images: str | None = None, classes: str | None = None,
                    what: str = "counting images") -> tuple[Embedded, list[dict[str, int]], list[str]]:
    """The readable annotated images' embeddings, their per-class counts, and every problem met on the way."""
    paths, counts, problems = read_counts(format, data, annotations, images, classes, load_vocabulary(DEFAULT_VOCABULARY))
    embedded = embedder.images(paths, what=what)
    return embedded, [counts[i] for i in embedded.kept], problems + embedded.problems


def _canonical(counts: dict[str, int], vocabulary: Vocabulary) -> dict[str, int]:
    out: dict[str, int] = {}
    for label, n in counts.items():
        key = vocabulary.canonical(label)
        out[key] = out.get(key, 0) + n
    return out


def evaluate(embedder: Embedder, format: str = "jsonl", data: str | None = None, annotations: str | None = None,
             images: str | None = None, classes: str | None = None, max_count: int | None = None) -> TaskResult:
    """Exact-count accuracy, accuracy within one and MAE over (image, class present) pairs and over image totals.

    Candidate counts are 0..max_count (default: the largest total in the data).
    """
    vocabulary = load_vocabulary(DEFAULT_VOCABULARY)
    embedded, counts, problems = embedded_counts(embedder, format, data, annotations, images, classes)
    totals = [sum(c.values()) for c in counts]
    if max(totals) == 0:
        raise SarclipError(f"{data or annotations}: no objects to count in the readable images")
    top = max(totals) if max_count is None else int(max_count)
    if top < 1:
        raise SarclipError("--max-count must be at least 1")
    labels = sorted({label for c in counts for label in c}) + [TOTAL]
    nouns = {label: vocabulary.words(label).names[0] for label in labels[:-1]} | {TOTAL: TOTAL_NOUN}
    truth: dict[str, list[int]] = {label: [] for label in labels}
    predicted: dict[str, list[int]] = {label: [] for label in labels}
    for label in labels:
        prompts = ensemble(embedder.texts, [count_phrases(n, nouns[label]) for n in range(top + 1)])
        rows = [i for i, c in enumerate(counts) if label == TOTAL or c.get(label, 0) > 0]
        truth[label] = [totals[i] if label == TOTAL else counts[i][label] for i in rows]
        predicted[label] = list((embedded.vectors[rows] @ prompts.T).argmax(axis=1))
    per_class = [label for label in labels[:-1] if truth[label]]
    class_true = np.concatenate([truth[label] for label in per_class]).astype(int)
    class_pred = np.concatenate([predicted[label] for label in per_class]).astype(int)
    metrics = counting_metrics(class_true, class_pred)
    metrics |= {f"total_{k}": v for k, v in counting_metrics(truth[TOTAL], predicted[TOTAL]).items()}
    table = [{"class": label, "entries": len(truth[label]), **counting_metrics(truth[label], predicted[label])}
             for label in labels]
    size = max(top, int(class_true.max()), max(totals)) + 1
    numbers = [str(n) for n in range(size)]
    confusions = [Confusion("counts per class (true vs predicted)", numbers,
                            confusion_matrix(class_true, class_pred, size)),
                  Confusion("total count (true vs predicted)", numbers,
                            confusion_matrix(totals, predicted[TOTAL], size))]
    return TaskResult("counting", str(data or annotations), len(counts), metrics, problems,
                      confusions, table)
