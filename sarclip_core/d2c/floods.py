"""Sen1Floods11 chips: a hand-labelled water mask (1 water, 0 not water, -1 no data) -> water share and pattern.

No-data pixels count neither as water nor as land: shares are of the labelled pixels. The pattern of
the water (the "background" of the chip or window) follows simple rules:

- water share under DRY_MAX: "dry land"; at or above OPEN_WATER_MIN: "open water";
- else the water parts (8-connected, at least MIN_PART_PX pixels): a "river" when the largest part
  holds at least half the water, spans at least half the image side and is elongated (principal axes
  ratio at least ELONGATION, or a mean width, area over span, under THIN of its span);
- else "flooded fields" when there are at least FIELDS_MIN_PARTS parts, "water patches" when fewer.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Iterator

import numpy as np
from scipy import ndimage

from ..errors import SarclipError
from ..io import describe
from .boxes import ImageRecord
from .readers import need_folder, read_mask
from .validate import Problems

WATER, NO_DATA = 1, -1
DRY_MAX = 0.01
OPEN_WATER_MIN = 0.6
MIN_PART_PX = 20
ELONGATION = 4.0
THIN = 0.1
FIELDS_MIN_PARTS = 5
MIN_LABELLED = 0.1  # a chip with a smaller labelled share says too little to caption
MASK_KIND = "water"
CHIP_SUFFIX, LABEL_SUFFIX = "_S1Hand", "_LabelHand"
CONTEXT = {"sensor": "Sentinel-1", "band": "C", "mode": "IW", "polarisation": "VV/VH"}


def _is_river(part: np.ndarray, side: int) -> bool:
    """True for a water part that is long and thin across the image (see module rules)."""
    rows, cols = np.nonzero(part)
    span = max(rows.max() - rows.min(), cols.max() - cols.min()) + 1
    if span < side / 2:
        return False
    eigen = np.linalg.eigvalsh(np.cov(np.stack([rows, cols]).astype(np.float64)))
    elongation = float(np.sqrt(eigen[1] / max(eigen[0], 1e-9)))
    return elongation >= ELONGATION or rows.size / span < THIN * span


def water_pattern(water: np.ndarray, share: float) -> tuple[str, int]:
    """The background kind of a water mask with the given water share, and its number of water parts."""
    labels, count = ndimage.label(water, structure=np.ones((3, 3)))
    sizes = ndimage.sum(water, labels, index=range(1, count + 1)) if count else np.zeros(0)
    parts = int((sizes >= MIN_PART_PX).sum())
    if share < DRY_MAX:
        return "dry land", parts
    if share >= OPEN_WATER_MIN:
        return "open water", parts
    largest = int(np.argmax(sizes)) + 1
    if sizes[largest - 1] >= 0.5 * water.sum() and _is_river(labels == largest, min(water.shape)):
        return "river", parts
    return ("flooded fields" if parts >= FIELDS_MIN_PARTS else "water patches"), parts


def describe_water(labels: np.ndarray) -> dict[str, Any]:
    """Context of a chip or window from its water labels: water share of the labelled pixels, pattern, parts."""
    valid = labels != NO_DATA
    water = (labels == WATER) & valid
    labelled = int(valid.sum())
    share = float(water.sum()) / labelled if labelled else 0.0
    background, parts = water_pattern(water, share)
    return {"mask_kind": MASK_KIND, "water_share": round(share, 4), "labelled_share": round(labelled / labels.size, 4),
            "background": background, "water_parts": parts}


def read_floods(images: Path | None, annotations: Path | None, problems: Problems) -> Iterator[ImageRecord]:
    """Every <chip>_S1Hand.tif in images with its <chip>_LabelHand.tif in annotations, as a record without boxes."""
    image_dir, label_dir = need_folder(images, "images"), need_folder(annotations, "annotations")
    chips = sorted(image_dir.glob(f"*{CHIP_SUFFIX}.tif"))
    if not chips:
        raise SarclipError(f"{image_dir}: no *{CHIP_SUFFIX}.tif chips (is this Sen1Floods11's S1 folder?)")
    for chip in chips:
        label = label_dir / chip.name.replace(CHIP_SUFFIX, LABEL_SUFFIX)
        try:
            info = describe(chip)
            context = describe_water(read_mask(label, info.width, info.height))
        except SarclipError as exc:
            problems.add(str(exc))
            continue
        if context["labelled_share"] < MIN_LABELLED:
            problems.add(f"{label}: only {context['labelled_share']:.0%} of the chip is labelled, skipped")
            continue
        yield ImageRecord(str(chip), info.width, info.height, [], {**CONTEXT, **context, "mask": str(label)})
