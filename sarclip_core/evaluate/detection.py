"""Detection: the count layer's peaks as detections, beside a cell-averaging CFAR detector.

For every image, the engine's count layer for the query (as `scene --count` writes it) gives one peak
per object it found; a peak inside a true box no higher-scoring peak took is a hit, anything else a
false alarm, an unmatched box a miss. Reported over all images: precision, recall, F1; per image: count
MAE and exact-count accuracy (count = number of peaks). The CFAR's parameters are chosen on training
images only (`fit_*` options: best F1 over a small grid) and stated in the report; without training
images, fixed textbook values are used and the report says so.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np
from tqdm import tqdm

from ..d2c.vocabulary import DEFAULT_VOCABULARY, load_vocabulary
from ..errors import SarclipError
from ..scene.phrases import parse_query
from .annotated import box_tuples, boxes_of, read_annotated, target_class
from .classical import CFAR_GRID, CfarParameters, brightness, cfar_detections, fit_cfar
from .embeddings import Embedder
from .metrics import detection_metrics, match_points
from .results import TaskResult
from .scene_runs import SceneRunner

BASELINE = "cfar"
MAX_FIT_IMAGES = 200  # training images the CFAR grid search reads (seeded subset beyond that)


@dataclass
class Tally:
    """Hits, detections and true objects per image, for one method."""

    hits: list[int]
    found: list[int]
    true: list[int]

    def add(self, points: list[tuple[float, float, float]], boxes: list[tuple[float, float, float, float]]) -> None:
        self.hits.append(match_points(points, boxes))
        self.found.append(len(points))
        self.true.append(len(boxes))

    def metrics(self) -> dict[str, float]:
        return detection_metrics(self.hits, self.found, self.true)


@lru_cache(maxsize=8)
def fitted_cfar(format: str, data: str | None, annotations: str | None, images: str | None, classes: str | None,
                label: str, seed: int = 0) -> tuple[CfarParameters, str]:
    """CFAR parameters with the best F1 on the training images given, and how they were chosen.

    `format` is the training images' own (jsonl for D2C records). The fit (minutes) is kept for the process, so a suite's second detection task on other test scenes
    with the same training images reuses it.
    """
    if not (data or annotations):
        return CfarParameters(), "fixed defaults (no training images given to fit them)"
    vocabulary = load_vocabulary(DEFAULT_VOCABULARY)
    items, _ = read_annotated(format, data, annotations, images, classes)
    if len(items) > MAX_FIT_IMAGES:
        order = np.random.default_rng(seed).permutation(len(items))[:MAX_FIT_IMAGES]
        items = [items[i] for i in sorted(order)]
    pictures, truths = [], []
    for item in items:
        try:
            pictures.append(brightness(item.path))
        except SarclipError:
            continue
        truths.append(box_tuples(boxes_of(item, label, vocabulary)))
    if not pictures:
        raise SarclipError(f"{data or annotations}: none of the CFAR training images could be read")

    def f1(detections: list[list[tuple[float, float, float]]]) -> float:
        tally = Tally([], [], [])
        for points, boxes in zip(detections, truths):
            tally.add(points, boxes)
        return tally.metrics()["f1"]

    parameters, score = fit_cfar(pictures, f1)
    grid = ", ".join(f"{k} {list(v)}" for k, v in CFAR_GRID.items())
    return parameters, f"fitted on {len(pictures)} training images (best F1 {score:.1f} over {grid})"


def evaluate(embedder: Embedder, query: str = "", format: str = "jsonl", data: str | None = None,
             annotations: str | None = None, images: str | None = None, classes: str | None = None,
             target: str | None = None, min_score: float | None = None, fit_data: str | None = None,
             fit_annotations: str | None = None, fit_images: str | None = None) -> TaskResult:
    """Precision/recall/F1 and count errors of the count layer's peaks vs a CA-CFAR, on the same images."""
    parse_query(query)
    vocabulary = load_vocabulary(DEFAULT_VOCABULARY)
    items, problems = read_annotated(format, data, annotations, images, classes)
    label = target_class(query, target, items, vocabulary)
    fit_format = "jsonl" if fit_data else format  # training records are D2C JSONL whatever the test set's format
    parameters, how = fitted_cfar(fit_format, fit_data, fit_annotations, fit_images, classes, label)
    model, cfar = Tally([], [], []), Tally([], [], [])
    table = []
    with SceneRunner(embedder.checkpoint) as runner:
        for item in tqdm(items, desc=f"{embedder.label}: detection", unit="img", disable=not embedder.progress,
                         leave=False):
            boxes = box_tuples(boxes_of(item, label, vocabulary))
            try:
                peaks = runner.peaks(item.path, query, min_score)
                detections = cfar_detections(brightness(item.path), parameters)
            except SarclipError as error:
                problems.append(str(error))
                continue
            model.add(peaks, boxes)
            cfar.add(detections, boxes)
            table.append({"image": item.path.name, "objects": len(boxes), "peaks": len(peaks), "hits": model.hits[-1],
                          "cfar": len(detections), "cfar_hits": cfar.hits[-1]})
    if not table:
        raise SarclipError(f"{data or annotations}: none of the images could be read")
    result = TaskResult("detection", str(data or annotations), len(table), model.metrics(), problems, table=table)
    result.classical[BASELINE] = cfar.metrics()
    result.classical_methods[BASELINE] = f"cell-averaging CFAR on linear amplitude, {parameters.describe()}; {how}"
    threshold = "the model's calibrated threshold" if min_score is None else f"probability >= {min_score:g}"
    result.notes.append(f"query {query!r}; boxes of class {label!r}; count peaks at {threshold}")
    return result
