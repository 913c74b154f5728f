"""Image encoder speed of a model (default: the bundled one): native 128 px tiles per second, inference.

Batch 64, torch on all cores (2 here), after warm-up; the median of several timed batches. Two paths are
timed in the same process: the raw open_clip image tower, and AnyReader (what training, evaluation and
scene indexing call), so the reader's overhead is a ratio. Target for the default model: >= 300 tiles/s.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from sarclip_core.model import load_model  # noqa: E402


def tiles_per_second(encode, batch: torch.Tensor, repeats: int) -> float:
    with torch.no_grad():
        for _ in range(3):
            encode(batch)
        times = []
        for _ in range(repeats):
            start = time.perf_counter()
            encode(batch)
            times.append(time.perf_counter() - start)
    return len(batch) / statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="default")
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--repeats", type=int, default=15)
    args = parser.parse_args()
    checkpoint = load_model(args.model)
    size = checkpoint.reader.native_size
    batch = torch.randn(args.batch_size, checkpoint.channels, size, size)
    raw = tiles_per_second(lambda x: checkpoint.model.encode_image(
        torch.stack([checkpoint.reader.fit_channels(image) for image in x])), batch, args.repeats)
    reader = tiles_per_second(checkpoint.reader, batch, args.repeats)
    print(f"model {args.model}: {size} px tiles, batch {args.batch_size}, {torch.get_num_threads()} threads")
    print(f"raw image tower: {raw:.0f} tiles/s")
    print(f"AnyReader:       {reader:.0f} tiles/s  (ratio to raw {reader / raw:.2f}; target >= 300 tiles/s)")


if __name__ == "__main__":
    main()
