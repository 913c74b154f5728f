"""Segmentation: the label map of a label set against hand-drawn masks, beside an Otsu water threshold.

The engine draws the label map as the CLI does; each image pixel takes the label of the output pixel its
centre falls in and is compared with the mask on the image's grid. IoU per label is summed over all
images (intersections and unions of every pixel), mask no-data ignored. Baseline, when one label is
water-like (water, sea, river, flood...): a per-image Otsu threshold on the first band in dB (VV for
Sentinel-1); darker pixels are that label, brighter ones the first other label.
"""

from __future__ import annotations

import os
import warnings
from pathlib import Path

import numpy as np
from rasterio.errors import NotGeoreferencedWarning
from tqdm import tqdm

from ..data.images import image_files
from ..data.manifest import read_jsonl, resolve_image
from ..errors import SarclipError
from ..io import open_raster
from ..io.raster import NoCrsWarning
from ..scene.phrases import parse_labels
from ..scene.radiometry import is_water_label
from .classical import otsu_threshold, read_values
from .embeddings import Embedder
from .metrics import iou_per_class
from .results import TaskResult
from .scene_runs import SceneRunner

BASELINE = "otsu"
NODATA = "nodata"
DEFAULT_MASK_VALUES = "1=water,0=land,-1=nodata"


def parse_mask_values(text: str) -> dict[int, str]:
    """Parse "1=water,0=land,-1=nodata" -> {1: "water", 0: "land", -1: "nodata"}."""
    out: dict[int, str] = {}
    for item in filter(None, (part.strip() for part in text.split(","))):
        value, sep, name = item.partition("=")
        try:
            if not sep or not name.strip():
                raise ValueError
            out[int(value)] = name.strip()
        except ValueError:
            raise SarclipError(f"--mask-values: {item!r} is not VALUE=label (e.g. \"1=water,0=land,-1=nodata\")") from None
    if not any(name.lower() != NODATA for name in out.values()):
        raise SarclipError("--mask-values names no label (e.g. \"1=water,0=land,-1=nodata\")")
    return out


def pair_masks(images: str | None, masks: str | None, data: str | None) -> list[tuple[Path, Path]]:
    """(image, mask) pairs: a records JSONL with a 'mask' per record, or two folders matched by file name.

    A mask matches an image with the same stem, or the same stem once the last '_part' of each is
    dropped (Sen1Floods11: X_S1Hand.tif and X_LabelHand.tif).
    """
    if data:
        pairs = []
        for number, record in read_jsonl(data):
            if not isinstance(record.get("mask"), str):
                raise SarclipError(f"{data}: line {number}: a segmentation record needs a 'mask' path")
            pairs.append((resolve_image(record["filepath"], Path(data)), resolve_image(record["mask"], Path(data))))
        return pairs
    if not images or not masks:
        raise SarclipError("give --images and --masks folders (or --data RECORDS.jsonl with a 'mask' per record)")
    for folder in (images, masks):
        if not Path(folder).is_dir():
            raise SarclipError(f"{folder}: folder not found")
    by_stem: dict[str, Path] = {}
    for mask in image_files(Path(masks)):
        by_stem.setdefault(mask.stem, mask)
        by_stem.setdefault(mask.stem.rsplit("_", 1)[0], mask)
    pairs = []
    for image in image_files(Path(images)):
        mask = by_stem.get(image.stem) or by_stem.get(image.stem.rsplit("_", 1)[0])
        if mask is not None and mask != image:
            pairs.append((image, mask))
    if not pairs:
        raise SarclipError(f"{images}: no image has a mask of the same name in {masks}")
    return pairs


