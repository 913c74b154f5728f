"""Peak memory of streaming a scene through read -> convert -> tiled write, for two scene sizes.

Each size runs in a fresh process; its peak RSS comes from the kernel (wait4). Scenes are made in
their own processes too, so the measured child never inherits a big parent (a forked child's peak
includes the parent's pages until exec). Windows do not overlap and each is written as one block at its
place, as the scene maps' chunks are (TiledWriter). The claim being checked: memory is bounded by the
window, not the scene, so the ratio stays near 1.
Usage: python bench/io_memory.py [--sizes 4000 16000] [--tile 512] [--workdir DIR]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import rasterio
from rasterio.transform import from_origin
from rasterio.windows import Window

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def make_scene(path: Path, size: int, block: int = 1024) -> None:
    """A float32 speckled amplitude scene in UTM, written block by block (never whole in memory)."""
    rng = np.random.default_rng(size)
    profile = dict(driver="GTiff", width=size, height=size, count=1, dtype="float32", crs="EPSG:32631",
                   transform=from_origin(600000, 4800000, 10, 10), tiled=True, blockxsize=256, blockysize=256,
                   nodata=0.0, BIGTIFF="YES")
    with rasterio.open(path, "w", **profile) as dst:
        for row in range(0, size, block):
            h = min(block, size - row)
            field = rng.rayleigh(50.0, size=(h, size)).astype(np.float32)
            dst.write(field[None], window=Window(0, row, size, h))


def stream(scene: Path, out: Path, tile: int) -> dict:
    """The measured work: every window read, normalised, and written as a block of a full-resolution GeoTIFF."""
    from sarclip_core.io import (
        Normalisation,
        OutputGrid,
        TiledWriter,
        describe,
        iter_tiles,
        make_grid,
        open_raster,
        to_model_input,
    )
    info = describe(scene)
    norm = Normalisation()
    grid = make_grid(info, tile)
    start = time.perf_counter()
    with open_raster(scene) as ds, TiledWriter(out, OutputGrid.for_scene(info)) as writer:
        for window, data, valid in iter_tiles(ds, info, grid):
            x = to_model_input(data, valid, info.value_kind, norm)
            b = window.box
            writer.write(b.row, b.col, np.where(valid, x, np.nan)[:, :b.height, :b.width])
    return {"windows": len(grid), "seconds": time.perf_counter() - start}


def run_child(scene: Path, out: Path, tile: int) -> dict:
    cmd = [sys.executable, __file__, "--child", str(scene), str(out), str(tile)]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, text=True)
    _, status, usage = os.wait4(proc.pid, 0)
    result = json.loads(proc.stdout.read())
    proc.stdout.close()
    if status != 0:
        raise SystemExit(f"benchmark child failed for {scene}")
    result["peak_rss_mb"] = usage.ru_maxrss / 1024
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs=2, default=[4000, 16000])
    parser.add_argument("--tile", type=int, default=512)
    parser.add_argument("--workdir", type=Path, default=None)
    parser.add_argument("--child", nargs=3, help=argparse.SUPPRESS)
    parser.add_argument("--make", nargs=2, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.make:
        make_scene(Path(args.make[0]), int(args.make[1]))
        return
    if args.child:
        scene, out, tile = args.child
        print(json.dumps(stream(Path(scene), Path(out), int(tile))))
        return
    with tempfile.TemporaryDirectory(dir=args.workdir) as work:
        rows = []
        for size in args.sizes:
            scene, out = Path(work) / f"scene_{size}.tif", Path(work) / f"out_{size}.tif"
            subprocess.run([sys.executable, __file__, "--make", str(scene), str(size)], check=True)
            result = run_child(scene, out, args.tile)
            rows.append({"size": size, **result})
            print(f"{size:>6} x {size:<6} {result['windows']:>6} windows  {result['seconds']:8.1f} s  "
                  f"peak RSS {result['peak_rss_mb']:8.1f} MB", flush=True)
            scene.unlink()
            out.unlink()
    ratio = rows[1]["peak_rss_mb"] / rows[0]["peak_rss_mb"]
    pixels = (rows[1]["size"] / rows[0]["size"]) ** 2
    print(f"peak RSS ratio {rows[1]['size']}^2 / {rows[0]['size']}^2: {ratio:.3f} for {pixels:.0f}x the pixels "
          f"(target <= 1.15)")
    results = ROOT / "bench" / "results"
    results.mkdir(exist_ok=True)
    (results / "io_memory.json").write_text(json.dumps({"rows": rows, "ratio": ratio}, indent=2))
    if ratio > 1.15:
        raise SystemExit("memory grows with the scene")


if __name__ == "__main__":
    main()
