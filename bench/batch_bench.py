"""Batch benchmark: indexing 8 scenes on a Dask LocalCluster of 1 vs 2 workers, and the per-scene cost.

Both clusters are started and warmed (each worker loads the bundled model once) before timing, so the
rounds time the batch itself: planning, one task per scene, indexes written to a fresh folder. The
1- and 2-worker runs alternate ROUNDS times with the one-process engine (build_index in a loop, in this
process, one torch thread), the batch's baseline; medians are reported. The scenes are the real Sentinel-1
scene tiled to SIZE x SIZE px, each cut at another offset (so each is its own file and index); windows
of 128 px at the engine's default overlap (DEFAULT_OVERLAP), as the CLI's defaults. From the 1-worker time per Mpixel comes the estimate
for an archive of 1,000 full Sentinel-1 IW GRD scenes (25,000 x 16,000 px) on N workers, assuming
workers like these and storage that keeps up (indexing is encoder-bound, about 235 windows/s per core
in bench/scene_bench.py). BATCH_BENCH_BACKEND=onnx runs the workers and the baseline on ONNX Runtime.
Writes outputs/bench/batch-BACKEND.json.
"""

from __future__ import annotations

import json
import os
import statistics
import sys
import tempfile
import time
from contextlib import ExitStack
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
SENTINEL1 = ROOT.parent / "shared" / "data" / "sentinel1" / "S1A__IW___A_20150309T173017_VV_grd_mli_geo_norm_db.tif"
SCENES = 8
SIZE = int(os.environ.get("BATCH_BENCH_SIZE", 1024))
ROUNDS = int(os.environ.get("BATCH_BENCH_ROUNDS", 3))
BACKEND = os.environ.get("BATCH_BENCH_BACKEND", "auto")  # torch, onnx or auto (scene.backend)
FULL_SCENE_MPX = 25_000 * 16_000 / 1e6
ARCHIVE = 1000


