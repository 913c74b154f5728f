"""Training datasets: chips read once and kept normalised, deterministic per-(epoch, index) randomness, shards."""

from __future__ import annotations

import math
import zlib
from dataclasses import dataclass
from typing import Sequence

import numpy as np
import torch
from tqdm import tqdm

from ..d2c.vocabulary import DEFAULT_VOCABULARY, Vocabulary, load_vocabulary
from ..errors import SarclipError
from ..io import Normalisation
from .cells import cell_classes, cell_targets
from .images import read_chip
from .manifest import Sample


@dataclass
class Batch:
    """Images (a stacked tensor when all share a size, else a list), one caption each, group and caption ids."""

    images: torch.Tensor | list[torch.Tensor]
    captions: list[str]
    groups: torch.Tensor
    caption_ids: torch.Tensor
    cells: torch.Tensor | None = None  # (B, g, g, K) bool dense positives (all False: no dense truth), or None


class ChipDataset:
    """Samples with their chips read and normalised once up front (the SAR sets here fit in memory).

    Unreadable images are an error naming the file, or with `skip_bad` are dropped and listed in
    `problems`. With `crop`, every item is a random crop of that size (zero-padded when smaller), as
    self-supervised batches need one size. Item randomness (caption choice, shift, crop) comes from (seed, epoch, index), so a resumed
    or sharded run sees exactly what an uninterrupted one would.
    """

    def __init__(self, samples: Sequence[Sample], normalisation: Normalisation, channels: int = 1,
                 shift: int = 8, seed: int = 0, skip_bad: bool = False, show_progress: bool = True,
                 crop: int | None = None, dense: tuple[int, int] | None = None):
        self.samples, self.chips, self.problems = [], [], []
        for sample in tqdm(samples, desc="reading images", unit="img", disable=not show_progress, leave=False):
            try:
                chip = read_chip(sample.filepath, normalisation, channels)
            except SarclipError as error:
                message = f"{sample.source}: {error}" if sample.source else str(error)
                if not skip_bad:
                    raise SarclipError(f"{message} (use --skip-bad to skip unreadable images)") from error
                self.problems.append(message)
                continue
            self.samples.append(sample)
            self.chips.append(torch.from_numpy(chip))
        if not self.samples:
            raise SarclipError("no readable images in the training data")
        self.shift, self.seed, self.crop = shift, seed, crop
        self.groups = torch.tensor([zlib.crc32(s.key.encode()) for s in self.samples], dtype=torch.int64)
        self._written = {(zlib.crc32(caption.encode()), int(group))
                         for sample, group in zip(self.samples, self.groups) for caption in sample.captions}
        self.dense_classes, self.cells = self._dense_truth(*dense) if dense else ([], [None] * len(self.samples))

    def _dense_truth(self, size: int, grid: int) -> tuple[list[str], list[torch.Tensor | None]]:
        """Dense cell targets of every chip of the model's native size whose record has them (data/cells.py)."""
        vocabulary = load_vocabulary(DEFAULT_VOCABULARY)
        per_sample = [_cells(s, size, grid, vocabulary) if s.truth and tuple(c.shape[1:]) == (size, size) else None
                      for s, c in zip(self.samples, self.chips)]
        classes = sorted({name for cells in per_sample if cells for row in cells for names in row for name in names})
        return classes, [torch.from_numpy(cell_targets(cells, classes)) if cells else None for cells in per_sample]

    def __len__(self) -> int:
        return len(self.samples)

    def item(self, index: int, epoch: int) -> tuple[torch.Tensor, str]:
        """The chip, randomly shifted (zero fill), and one of its captions, both fixed by (seed, epoch, index)."""
        rng = np.random.default_rng([self.seed, epoch, index])
        chip = self.chips[index]
        if self.crop:
            chip = _random_crop(chip, self.crop, rng)
        if self.shift and self.cells[index] is None:  # dense targets are tied to pixels: windows are not shifted
            dy, dx = (int(v) for v in rng.integers(-self.shift, self.shift + 1, size=2))
            chip = _shifted(chip, dy, dx)
        captions = self.samples[index].captions
        caption = captions[int(rng.integers(len(captions)))] if captions else ""
        return chip, caption

    def batch(self, indices: Sequence[int], epoch: int) -> Batch:
        chips, captions = zip(*(self.item(i, epoch) for i in indices))
        same_size = len({tuple(c.shape) for c in chips}) == 1
        images = torch.stack(chips) if same_size else list(chips)
        caption_ids = torch.tensor([zlib.crc32(c.encode()) for c in captions], dtype=torch.int64)
        return Batch(images, list(captions), self.groups[list(indices)], caption_ids, self._batch_cells(indices))

    def _batch_cells(self, indices: Sequence[int]) -> torch.Tensor | None:
        """(B, g, g, K) dense positives of a batch (all False for items without), None when the data has none."""
        if not self.dense_classes:
            return None
        blank = torch.zeros_like(next(c for c in self.cells if c is not None))
        return torch.stack([blank if self.cells[i] is None else self.cells[i] for i in indices])

    def written_pairs(self, groups: torch.Tensor, caption_ids: torch.Tensor) -> torch.Tensor:
        """(N, N) bool: whether caption j was written for some image of image i's group in this data set.

        A caption is true of every image with the same objects it was ever written for: "an armoured
        personnel carrier" written for BTR60 and BTR70 chips is right for both, wherever it was drawn.
        """
        return torch.tensor([[(caption, group) in self._written for caption in caption_ids.tolist()]
                             for group in groups.tolist()], dtype=torch.bool)


