"""ONNX Runtime vs PyTorch for the scene engine, and a whole Sentinel-1-sized scene on the best backend.

1. encoder: the bundled model's window encoder (dense cells), the same batches of 64 native windows, the same
   thread count (THREADS, default: all cores) for both, alternated ROUNDS times in one process; tiles/s medians.
2. index: the scene index of a generated SIZE^2 float32 scene (default 2048, default overlap) built on each backend
   in turn (fresh index folders, alternated ROUNDS times, one process); windows/s medians.
3. scene (SCENE=1, or WIDTH x HEIGHT set): a generated 25,000 x 16,000 px float32 scene with CRS (a Sentinel-1
   IW GRD product's size) indexed with the default settings on ONNX Runtime, then one new text query on the
   index, in a child process: seconds and peak RSS. Targets: index <= 120 s, peak RSS <= 1.5 GB, query <= 1 s.
The ratios are what to read: the machine is shared, so absolute times move between runs.
"""

from __future__ import annotations

import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from scene_bench import make_scene  # noqa: E402  (bench/ is on sys.path: this script's folder)

ROUNDS = 3
THREADS = int(os.environ.get("THREADS", os.cpu_count() or 1))


def models():
    import torch

    from sarclip_core.model import DEFAULT_CHECKPOINT, load_model
    from sarclip_core.model.onnx_runtime import load_onnx

    torch.set_num_threads(THREADS)
    return {"torch": load_model("default"), "onnx": load_onnx(DEFAULT_CHECKPOINT, threads=THREADS)}


def encoder() -> None:
    from sarclip_core.scene.backend import window_encoder

    encoders = {name: window_encoder(model) for name, model in models().items()}
    batches = [np.random.default_rng(seed).normal(size=(64, 3, 128, 128)).astype(np.float32) for seed in range(4)]
    rates: dict[str, list[float]] = {name: [] for name in encoders}
    for encode in encoders.values():  # warm-up
        encode(batches[0])
    for _ in range(ROUNDS):
        for name, encode in encoders.items():
            started = time.perf_counter()
            for batch in batches:
                encode(batch)
            rates[name].append(64 * len(batches) / (time.perf_counter() - started))
    torch_rate, onnx_rate = statistics.median(rates["torch"]), statistics.median(rates["onnx"])
    print(f"encoder ({THREADS} threads, batch 64 x 128 px, median of {ROUNDS}): PyTorch {torch_rate:.0f} tiles/s, "
          f"ONNX Runtime {onnx_rate:.0f} tiles/s, ratio {onnx_rate / torch_rate:.2f} (target >= 1, aim 1.5)")


def index(work: Path) -> None:
    from sarclip_core.scene import SceneSettings, build_index

    size = int(os.environ.get("SIZE", 2048))
    scene = work / "scene.tif"
    make_scene(scene, size, size)
    rates: dict[str, list[float]] = {"torch": [], "onnx": []}
    loaded = models()
    for round_ in range(ROUNDS):
        for name, model in loaded.items():
            built = build_index(scene, model, SceneSettings(index_dir=work / f"{name}{round_}"))
            rates[name].append(built.meta["windows_per_second"])
    torch_rate, onnx_rate = statistics.median(rates["torch"]), statistics.median(rates["onnx"])
    print(f"scene index ({size}^2, overlap {SceneSettings().overlap}, {built.windows} windows, {THREADS} threads, "
          f"median of {ROUNDS}): "
          f"PyTorch {torch_rate:.0f} windows/s, ONNX Runtime {onnx_rate:.0f} windows/s, "
          f"ratio {onnx_rate / torch_rate:.2f}")


def scene_child(scene: str, work: str) -> None:
    """Index with the default settings on ONNX Runtime, then one new query; prints JSON (child process)."""
    from sarclip_core.model import DEFAULT_CHECKPOINT
    from sarclip_core.model.onnx_runtime import load_onnx
    from sarclip_core.scene import SceneSettings, build_index, text_query

    started = time.perf_counter()
    model = load_onnx(DEFAULT_CHECKPOINT, threads=THREADS)
    settings = SceneSettings(index_dir=Path(work) / "index", index_cache_gb=50)
    built = build_index(scene, model, settings)
    indexed = time.perf_counter() - started
    started = time.perf_counter()
    result = text_query(scene, "ship", Path(work) / "heat.tif", model, settings, quicklook=False)
    print(json.dumps({"index_seconds": indexed, "windows": built.windows, "query_seconds": time.perf_counter() - started,
                      "query_reported_seconds": result["seconds_query"], "cells": built.count,
                      "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))


def whole_scene(work: Path) -> None:
    width, height = int(os.environ.get("WIDTH", 25000)), int(os.environ.get("HEIGHT", 16000))
    scene = work / "s1_sized.tif"
    make_scene(scene, width, height)
    done = subprocess.run([sys.executable, __file__, "scene", str(scene), str(work)], capture_output=True, text=True,
                          env=dict(os.environ), check=True)
    r = json.loads(done.stdout.strip().splitlines()[-1])
    print(f"whole scene {width} x {height} px float32 (ONNX Runtime, {THREADS} threads, default settings, "
          f"{r['windows']} windows): index {r['index_seconds']:.1f} s (target <= 120), peak RSS "
          f"{r['peak_rss_mb']:.0f} MB (target <= 1536), new text query {r['query_seconds']:.2f} s (target <= 1)")


def main() -> None:
    encoder()
    with tempfile.TemporaryDirectory() as tmp:
        index(Path(tmp))
    if os.environ.get("SCENE") == "1" or "WIDTH" in os.environ:
        with tempfile.TemporaryDirectory() as tmp:
            whole_scene(Path(tmp))
    else:
        print("whole-scene benchmark skipped (SCENE=1 runs it: about 1.6 GB of scene and minutes of both cores)")


if __name__ == "__main__":
    if len(sys.argv) == 4 and sys.argv[1] == "scene":
        scene_child(sys.argv[2], sys.argv[3])
    else:
        main()