def make_scenes(folder: Path) -> list[Path]:
    """SCENES real-data GeoTIFFs of SIZE x SIZE px: the Sentinel-1 scene tiled, cut at different offsets."""
    import rasterio

    with rasterio.open(SENTINEL1) as source:
        data, profile = source.read(), source.profile
    reps = (1, SIZE // data.shape[1] + 2, SIZE // data.shape[2] + 2)
    tiled = np.tile(data, reps)
    paths = []
    for k in range(SCENES):
        row, col = (17 * k) % data.shape[1], (29 * k) % data.shape[2]
        path = folder / f"scene{k}.tif"
        with rasterio.open(path, "w", **{**profile, "width": SIZE, "height": SIZE}) as target:
            target.write(tiled[:, row:row + SIZE, col:col + SIZE])
        paths.append(path)
    return paths


def timed_batch(scenes: list[Path], client, index_dir: Path) -> tuple[float, list]:
    from sarclip_core.batch.run import index_scenes
    from sarclip_core.scene import SceneSettings

    started = time.perf_counter()
    results = index_scenes(scenes, "default", SceneSettings(index_dir=index_dir), client, backend=BACKEND)
    seconds = time.perf_counter() - started
    assert all(r.status == "indexed" for r in results), [r.error for r in results if r.error]
    return seconds, results


def timed_loop(scenes: list[Path], checkpoint, index_dir: Path) -> float:
    """The one-process engine on the same scenes, one after the other."""
    from sarclip_core.scene import SceneSettings, build_index

    started = time.perf_counter()
    for scene in scenes:
        build_index(scene, checkpoint, SceneSettings(index_dir=index_dir))
    return time.perf_counter() - started


def main() -> None:
    from sarclip_core.batch.__main__ import quiet_dask_logs

    quiet_dask_logs()
    with tempfile.TemporaryDirectory(prefix="sarclip-batch-bench-") as work:
        measure(Path(work))


def measure(work: Path) -> None:
    import torch

    from sarclip_core.batch.cluster import connect
    from sarclip_core.batch.run import index_scenes
    from sarclip_core.scene import SceneSettings
    from sarclip_core.scene.backend import load_model, resolve_backend
    from sarclip_core.scene.settings import DEFAULT_OVERLAP

    torch.set_num_threads(1)  # the baseline gets what one worker gets
    checkpoint = load_model("default", BACKEND)

    scenes = make_scenes(work)
    clients, startup = {}, {}
    times: dict[int, list[float]] = {0: [], 1: [], 2: []}  # 0: the one-process engine
    windows = 0
    with ExitStack() as clusters:
        for workers in (1, 2):
            started = time.perf_counter()
            clients[workers] = clusters.enter_context(connect(f"local:{workers}"))
            # warm-up: every worker loads the model once (one scene each)
            index_scenes(scenes[:workers], "default", SceneSettings(index_dir=work / f"warm{workers}"), clients[workers],
                         backend=BACKEND)
            startup[workers] = time.perf_counter() - started
        for round_ in range(ROUNDS):
            for workers in (0, 1, 2) if round_ % 2 == 0 else (2, 1, 0):
                if workers == 0:
                    times[0].append(timed_loop(scenes, checkpoint, work / f"r{round_}-loop"))
                    continue
                seconds, results = timed_batch(scenes, clients[workers], work / f"r{round_}-w{workers}")
                times[workers].append(seconds)
                windows = sum(r.details["windows"] for r in results)
    loop, one, two = statistics.median(times[0]), statistics.median(times[1]), statistics.median(times[2])
    mpx = SCENES * SIZE * SIZE / 1e6
    per_mpx = one / mpx  # seconds per Mpixel on one worker (one core)
    per_full_scene = per_mpx * FULL_SCENE_MPX
    estimate = {f"{n}_workers_hours": round(ARCHIVE * per_full_scene / n / 3600, 1) for n in (1, 10, 100, 1000)}
    out = {"backend": resolve_backend(BACKEND), "overlap": DEFAULT_OVERLAP, "scenes": SCENES, "size_px": SIZE, "windows": windows, "rounds": ROUNDS,
           "seconds_one_process": [round(t, 2) for t in times[0]], "seconds_1_worker": [round(t, 2) for t in times[1]], "seconds_2_workers": [round(t, 2) for t in times[2]],
           "median_one_process_s": round(loop, 2), "batch_1_worker_vs_one_process": round(loop / one, 2),
           "median_1_worker_s": round(one, 2), "median_2_workers_s": round(two, 2), "speedup_2_vs_1": round(one / two, 2),
           "per_scene_s_1_worker": round(one / SCENES, 3), "s_per_mpixel_1_worker": round(per_mpx, 3),
           "windows_per_s_1_worker": round(windows / one, 1),
           "cluster_start_and_model_load_s": {str(k): round(v, 1) for k, v in startup.items()},
           "full_scene_mpixel": FULL_SCENE_MPX, "full_scene_s_1_worker": round(per_full_scene, 1),
           "archive_1000_full_scenes": estimate, "cpus": os.cpu_count()}
    print(f"{resolve_backend(BACKEND)}, overlap {DEFAULT_OVERLAP}: {SCENES} scenes of {SIZE}^2 ({windows} windows), median of {ROUNDS} alternating rounds: 1 worker "
          f"{one:.1f} s, 2 workers {two:.1f} s, speed-up {one / two:.2f}x on {os.cpu_count()} cores; the one-process "
          f"engine {loop:.1f} s (batch on 1 worker runs at {loop / one:.2f} of its speed)")
    print(f"per scene on 1 worker: {one / SCENES:.2f} s ({per_mpx:.2f} s per Mpixel, {windows / one:.0f} windows/s); "
          f"a full {FULL_SCENE_MPX:.0f}-Mpixel Sentinel-1 scene: about {per_full_scene / 60:.0f} min per worker")
    print("1,000 full scenes: " + ", ".join(f"{n} worker(s) {ARCHIVE * per_full_scene / n / 3600:.1f} h"
                                            for n in (1, 10, 100, 1000)))
    target = ROOT / "outputs" / "bench" / f"batch-{resolve_backend(BACKEND)}.json"
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(json.dumps(out, indent=2))
    print(f"written {target}")


if __name__ == "__main__":
    main()
