"""Scene composer: real MSTAR targets, cut out by their own returns, pasted into real MSTAR clutter at known places.

It makes the multi-object scenes (with exact boxes) that teach counting and positions, since no real
captioned multi-target SAR scenes exist here.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterator

import numpy as np
from PIL import Image
from scipy import ndimage

from ..data.images import image_files
from ..errors import SarclipError
from ..files import atomic_file
from ..io import open_raster
from .boxes import Box, ImageRecord, overlaps

CLUTTER_PATCH = 32  # corners of a 128 px MSTAR chip this size hold ground clutter only
TARGET_CROP = 64  # the centre crop of a chip that holds the target
TARGET_PERCENTILE = 96.0  # a target is the chip's brightest returns, grown a little
MARGIN = 2  # px kept free between pasted targets


@dataclass(frozen=True)
class ComposeSettings:
    """How many scenes, how big, how crowded."""

    scenes: int = 100
    size: int = 256
    max_objects: int = 8
    empty_share: float = 0.05

    def __post_init__(self) -> None:
        # Checked here, before any scene is written: PIL and random fail on these with errors that name nothing.
        if self.scenes < 1:
            raise SarclipError(f"--scenes must be at least 1, got {self.scenes}")
        if self.size < CLUTTER_PATCH:
            raise SarclipError(f"--scene-size must be at least {CLUTTER_PATCH} px (one clutter patch), got {self.size}")
        if self.max_objects < 1:
            raise SarclipError(f"--max-objects must be at least 1, got {self.max_objects}")
        if not 0 <= self.empty_share <= 1:
            raise SarclipError(f"--empty-share must be between 0 and 1, got {self.empty_share}")


class ChipLibrary:
    """The classification chips by class, read once through sarclip_core.io (8-bit MSTAR magnitudes)."""

    def __init__(self, root: Path, classes: dict[str, str]):
        if not root.is_dir():
            raise SarclipError(f"{root}: chip folder not found")
        self.paths = {classes.get(d.name, d.name): image_files(d) for d in sorted(root.iterdir()) if d.is_dir()}
        self.paths = {label: files for label, files in self.paths.items() if files}
        if not self.paths:
            raise SarclipError(f"{root}: no class folders with images (expected ROOT/<CLASS>/images)")
        self.all = [p for files in self.paths.values() for p in files]
        self._cache: dict[Path, np.ndarray] = {}

    def read(self, path: Path) -> np.ndarray:
        if path not in self._cache:
            with open_raster(path) as ds:
                chip = ds.read(1).astype(np.float32)
            if min(chip.shape) < max(TARGET_CROP, 2 * CLUTTER_PATCH):
                raise SarclipError(f"{path}: chip is {chip.shape[1]}x{chip.shape[0]} px, too small to compose")
            self._cache[path] = chip
        return self._cache[path]


def target_mask(crop: np.ndarray) -> np.ndarray:
    """The target's own pixels in a chip crop: its brightest returns, closed and grown, largest part only."""
    bright = crop >= np.percentile(crop, TARGET_PERCENTILE)
    grown = ndimage.binary_fill_holes(ndimage.binary_dilation(ndimage.binary_closing(bright, iterations=2), iterations=2))
    labels, count = ndimage.label(grown)
    if count == 0:
        return grown
    sizes = ndimage.sum(grown, labels, index=range(1, count + 1))
    return labels == (int(np.argmax(sizes)) + 1)


def clutter(library: ChipLibrary, size: int, rng: random.Random) -> np.ndarray:
    """A size x size background tiled from clutter-only chip corners, randomly flipped, levelled to one mean."""
    tiles = -(-size // CLUTTER_PATCH)
    scene = np.zeros((tiles * CLUTTER_PATCH, tiles * CLUTTER_PATCH), dtype=np.float32)
    level = None
    for row in range(tiles):
        for col in range(tiles):
            chip = library.read(rng.choice(library.all))
            r0 = rng.choice([0, chip.shape[0] - CLUTTER_PATCH])
            c0 = rng.choice([0, chip.shape[1] - CLUTTER_PATCH])
            patch = chip[r0:r0 + CLUTTER_PATCH, c0:c0 + CLUTTER_PATCH]
            patch = patch[::rng.choice([1, -1]), ::rng.choice([1, -1])]
            mean = float(patch.mean()) or 1.0
            level = level if level is not None else mean
            # Same sensor, same calibration: a gain per patch only hides seams from chip-level scaling.
            scene[row * CLUTTER_PATCH:(row + 1) * CLUTTER_PATCH, col * CLUTTER_PATCH:(col + 1) * CLUTTER_PATCH] = patch * (level / mean)
    return scene[:size, :size]


def compose_scene(library: ChipLibrary, settings: ComposeSettings, rng: random.Random) -> tuple[np.ndarray, list[Box]]:
    """One scene and the boxes of the targets pasted into it (no two overlap)."""
    scene = clutter(library, settings.size, rng)
    wanted = 0 if rng.random() < settings.empty_share else rng.randint(1, settings.max_objects)
    labels = rng.sample(sorted(library.paths), rng.randint(1, min(3, len(library.paths))))
    boxes: list[Box] = []
    for _ in range(wanted):
        label = rng.choice(labels)
        source = rng.choice(library.paths[label])
        chip = library.read(source)
        top, left = (chip.shape[0] - TARGET_CROP) // 2, (chip.shape[1] - TARGET_CROP) // 2
        crop = chip[top:top + TARGET_CROP, left:left + TARGET_CROP]
        mask = target_mask(crop)
        rows, cols = np.nonzero(mask)
        if rows.size == 0:
            continue
        crop, mask = crop[rows.min():rows.max() + 1, cols.min():cols.max() + 1], mask[rows.min():rows.max() + 1, cols.min():cols.max() + 1]
        placed = _place(crop.shape, boxes, settings.size, rng, label)
        if placed is None:
            continue
        region = scene[int(placed.ymin):int(placed.ymax), int(placed.xmin):int(placed.xmax)]
        region[mask] = crop[mask]
        boxes.append(Box(label, placed.xmin, placed.ymin, placed.xmax, placed.ymax,
                         attributes={"source_chip": source.name}))
    return scene, boxes


def _place(shape: tuple[int, int], boxes: list[Box], size: int, rng: random.Random, label: str) -> Box | None:
    height, width = shape
    if height > size or width > size:
        return None
    for _ in range(50):
        x, y = rng.randint(0, size - width), rng.randint(0, size - height)
        box = Box(label, float(x), float(y), float(x + width), float(y + height))
        if not any(overlaps(box, other, MARGIN) for other in boxes):
            return box
    return None


def compose(root: Path, out_dir: Path, classes: dict[str, str], settings: ComposeSettings, seed: int,
            context: dict[str, Any]) -> Iterator[ImageRecord]:
    """Write settings.scenes composed PNG scenes to out_dir and yield their records."""
    library = ChipLibrary(root, classes)
    rng = random.Random(seed)
    out_dir.mkdir(parents=True, exist_ok=True)
    for index in range(settings.scenes):
        scene, boxes = compose_scene(library, settings, rng)
        path = out_dir / f"scene_{index:05d}.png"
        with atomic_file(path) as temporary:
            Image.fromarray(np.clip(scene, 0, 255).astype(np.uint8)).save(temporary)
        yield ImageRecord(str(path), settings.size, settings.size, boxes, dict(context, composed=True, background="clutter"))