class EpochBatches:
    """Global batches of a seeded per-epoch permutation, sharded by rank; drops the ragged tail (contrastive)."""

    def __init__(self, size: int, batch_size: int, seed: int, rank: int = 0, world: int = 1):
        self.size, self.batch_size, self.seed, self.rank, self.world = size, batch_size, seed, rank, world
        self.steps = size // (batch_size * world)
        if self.steps == 0:
            raise SarclipError(f"{size} training images are fewer than one global batch "
                               f"({batch_size} x {world} process(es)); lower --batch-size")

    def __len__(self) -> int:
        return self.steps

    def indices(self, epoch: int, step: int) -> list[int]:
        """This rank's indices for batch `step` of `epoch`."""
        order = torch.randperm(self.size, generator=torch.Generator().manual_seed(self.seed * 100003 + epoch))
        start = (step * self.world + self.rank) * self.batch_size
        return order[start:start + self.batch_size].tolist()


def _cells(sample: Sample, size: int, grid: int, vocabulary: Vocabulary) -> list[list[set[str]]] | None:
    try:
        return cell_classes(sample.truth, (size, size), grid, vocabulary)
    except (KeyError, TypeError, ValueError) as error:
        raise SarclipError(f"{sample.source}: a box needs 'label' and 'bbox' [xmin, ymin, xmax, ymax] ({error})") from None


def _random_crop(chip: torch.Tensor, size: int, rng: np.random.Generator) -> torch.Tensor:
    h, w = chip.shape[1:]
    top, left = int(rng.integers(max(h - size, 0) + 1)), int(rng.integers(max(w - size, 0) + 1))
    out = chip[:, top:top + size, left:left + size]
    return torch.nn.functional.pad(out, (0, size - out.shape[2], 0, size - out.shape[1]))


def _shifted(chip: torch.Tensor, dy: int, dx: int) -> torch.Tensor:
    out = torch.zeros_like(chip)
    h, w = chip.shape[1:]
    out[:, max(dy, 0):h + min(dy, 0), max(dx, 0):w + min(dx, 0)] = \
        chip[:, max(-dy, 0):h + min(-dy, 0), max(-dx, 0):w + min(-dx, 0)]
    return out


def chunks(items: Sequence, parts: int) -> list[Sequence]:
    """Split a sequence into `parts` near-equal consecutive slices (micro-batches for --accum-freq)."""
    size = math.ceil(len(items) / parts)
    return [items[i:i + size] for i in range(0, len(items), size)]
