"""Scene windows as batches of model input, read ahead in a thread so reading overlaps encoding."""

from __future__ import annotations

from collections import deque
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Generator, Iterator, Sequence

import numpy as np

from ..io import (
    GridWindow,
    Normalisation,
    RasterInfo,
    WindowGrid,
    fit_channels,
    iter_tiles,
    open_raster,
    to_model_input,
)


@dataclass
class Batch:
    """Up to batch_size windows: normalised input (B, C, T, T), their windows and valid masks."""

    inputs: np.ndarray
    windows: list[GridWindow]
    valid: np.ndarray  # (B, T, T) bool: the window's valid pixels, padding False


def read_batches(info: RasterInfo, grid: WindowGrid, norm: Normalisation, channels: Sequence[int],
                 batch_size: int) -> Generator[Batch, None, None]:
    """Batches of windows in grid order; windows with no valid pixel are skipped (io.iter_tiles).

    `channels` are the channel counts to fit in turn, e.g. (model's SAR channels, encoder's input
    channels): the same mapping read_chip and AnyReader apply to a chip.
    """
    inputs, windows, valid_masks = [], [], []
    with open_raster(info.path) as ds:
        for window, data, valid in iter_tiles(ds, info, grid):
            chip = to_model_input(data, valid, info.value_kind, norm)
            for count in channels:
                chip = fit_channels(chip, count)
            inputs.append(chip)
            windows.append(window)
            valid_masks.append(valid)
            if len(inputs) == batch_size:
                yield Batch(np.stack(inputs), windows, np.stack(valid_masks))
                inputs, windows, valid_masks = [], [], []
    if inputs:
        yield Batch(np.stack(inputs), windows, np.stack(valid_masks))


def prefetch(batches: Generator[Batch, None, None], depth: int = 2) -> Iterator[Batch]:
    """Iterate `batches` from a worker thread, at most `depth` batches ahead (so memory stays bounded).

    GDAL reads and most numpy work release the GIL, so the next batch is read while torch encodes. One
    worker runs every step of the generator, its close included, so the raster is read and closed in
    the thread that opened it. Closing this iterator (cancel, error) waits for the batch being read at
    most, and drops the ones not started.
    """
    end = object()
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="sarclip-scene-reader") as worker:
        ahead = deque(worker.submit(next, batches, end) for _ in range(depth))
        try:
            while (batch := ahead.popleft().result()) is not end:
                ahead.append(worker.submit(next, batches, end))
                yield batch
        finally:
            for future in ahead:
                future.cancel()
            worker.submit(batches.close).result()
