"""Pointing: does the text query's heatmap peak on an object of the queried class?

For every image with at least one true box of the class, the engine draws the query's heatmap as the CLI
does; a hit is the engine's best location inside a true box: the heatmap's maximum, which for an object
query the engine places on the strongest scatterer within one map cell (scene/scatterers.py), as its
peaks are. `map_max_hit_rate` is the same for the raw maximum pixel of the map (its output pixel's centre). Also measured: the
share of the map's heat inside the boxes (heat = value minus the image's lowest value), beside the share
of the image the boxes cover (what a flat map would get). Baseline: the centre of the brightest 9x9
patch of the image, and the same heat share for the 9x9 mean brightness.
"""

from __future__ import annotations

import numpy as np
from tqdm import tqdm

from ..d2c.vocabulary import DEFAULT_VOCABULARY, load_vocabulary
from ..errors import SarclipError
from ..scene.phrases import parse_query
from .annotated import box_tuples, boxes_of, read_annotated, target_class
from .classical import PATCH, brightest_patch, brightness, patch_means
from .embeddings import Embedder
from .metrics import inside
from .results import TaskResult
from .scene_runs import SceneRunner

BASELINE = "brightest_patch"


def heat_share(values: np.ndarray, boxes: list[tuple[float, float, float, float]]) -> float:
    """Share of a map's heat (value minus its minimum, no-data ignored) inside the union of boxes."""
    heat = np.nan_to_num(values - np.nanmin(values), nan=0.0)
    total = heat.sum()
    return float(heat[box_mask(values.shape, boxes)].sum() / total) if total > 0 else 0.0


def box_mask(shape: tuple[int, int], boxes: list[tuple[float, float, float, float]]) -> np.ndarray:
    """Pixels whose centres lie in any box."""
    mask = np.zeros(shape, dtype=bool)
    for xmin, ymin, xmax, ymax in boxes:
        c0, c1 = int(np.ceil(xmin - 0.5)), int(np.floor(xmax - 0.5)) + 1
        r0, r1 = int(np.ceil(ymin - 0.5)), int(np.floor(ymax - 0.5)) + 1
        mask[max(r0, 0):max(r1, 0), max(c0, 0):max(c1, 0)] = True
    return mask


def evaluate(embedder: Embedder, query: str = "", format: str = "jsonl", data: str | None = None,
             annotations: str | None = None, images: str | None = None, classes: str | None = None,
             target: str | None = None) -> TaskResult:
    """Hit rate and heat share of the query's heatmap vs the brightest 9x9 patch, per image with the class."""
    parse_query(query)
    vocabulary = load_vocabulary(DEFAULT_VOCABULARY)
    items, problems = read_annotated(format, data, annotations, images, classes)
    label = target_class(query, target, items, vocabulary)
    rows, table = [], []
    with SceneRunner(embedder.checkpoint) as runner:
        for item in tqdm(items, desc=f"{embedder.label}: pointing", unit="img", disable=not embedder.progress,
                         leave=False):
            boxes = box_tuples(boxes_of(item, label, vocabulary))
            if not boxes:
                continue
            try:
                heatmap, located = runner.heatmap(item.path, query)
                image = brightness(item.path)
            except SarclipError as error:
                problems.append(str(error))
                continue
            mx, my, _ = heatmap.best()
            x, y = located or (mx, my)
            bx, by = brightest_patch(image)
            on_image = heatmap.on_image()
            row = {"image": item.path.name, "boxes": len(boxes), "hit": any(inside(x, y, box) for box in boxes),
                   "map_max_hit": any(inside(mx, my, box) for box in boxes),
                   "baseline_hit": any(inside(bx, by, box) for box in boxes),
                   "heat_in_boxes": heat_share(on_image, boxes),
                   "baseline_heat_in_boxes": heat_share(np.where(np.isfinite(image), patch_means(image), np.nan), boxes),
                   "box_area_share": float(box_mask(on_image.shape, boxes).mean())}
            rows.append(row)
            table.append({k: (round(v, 3) if isinstance(v, float) else v) for k, v in row.items()})
    if not rows:
        first = f" (first problem: {problems[0]})" if problems else ""
        raise SarclipError(f"{data or annotations}: no readable image has a box of class {label!r}{first}")
    mean = lambda key: float(100.0 * np.mean([r[key] for r in rows]))  # noqa: E731
    result = TaskResult("pointing", str(data or annotations), len(rows),
                        {"hit_rate": mean("hit"), "map_max_hit_rate": mean("map_max_hit"),
                         "heat_in_boxes": mean("heat_in_boxes"),
                         "box_area_share": mean("box_area_share")}, problems, table=table)
    result.classical[BASELINE] = {"hit_rate": mean("baseline_hit"), "heat_in_boxes": mean("baseline_heat_in_boxes"),
                                  "box_area_share": mean("box_area_share")}
    result.classical_methods[BASELINE] = f"centre of the brightest {PATCH}x{PATCH} patch (mean linear amplitude)"
    result.notes.append(f"query {query!r}; boxes of class {label!r}; images without that class are skipped")
    return result
