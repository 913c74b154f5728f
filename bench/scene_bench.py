"""Scene benchmarks: indexing throughput vs the raw encoder, peak RSS 1x vs 4x scene, query on index vs re-index.

Each measurement runs in its own process (peak RSS from the kernel). Sizes are scaled to finish in a
few minutes on 2 shared cores: SIZE (default 2048^2 vs 4096^2 for RSS) and QUERY_SIZE (default
10000^2 = 100 Mpixel, indexed once with 128 px windows at overlap 0, so the index-vs-query ratio
is measured on a real 100-Mpixel grid). Random-init sarclip-tiny-rn, 1 torch thread.
"""

from __future__ import annotations

import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
ROUNDS = 3  # throughput: indexing and the raw encoder alternate this many times
sys.path.insert(0, str(ROOT))


def make_scene(path: Path, size: int, height: int | None = None) -> None:
    """Exponential speckle in float32, a tiled GeoTIFF of size x size px (size x height), 10 m pixels in UTM 31N."""
    import rasterio
    from rasterio.transform import from_origin
    rng = np.random.default_rng(0)
    height = height or size
    with rasterio.open(path, "w", driver="GTiff", width=size, height=height, count=1, dtype="float32",
                       crs="EPSG:32631", transform=from_origin(600000, 4800000, 10, 10), tiled=True) as ds:
        for row in range(0, height, 512):
            h = min(512, height - row)
            ds.write(rng.exponential(1, (1, h, size)).astype(np.float32), window=((row, row + h), (0, size)))


def model(folder: Path):
    import torch

    from sarclip_core.model import create_model, load_model, model_config, save_checkpoint
    if not folder.exists():
        torch.manual_seed(0)
        save_checkpoint(folder, create_model("sarclip-tiny-rn"), model_config("sarclip-tiny-rn"))
    return load_model(folder)


def child(task: str, scene: str, work: str) -> None:
    import torch
    torch.set_num_threads(1)
    from sarclip_core.scene import SceneSettings, build_index, text_query
    from sarclip_core.scene.encoder import WindowEncoder
    ckpt = model(Path(work) / "model")
    out: dict = {}
    if task == "throughput":
        # alternated rounds, medians: one round of each swung the ratio from 0.8 to 1.03 between runs
        batch = np.random.default_rng(0).normal(size=(64, 3, 128, 128)).astype(np.float32)
        encode, pipeline, raw = WindowEncoder(ckpt), [], []
        for round_ in range(ROUNDS):
            index = build_index(scene, ckpt, SceneSettings(overlap=0.5, index_dir=Path(work) / f"tp{round_}"))
            pipeline.append(index.meta["windows_per_second"])
            started, n = time.perf_counter(), 0
            while time.perf_counter() - started < 5:
                encode(batch)
                n += 64
            raw.append(n / (time.perf_counter() - started))
        out = {"pipeline_windows_per_s": float(np.median(pipeline)), "windows": index.windows,
               "raw_encoder_windows_per_s": float(np.median(raw)), "rounds": ROUNDS}
    elif task == "rss":
        index = build_index(scene, ckpt, SceneSettings(overlap=0.0, index_dir=Path(work) / f"rss{os.getpid()}"))
        out = {"windows": index.windows, "seconds": index.seconds}
    elif task == "query":
        settings = SceneSettings(overlap=0.0, index_dir=Path(work) / "q")
        index = build_index(scene, ckpt, settings)
        started = time.perf_counter()
        result = text_query(scene, "ship", Path(work) / "heat.tif", ckpt, settings, quicklook=False)
        ship_seconds, started = time.perf_counter() - started, time.perf_counter()
        text_query(scene, "water", Path(work) / "water.tif", ckpt, settings, quicklook=False)  # + the scene's levels
        out = {"index_seconds": index.seconds, "windows": index.windows, "query_seconds": ship_seconds,
               "query_reported_seconds": result["seconds_query"], "water_query_seconds": time.perf_counter() - started}
    out["peak_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps(out))


def run(task: str, scene: Path, work: Path) -> dict:
    env = dict(os.environ, OMP_NUM_THREADS="1")
    done = subprocess.run([sys.executable, __file__, task, str(scene), str(work)], capture_output=True, text=True,
                          env=env, check=True)
    return json.loads(done.stdout.strip().splitlines()[-1])


def main() -> None:
    size = int(os.environ.get("SIZE", 2048))
    query_size = int(os.environ.get("QUERY_SIZE", 10000))
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        model(work / "model")
        small, large, big = work / "small.tif", work / "large.tif", work / "big.tif"
        make_scene(small, size)
        make_scene(large, 2 * size)
        tp = run("throughput", small, work)
        print(f"throughput ({size}^2, overlap 0.5, {tp['windows']} windows, median of {tp['rounds']}): pipeline {tp['pipeline_windows_per_s']:.0f}"
              f" windows/s, raw encoder {tp['raw_encoder_windows_per_s']:.0f} windows/s, ratio "
              f"{tp['pipeline_windows_per_s'] / tp['raw_encoder_windows_per_s']:.2f} (target >= 0.9)")
        a, b = run("rss", small, work), run("rss", large, work)
        print(f"peak RSS indexing {size}^2: {a['peak_rss_mb']:.0f} MB; {2 * size}^2: {b['peak_rss_mb']:.0f} MB; "
              f"ratio {b['peak_rss_mb'] / a['peak_rss_mb']:.3f} (target <= 1.15)")
        if query_size:
            make_scene(big, query_size)
            q = run("query", big, work)
            print(f"{query_size}^2 scene ({q['windows']} windows): index {q['index_seconds']:.1f} s, text query "
                  f"{q['query_seconds']:.2f} s (heatmap written), ratio {q['index_seconds'] / q['query_seconds']:.0f}x "
                  f"(targets < 2 s, >= 50x); water query (reads the scene's levels too) {q['water_query_seconds']:.2f} s")


if __name__ == "__main__":
    if len(sys.argv) == 4:
        child(*sys.argv[1:])
    else:
        main()
