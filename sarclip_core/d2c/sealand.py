"""Sea/land masks (SL-SSDD: 255 sea, 0 land) -> each ship's setting and the background of an image or window.

A ship's setting is read from the land in two rings around its box:

- land in the near ring (the box grown by a quarter of its longer side, at least 3 px) covering at
  least TOUCH_SHARE of it: the ship touches land, it is moored along a quay ("at a quay");
- else land in the wide ring (the box grown by PORT_RING times its longer side): at least
  PORT_SHARE of it means land on several sides, a port ("in port"); at least NEAR_SHARE, "near the coast";
- else "open sea".

The background follows the land share of the whole image or window: under OPEN_SEA_MAX "open sea",
at or above LAND_MIN "land", in between "harbour" when a ship lies at a quay or in port, else "coastline".
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any, Iterable, Iterator

import numpy as np

from ..errors import SarclipError
from .boxes import Box, ImageRecord
from .readers import find_image, read_mask
from .validate import Problems

LAND_MAX_VALUE = 127  # mask values at or below are land (the masks hold 0 and 255)
NEAR_RING = 0.25  # near ring width, share of the box's longer side
NEAR_RING_MIN_PX = 3
PORT_RING = 2.0  # wide ring width, in box sides
TOUCH_SHARE = 0.02  # land share of the near ring that means the ship touches land
PORT_SHARE = 0.25  # land share of the wide ring that means land on several sides
NEAR_SHARE = 0.01  # land share of the wide ring that means land is close
OPEN_SEA_MAX = 0.01  # land share of an image below which it is open sea
LAND_MIN = 0.8  # land share of an image from which it is land with a little sea
MOORED = ("at a quay", "in port")
MASK_KIND = "sealand"


def land_of(mask: np.ndarray) -> np.ndarray:
    """Boolean land pixels of a sea/land mask."""
    return mask <= LAND_MAX_VALUE


def _ring_share(land: np.ndarray, box: Box, grow: float) -> float:
    """Land share of the box grown by grow pixels on every side, clipped to the image, box itself included."""
    height, width = land.shape
    x0, y0 = max(0, int(np.floor(box.xmin - grow))), max(0, int(np.floor(box.ymin - grow)))
    x1, y1 = min(width, int(np.ceil(box.xmax + grow))), min(height, int(np.ceil(box.ymax + grow)))
    region = land[y0:y1, x0:x1]
    return float(region.mean()) if region.size else 0.0


def ship_setting(box: Box, land: np.ndarray) -> str:
    """"at a quay", "in port", "near the coast" or "open sea" from the land around the box (rules above)."""
    side = max(box.width, box.height)
    if _ring_share(land, box, max(NEAR_RING_MIN_PX, NEAR_RING * side)) >= TOUCH_SHARE:
        return "at a quay"
    wide = _ring_share(land, box, PORT_RING * side)
    if wide >= PORT_SHARE:
        return "in port"
    return "near the coast" if wide >= NEAR_SHARE else "open sea"


def sea_background(land_share: float, settings: Iterable[str]) -> str:
    """"open sea", "coastline", "harbour" or "land" from the land share and the settings of the ships in view."""
    if land_share < OPEN_SEA_MAX:
        return "open sea"
    if land_share >= LAND_MIN:
        return "land"
    return "harbour" if any(s in MOORED for s in settings) else "coastline"


def describe_land(mask: np.ndarray, boxes: Iterable[Box]) -> dict[str, Any]:
    """Context of an image or window from its sea/land mask: land share and background kind."""
    share = float(land_of(mask).mean())
    settings = [b.attributes.get("setting", "") for b in boxes]
    return {"mask_kind": MASK_KIND, "land_share": round(share, 4), "background": sea_background(share, settings)}


def with_sealand(records: Iterable[ImageRecord], folder: Path, problems: Problems) -> Iterator[ImageRecord]:
    """Each record with its ships' settings (box attribute "setting") and its land share and background.

    The mask is the image in folder with the record's file stem; a missing or mis-sized mask is a
    reported problem and the record is kept without sea/land truth.
    """
    if not folder.is_dir():
        raise SarclipError(f"{folder}: --sealand folder not found")
    for record in records:
        path = find_image(folder, Path(record.filepath).stem)
        if path is None:
            problems.add(f"{record.filepath}: no sea/land mask {Path(record.filepath).stem}.* in {folder}")
            yield record
            continue
        try:
            mask = read_mask(path, record.width, record.height)
        except SarclipError as exc:
            problems.add(str(exc))
            yield record
            continue
        land = land_of(mask)
        record.boxes = [dataclasses.replace(b, attributes={**b.attributes, "setting": ship_setting(b, land)})
                        for b in record.boxes]
        record.context = {**record.context, **describe_land(mask, record.boxes), "mask": str(path)}
        yield record
