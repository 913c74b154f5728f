"""Training datasets: chips read once and kept normalised, deterministic per-(epoch, index) randomness, shards."""

from __future__ import annotations

import math
import zlib
from dataclasses import dataclass
from typing import Sequence

import numpy as np
import torch
from tqdm import tqdm

from ..errors import SarclipError
from ..io import Normalisation
from .images import read_chip
from .manifest import Sample


@dataclass
class Batch:
    """Images (a stacked tensor when all share a size, else a list), one caption each, group and caption ids."""

    images: torch.Tensor | list[torch.Tensor]
    captions: list[str]
    groups: torch.Tensor
    caption_ids: torch.Tensor


class ChipDataset:
    """Samples with their chips read and normalised once up front (the SAR sets here fit in memory).

    Unreadable images are an error naming the file, or with `skip_bad` are dropped and listed in
    `problems`. With `crop`, every item is a random crop of that size (zero-padded when smaller), as
    self-supervised batches need one size. Item randomness (caption choice, shift, crop) comes from (seed, epoch, index), so a resumed
    or sharded run sees exactly what an uninterrupted one would.
    """

    def __init__(self, samples: Sequence[Sample], normalisation: Normalisation, channels: int = 1,
                 shift: int = 8, seed: int = 0, skip_bad: bool = False, show_progress: bool = True,
                 crop: int | None = None):
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

    def __len__(self) -> int:
        return len(self.samples)

    def item(self, index: int, epoch: int) -> tuple[torch.Tensor, str]:
        """The chip, randomly shifted (zero fill), and one of its captions, both fixed by (seed, epoch, index)."""
        rng = np.random.default_rng([self.seed, epoch, index])
        chip = self.chips[index]
        if self.crop:
            chip = _random_crop(chip, self.crop, rng)
        if self.shift:
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
        return Batch(images, list(captions), self.groups[list(indices)], caption_ids)

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
