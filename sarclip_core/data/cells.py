"""Dense truth: what each cell of a training window shows, from its D2C record (boxes, sea/land or water mask).

The scene engine draws maps from cell embeddings (model/dense.py), so stage 2 teaches cells directly:
a cell covering an object is a positive of the object's class text; a background cell is a positive
of its background's texts (sea/land masks: sea is also water; water masks: water or land; composed
MSTAR clutter: clutter, which is land). Cells mixing two backgrounds, with no labelled pixels, or
of a record without such truth are left out (no target), never guessed.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ..d2c.boxes import Box
from ..d2c.readers import read_mask
from ..d2c.vocabulary import Vocabulary
from ..errors import SarclipError
from .manifest import resolve_image

OBJECT_OVERLAP = 0.3  # share of the smaller of (cell, box) the box must cover for the cell to show the object
BACKGROUND_AGREEMENT = 0.8  # share of a cell's labelled mask pixels that must agree on its background
MASK_CLASSES = {"sealand": {255: ("sea", "water"), 0: ("land",)},
                "water": {1: ("water",), 0: ("land",)}}  # other mask values (-1) are no data
CLUTTER = ("clutter", "land")


def cell_classes(truth: dict, size: tuple[int, int], grid: int, vocabulary: Vocabulary) -> list[list[set[str]]] | None:
    """Per cell of a grid x grid split of a (height, width) image, the class names it is a positive of.

    None when the record has no dense truth at all (a classification chip, a ship chip without mask).
    """
    context = truth.get("context") or {}
    kind = context.get("mask_kind")
    clutter = context.get("background") == "clutter"
    if kind not in MASK_CLASSES and not clutter:
        return None
    height, width = size
    mask = _mask(context, truth.get("manifest", ""), width, height) if kind in MASK_CLASSES else None
    boxes = [Box.from_dict(b) for b in truth.get("boxes") or []]
    boxes = [b for b in boxes if b.exact]
    rows, cols = np.linspace(0, height, grid + 1), np.linspace(0, width, grid + 1)
    cells: list[list[set[str]]] = []
    for r in range(grid):
        cells.append([])
        for c in range(grid):
            rect = (cols[c], rows[r], cols[c + 1], rows[r + 1])
            objects = {vocabulary.canonical(b.label) for b in boxes if _covers(b, rect)}
            if objects:
                cells[-1].append(objects)
            elif mask is not None:
                cells[-1].append(_background(mask[int(rect[1]):int(rect[3]), int(rect[0]):int(rect[2])],
                                             MASK_CLASSES[kind]))
            else:
                cells[-1].append(set(CLUTTER))
    return cells


def _covers(box: Box, rect: tuple[float, float, float, float]) -> bool:
    x0, y0, x1, y1 = max(box.xmin, rect[0]), max(box.ymin, rect[1]), min(box.xmax, rect[2]), min(box.ymax, rect[3])
    if x1 <= x0 or y1 <= y0:
        return False
    cell_area = (rect[2] - rect[0]) * (rect[3] - rect[1])
    return (x1 - x0) * (y1 - y0) >= OBJECT_OVERLAP * min(cell_area, max(box.area, 1e-6))


def _background(values: np.ndarray, classes: dict[int, tuple[str, ...]]) -> set[str]:
    counts = {value: int(np.sum(values == value)) for value in classes}
    labelled = sum(counts.values())
    if labelled == 0:
        return set()
    value, count = max(counts.items(), key=lambda item: item[1])
    return set(classes[value]) if count >= BACKGROUND_AGREEMENT * labelled else set()


def _mask(context: dict, manifest: str, width: int, height: int) -> np.ndarray | None:
    """The record's mask crop on its image grid, or None when it is missing or of another size."""
    path = context.get("mask")
    if not isinstance(path, str):
        return None
    try:
        return np.asarray(read_mask(resolve_image(path, Path(manifest)), width, height)).astype(np.int64)
    except SarclipError:  # a missing or unreadable mask only costs this record its dense truth
        return None


def cell_targets(cells: list[list[set[str]]], classes: list[str]) -> np.ndarray:
    """(grid, grid, K) bool positives over `classes` (a cell with none is not trained on)."""
    index = {name: k for k, name in enumerate(classes)}
    out = np.zeros((len(cells), len(cells[0]), len(classes)), dtype=bool)
    for r, row in enumerate(cells):
        for c, names in enumerate(row):
            for name in names:
                out[r, c, index[name]] = True
    return out
