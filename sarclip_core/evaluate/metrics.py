"""The evaluation metrics as plain NumPy functions, small enough to check by hand.

Accuracies and recalls are percentages (0-100), as papers print them. Ties are counted against
the model: an item only ranks above a wrong one if it scores strictly higher, so a model that
gives every candidate the same score gets chance-level (or zero) numbers, never 100%.
"""

from __future__ import annotations

from typing import Sequence

import numpy as np

RECALL_KS = (1, 5, 10)


def first_hit_rank(scores: np.ndarray, relevant: np.ndarray) -> np.ndarray:
    """Per query (row), the 0-based rank of its best relevant candidate: how many wrong ones score at least as high.

    A query with no relevant candidate gets rank = number of candidates (never a hit).
    """
    scores = np.asarray(scores, dtype=np.float64)
    relevant = np.asarray(relevant, dtype=bool)
    best = np.where(relevant, scores, -np.inf).max(axis=1, keepdims=True)
    ranks = ((scores >= best) & ~relevant).sum(axis=1)
    return np.where(relevant.any(axis=1), ranks, scores.shape[1])


def recall_at(ranks: np.ndarray, k: int) -> float:
    """Percentage of queries whose first hit is within the top k."""
    return float(100.0 * np.mean(np.asarray(ranks) < k))


def retrieval_recalls(similarity: np.ndarray, relevant: np.ndarray, ks: Sequence[int] = RECALL_KS) -> dict[str, float]:
    """Image->text and text->image R@k and their mean (mean recall) from an (images, texts) similarity matrix.

    relevant[i, j] is True when text j describes image i; an image with several captions is a hit
    at k if any of them is in its top k, and a caption shared by several images is a hit if any of them is.
    """
    image_ranks = first_hit_rank(similarity, relevant)
    text_ranks = first_hit_rank(np.asarray(similarity).T, np.asarray(relevant).T)
    out = {f"i2t_R@{k}": recall_at(image_ranks, k) for k in ks}
    out |= {f"t2i_R@{k}": recall_at(text_ranks, k) for k in ks}
    out["mean_recall"] = float(np.mean(list(out.values())))
    return out


def topk_accuracy(scores: np.ndarray, labels: np.ndarray, k: int) -> float:
    """Percentage of rows whose true class (labels[i], a column index) is among the k best scores."""
    labels = np.asarray(labels)
    relevant = np.zeros(np.shape(scores), dtype=bool)
    relevant[np.arange(len(labels)), labels] = True
    return recall_at(first_hit_rank(scores, relevant), k)


def confusion_matrix(true: np.ndarray, predicted: np.ndarray, classes: int) -> np.ndarray:
    """(classes, classes) counts: rows are the true class, columns the predicted one."""
    matrix = np.zeros((classes, classes), dtype=np.int64)
    np.add.at(matrix, (np.asarray(true), np.asarray(predicted)), 1)
    return matrix


def accuracy(confusion: np.ndarray) -> float:
    """Overall percentage correct of a confusion matrix."""
    return float(100.0 * np.trace(confusion) / max(int(confusion.sum()), 1))


def mean_per_class_accuracy(confusion: np.ndarray) -> float:
    """Mean over classes that have samples of each class's percentage correct (balanced accuracy)."""
    totals = confusion.sum(axis=1)
    present = totals > 0
    return float(100.0 * np.mean(np.diag(confusion)[present] / totals[present])) if present.any() else 0.0


def counting_metrics(true: np.ndarray, predicted: np.ndarray) -> dict[str, float]:
    """Exact-count accuracy, accuracy within one, and mean absolute error of integer counts."""
    error = np.abs(np.asarray(predicted, dtype=np.int64) - np.asarray(true, dtype=np.int64))
    return {"accuracy": float(100.0 * np.mean(error == 0)), "within_one": float(100.0 * np.mean(error <= 1)),
            "mae": float(error.mean())}


BoxTuple = tuple[float, float, float, float]  # xmin, ymin, xmax, ymax in pixels


def inside(x: float, y: float, box: BoxTuple) -> bool:
    """True when the point lies in the box (edges included)."""
    return box[0] <= x <= box[2] and box[1] <= y <= box[3]


def match_points(points: Sequence[tuple[float, float, float]], boxes: Sequence[BoxTuple]) -> int:
    """True positives among scored points: best first, a point inside a box no earlier point took takes it.

    Two peaks on one ship count one hit and one false alarm; a peak inside two unmatched boxes takes the
    box whose centre is nearest.
    """
    taken = [False] * len(boxes)
    hits = 0
    for x, y, _ in sorted(points, key=lambda p: -p[2]):
        free = [i for i, box in enumerate(boxes) if not taken[i] and inside(x, y, box)]
        if free:
            nearest = min(free, key=lambda i: (x - (boxes[i][0] + boxes[i][2]) / 2) ** 2 +
                          (y - (boxes[i][1] + boxes[i][3]) / 2) ** 2)
            taken[nearest] = True
            hits += 1
    return hits


def detection_metrics(hits: Sequence[int], found: Sequence[int], true: Sequence[int]) -> dict[str, float]:
    """Precision, recall, F1 (percent, over all images), count MAE and exact-count accuracy per image."""
    hits_sum, found_sum, true_sum = int(np.sum(hits)), int(np.sum(found)), int(np.sum(true))
    precision = 100.0 * hits_sum / found_sum if found_sum else 0.0
    recall = 100.0 * hits_sum / true_sum if true_sum else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    counts = counting_metrics(true, found)
    return {"precision": precision, "recall": recall, "f1": f1, "count_mae": counts["mae"],
            "count_exact": counts["accuracy"]}


def iou_per_class(true: np.ndarray, predicted: np.ndarray, classes: int) -> tuple[np.ndarray, np.ndarray]:
    """Per class 1..classes: intersection and union pixel counts (class 0 = ignored in the truth)."""
    keep = np.asarray(true) > 0
    t, p = np.asarray(true)[keep], np.asarray(predicted)[keep]
    intersection = np.array([np.sum((t == c) & (p == c)) for c in range(1, classes + 1)], dtype=np.int64)
    union = np.array([np.sum((t == c) | (p == c)) for c in range(1, classes + 1)], dtype=np.int64)
    return intersection, union