def read_mask(path: Path, size: tuple[int, int]) -> np.ndarray:
    """The mask's first band as integers; it must be on the image's grid (same width and height)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", NoCrsWarning)
        warnings.simplefilter("ignore", NotGeoreferencedWarning)
        with open_raster(path) as ds:
            if (ds.width, ds.height) != size:
                raise SarclipError(f"{path}: mask is {ds.width}x{ds.height} px, its image {size[0]}x{size[1]} px; "
                                   "masks must be on the image's grid")
            return ds.read(1).astype(np.int64)


def truth_indices(mask: np.ndarray, values: dict[int, str], names: list[str], path: Path) -> np.ndarray:
    """Mask values as label indices 1..N of `names` (0 = no data or a value to ignore)."""
    out = np.zeros(mask.shape, dtype=np.int64)
    unknown = sorted(set(np.unique(mask).tolist()) - set(values))
    if unknown:
        raise SarclipError(f"{path}: mask value(s) {unknown[:5]} not in --mask-values")
    for value, name in values.items():
        if name.lower() != NODATA:
            out[mask == value] = names.index(name) + 1
    return out


def water_label(names: list[str]) -> int | None:
    """Index (1-based) of the one water-like label, or None when there is not exactly one."""
    found = [i for i, name in enumerate(names, 1) if is_water_label(name)]  # as the scene engine decides
    return found[0] if len(found) == 1 else None


def otsu_labels(path: str | os.PathLike, water: int, other: int) -> np.ndarray:
    """Per-image Otsu threshold on band 1 in dB: darker pixels `water`, brighter `other`, no data 0."""
    values, valid = read_values(path, "db")
    band = np.where(valid, values[0], np.nan)
    threshold = otsu_threshold(band)
    return np.where(valid, np.where(band < threshold, water, other), 0)


def evaluate(embedder: Embedder, labels: str = "", mask_values: str = DEFAULT_MASK_VALUES, images: str | None = None,
             masks: str | None = None, data: str | None = None) -> TaskResult:
    """IoU per label (and their mean, and pixel accuracy) of the label map vs an Otsu threshold, same pixels."""
    names = parse_labels(labels)
    values = parse_mask_values(mask_values)
    missing = [name for name in values.values() if name.lower() != NODATA and name not in names]
    if missing:
        raise SarclipError(f"--mask-values names {', '.join(missing)}, not in --labels ({', '.join(names)})")
    pairs = pair_masks(images, masks, data)
    water = water_label(names)
    other = next((i for i, name in enumerate(names, 1) if i != water), None)
    size = len(names)
    model_counts, otsu_counts = np.zeros((2, size), np.int64), np.zeros((2, size), np.int64)
    correct, otsu_correct, total = 0, 0, 0
    problems, table = [], []
    with SceneRunner(embedder.checkpoint) as runner:
        for image, mask_path in tqdm(pairs, desc=f"{embedder.label}: segmentation", unit="img",
                                     disable=not embedder.progress, leave=False):
            try:
                label_map = runner.label_map(image, names)
                truth = truth_indices(read_mask(mask_path, label_map.image_size), values, names, mask_path)
                baseline = otsu_labels(image, water, other) if water else None
            except SarclipError as error:
                problems.append(str(error))
                continue
            predicted = np.nan_to_num(label_map.on_image(), nan=0).astype(np.int64)
            model_counts += np.stack(iou_per_class(truth, predicted, size))
            counted = truth > 0
            correct, total = correct + int(np.sum(predicted[counted] == truth[counted])), total + int(counted.sum())
            row = {"image": image.name, "pixels": int(counted.sum()),
                   "model_accuracy": float(np.mean(predicted[counted] == truth[counted])) if counted.any() else 0.0}
            if baseline is not None:
                otsu_counts += np.stack(iou_per_class(truth, baseline, size))
                otsu_correct += int(np.sum(baseline[counted] == truth[counted]))
                row["otsu_accuracy"] = float(np.mean(baseline[counted] == truth[counted])) if counted.any() else 0.0
            table.append({k: round(v, 3) if isinstance(v, float) else v for k, v in row.items()})
    if not table:
        raise SarclipError(f"{images or data}: none of the images could be evaluated (first: {problems[0]})")
    scored = [i for i, name in enumerate(names) if name in values.values()]
    result = TaskResult("segmentation", str(images or data), len(table),
                        _iou_metrics(model_counts, names, scored, correct, total), problems, table=table)
    if water:
        result.classical[BASELINE] = _iou_metrics(otsu_counts, names, scored, otsu_correct, total)
        result.classical_methods[BASELINE] = (f"per-image Otsu threshold on band 1 in dB: darker = {names[water - 1]}, "
                                              f"brighter = {names[other - 1]}")
    result.notes.append(f"labels {', '.join(names)}; mask values {mask_values}")
    return result


def _iou_metrics(counts: np.ndarray, names: list[str], scored: list[int], correct: int, total: int) -> dict[str, float]:
    intersection, union = counts
    ious = {f"iou_{names[i]}": float(100.0 * intersection[i] / union[i]) if union[i] else 0.0 for i in scored}
    return {**ious, "mean_iou": float(np.mean(list(ious.values()))), "pixel_accuracy": 100.0 * correct / max(total, 1)}
