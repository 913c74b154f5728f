"""Scene windows as batches of model input, read ahead in a thread so reading overlaps encoding."""

from __future__ import annotations

import queue
import sys
import threading
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
    """Iterate `batches` from a reader thread, at most `depth` (>= 2) batches ahead (so memory stays bounded).

    GDAL reads and most numpy work release the GIL, so the next batch is read while torch encodes. The
    reader thread runs every step of the generator and closes it itself, so the raster (and rasterio's
    thread-local GDAL environment) is opened and closed in one thread, even when a SIGTERM or Ctrl-C lands
    while that thread is being started. Closing this iterator (cancel, error) waits for the batch being read
    at most, and drops the ones not started. An error of the generator, its close included, is raised here.
    """
    if depth < 2:
        raise ValueError(f"prefetch depth must be at least 2 (the batch being read and one waiting), got {depth}")
    ahead: queue.Queue = queue.Queue(maxsize=depth - 1)  # plus the one the reader holds
    stop = threading.Event()
    close_failed: list[BaseException] = []

    def read() -> None:
        try:
            if stop.is_set():
                return  # stopped before it began: the generator was never started
            for batch in batches:
                if not _offer(ahead, batch, stop):
                    return
            _offer(ahead, _END, stop)
        except BaseException as error:  # handed to the consumer, raised there
            _offer(ahead, _Failed(error), stop)
        finally:
            try:
                batches.close()
            except BaseException as error:  # raised in the consumer once the reader has ended
                close_failed.append(error)

    reader = threading.Thread(target=read, name="sarclip-scene-reader", daemon=True)
    try:
        reader.start()
        while (item := ahead.get()) is not _END:
            if isinstance(item, _Failed):
                raise item.error
            yield item
    finally:
        stop.set()
        try:
            reader.join()
        except RuntimeError:  # interrupted before the thread was started: if it runs, it sees `stop` first
            pass
        if close_failed and sys.exc_info()[0] in (None, GeneratorExit):
            raise close_failed[0]


_END = object()


@dataclass
class _Failed:
    """An exception the reader thread met, to be raised in the consumer's thread."""

    error: BaseException


def _offer(ahead: queue.Queue, item: object, stop: threading.Event) -> bool:
    """Put `item` in the look-ahead queue, waiting for room until `stop` is set; False when stopped."""
    while not stop.is_set():
        try:
            ahead.put(item, timeout=0.05)
            return True
        except queue.Full:
            continue
    return False
