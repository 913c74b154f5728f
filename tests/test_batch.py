"""Many scenes on a real Dask LocalCluster (2 worker processes, one thread each) with the bundled model.

The scenes are crops of the real Sentinel-1 scene (EPSG:32631). What the batch writes must equal what the
one-process engine writes; a worker killed mid-task must not lose its scene; a bad scene must not stop
the others; a second run must find nothing to do.
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import threading
import time

import duckdb
import numpy as np
import pyarrow.parquet as pq
import pytest
import rasterio
from osgeo import gdal, ogr, osr
from rasterio.windows import Window

from bad_input_helpers import one_error_line
from paths import ROOT, SENTINEL1
from sarclip_core.batch.__main__ import main as batch_main
from sarclip_core.batch.cluster import connect
from sarclip_core.batch.run import index_scenes, model_ref
from sarclip_core.batch.worker import ModelRef, index_task
from sarclip_core.errors import SarclipError
from sarclip_core.files import HOST_TAG, staging_path, sweep_stale
from sarclip_core.io import describe
from sarclip_core.scene import SceneSettings, build_index
from sarclip_core.scene.__main__ import main as scene_main
from sarclip_core.scene.index import existing, index_folder
from sarclip_core.scene.prompts import embed_query

CROPS = [(0, 0), (100, 0), (0, 50), (100, 50)]  # (col, row) of 160 x 160 px crops: 4 windows, 25 cells each


def _crop(path, col, row, width, height):
    with rasterio.open(SENTINEL1) as source:
        window = Window(col, row, width, height)
        profile = {**source.profile, "width": width, "height": height, "transform": source.window_transform(window)}
        with rasterio.open(path, "w", **profile) as target:
            target.write(source.read(window=window))
    return path


@pytest.fixture(scope="module")
def scenes(tmp_path_factory):
    if not SENTINEL1.exists():
        pytest.skip(f"real data missing: {SENTINEL1}")
    folder = tmp_path_factory.mktemp("scenes")
    return [_crop(folder / f"crop{k}.tif", col, row, 160, 160) for k, (col, row) in enumerate(CROPS)]


@pytest.fixture(scope="module")
def client():
    with connect("local:2") as dask_client:
        yield dask_client


@pytest.fixture(scope="module")
def model():
    return model_ref("default")


def _models_kept():
    """(On a worker) the ids of the models its process keeps."""
    import importlib

    return [id(m) for m in importlib.import_module("sarclip_core.batch.worker")._loaded.values()]


def _hidden(folder):
    return sorted(p.name for p in folder.iterdir() if p.name.startswith("."))


def test_batch_indexes_equal_the_one_process_engine_and_single_scene_runs_reuse_them(tmp_path, scenes, client, model):
    checkpoint, ref = model
    settings = SceneSettings(index_dir=tmp_path / "batch")
    results = index_scenes(scenes, "default", settings, client)
    assert [r.status for r in results] == ["indexed"] * 4
    loaded = client.run(_models_kept)
    for scene, result in zip(scenes, results):
        alone = build_index(scene, checkpoint, SceneSettings(index_dir=tmp_path / "alone"))
        assert not alone.reused and alone.path.name == os.path.basename(result.index)  # the same key
        batch = existing(tmp_path / "batch" / alone.path.name)
        assert np.array_equal(np.isnan(alone.embeddings), np.isnan(batch.embeddings))
        assert np.allclose(np.nan_to_num(alone.embeddings), np.nan_to_num(batch.embeddings), atol=1e-6)
        assert build_index(scene, checkpoint, settings).reused  # a single-scene run finds the batch's index
    # each worker keeps the model it loaded: another batch reuses it
    assert index_scenes(scenes[:2], "default", SceneSettings(index_dir=tmp_path / "more"), client)[0].status == "indexed"
    again = client.run(_models_kept)
    assert any(loaded.values()) and all(again[worker] == ids for worker, ids in loaded.items() if ids)
    assert all(len(ids) <= 1 for ids in again.values())


def test_second_run_skips_every_scene_without_a_cluster(tmp_path, scenes, client, model):
    settings = SceneSettings(index_dir=tmp_path / "index")
    index_scenes(scenes, "default", settings, client)
    # nothing listens there: a run that tried to reach a cluster would fail
    again = index_scenes(scenes, "default", settings, "tcp://127.0.0.1:9")
    assert [r.status for r in again] == ["skipped"] * 4


def test_onnx_runtime_workers_build_the_indexes_pytorch_then_reuses(tmp_path, scenes, client):
    settings = SceneSettings(index_dir=tmp_path / "index")
    built = index_scenes(scenes[:2], "default", settings, client, backend="onnx")
    assert [r.status for r in built] == ["indexed"] * 2
    again = index_scenes(scenes[:2], "default", settings, "tcp://127.0.0.1:9", backend="torch")
    assert [r.status for r in again] == ["skipped"] * 2 and [r.index for r in again] == [r.index for r in built]


def test_bad_scenes_are_one_line_each_and_the_others_finish(tmp_path, scenes, client, capsys):
    bad = tmp_path / "notes.tif"
    bad.write_text("not a raster")
    with rasterio.open(scenes[0]) as source:
        empty = tmp_path / "nodata.tif"  # describes fine; fails on the worker: nothing valid to index
        with rasterio.open(empty, "w", **source.profile) as target:
            target.write(np.full((1, 160, 160), source.nodata, np.float32))
    argv = ["index", str(scenes[0]), str(bad), str(scenes[1]), str(empty), "--index-dir", str(tmp_path / "index"),
            "--scheduler", client.scheduler.address, "--json", str(tmp_path / "report.json")]
    assert batch_main(argv) == 1
    captured = capsys.readouterr()
    assert "Traceback" not in captured.err
    errors = [line for line in captured.err.splitlines() if line.startswith("error: ")]
    assert len(errors) == 2 and any(str(bad) in e and "not a readable raster" in e for e in errors), errors
    assert any(str(empty) in e and "no valid pixels" in e for e in errors), errors
    assert "4 scene(s): 2 indexed, 0 skipped (already indexed), 2 failed" in captured.out
    report = json.loads((tmp_path / "report.json").read_text())
    assert [s["status"] for s in report["scenes"]] == ["indexed", "failed", "indexed", "failed"]
    assert len([p for p in (tmp_path / "index").iterdir() if not p.name.startswith(".")]) == 2
    assert _hidden(tmp_path / "index") == []


def test_usage_errors_are_one_line(tmp_path, scenes, capsys):
    assert batch_main(["index", str(scenes[0]), "--index-dir", str(tmp_path), "--scheduler", "cluster"]) == 2
    one_error_line(capsys.readouterr().err, "--scheduler 'cluster'", "local:N", "tcp://HOST:8786")
    assert batch_main(["index", str(scenes[0]), "--index-dir", str(tmp_path), "--scheduler", "tcp://127.0.0.1:9",
                       "--overlap", "1"]) == 2
    one_error_line(capsys.readouterr().err, "overlap 1.0 is ambiguous")
    assert batch_main(["query", "--geoparquet", str(tmp_path / "none.parquet"), "--query", "ship",
                       "--out", str(tmp_path / "out")]) == 2
    one_error_line(capsys.readouterr().err, "none.parquet: GeoParquet file not found")


def _read(path):
    with rasterio.open(path) as source:
        return source.read(), source.transform, source.crs


def test_batch_query_writes_what_the_one_scene_cli_writes_and_one_hits_layer(tmp_path, scenes, client, capsys):
    flags = ["--query", "ship", "--labels", "water, land", "--count", "--index-dir", str(tmp_path / "index")]
    bad = tmp_path / "hits.tif"  # not a raster, and named like the batch's own hits file
    bad.write_text("not a raster")
    assert batch_main(["query", *map(str, scenes), str(bad), *flags, "--out", str(tmp_path / "batch"),
                       "--scheduler", client.scheduler.address]) == 1
    peaks = 0
    for scene in scenes:
        alone = tmp_path / "alone" / scene.stem
        assert scene_main([str(scene), *flags, "--out", str(alone), "--json", str(tmp_path / "alone.json")]) == 0
        assert json.loads((tmp_path / "alone.json").read_text())["query"]["index_reused"]  # the batch's index
        batch = tmp_path / "batch" / scene.stem
        for name in ("heatmap.tif", "labels.tif", "confidence.tif"):
            (a, at, ac), (b, bt, bc) = _read(alone / name), _read(batch / name)
            assert at == bt and ac == bc
            assert np.array_equal(np.isnan(a), np.isnan(b)) and np.allclose(np.nan_to_num(a), np.nan_to_num(b), atol=1e-5)
        summary = json.loads((batch / "summary.json").read_text())
        assert summary["count"]["outputs"]["counts"] == str(batch / "counts.gpkg")
        peaks += len(summary["query"]["peaks"]) + sum(summary["count"]["totals"].values())
    errors = [line for line in capsys.readouterr().err.splitlines() if line.startswith("error: ")]
    assert len(errors) == 1 and str(bad) in errors[0] and "not a readable raster" in errors[0]
    source = gdal.OpenEx(str(tmp_path / "batch" / "hits.gpkg"), gdal.OF_VECTOR)
    layer = source.GetLayerByName("hits")
    assert layer.GetSpatialRef().GetAuthorityCode(None) == "4326"
    hits = [(f.GetField("scene"), f.GetField("score"), f.GetGeometryRef().GetX(), f.GetGeometryRef().GetY())
            for f in layer]
    assert len(hits) == peaks
    assert [h[1] for h in hits] == sorted((h[1] for h in hits), reverse=True)
    assert all(4.3 < lon < 4.8 and 43.4 < lat < 43.8 for _, _, lon, lat in hits)  # the Camargue, in lon/lat
    report = json.loads((tmp_path / "batch" / "batch.json").read_text())
    assert [s["status"] for s in report["scenes"]] == ["done"] * 4 + ["failed"]
    assert report["scenes"][4]["error"].startswith(str(bad))


def test_geoparquet_holds_every_cell_and_a_text_query_runs_on_the_file_alone(tmp_path, scenes, client, capsys, model):
    parquet = tmp_path / "archive.parquet"
    assert batch_main(["index", *map(str, scenes), "--index-dir", str(tmp_path / "index"), "--geoparquet", str(parquet),
                       "--scheduler", client.scheduler.address]) == 0
    assert "geoparquet: " in capsys.readouterr().out
    table = pq.read_table(parquet)
    geo = json.loads(pq.read_schema(parquet).metadata[b"geo"])
    assert geo["primary_column"] == "geometry" and geo["columns"]["geometry"]["encoding"] == "WKB"
    _, ref = model
    assert set(table.column("model_digest").to_pylist()) == {ref.digest}
    rows = table.to_pylist()
    info = describe(scenes[2])
    index = existing(index_folder(info, ref.digest, SceneSettings(index_dir=tmp_path / "index"), 128))
    mine = [r for r in rows if r["scene"] == str(scenes[2])]
    assert len(mine) == int(np.isfinite(index.embeddings).all(axis=1).sum())
    utm = osr.SpatialReference()
    utm.ImportFromWkt(info.crs)
    utm.SetAxisMappingStrategy(osr.OAMS_TRADITIONAL_GIS_ORDER)
    lonlat = osr.SpatialReference()
    lonlat.ImportFromEPSG(4326)
    lonlat.SetAxisMappingStrategy(osr.OAMS_TRADITIONAL_GIS_ORDER)
    to_lonlat = osr.CoordinateTransformation(utm, lonlat)
    for row in mine[::7]:
        number = row["cell_row"] * index.cells.cols + row["cell_col"]
        assert np.allclose(row["embedding"], index.embeddings[number], atol=1e-7)
        centre = info.affine * (row["window_col"] + row["window_width"] / 2, row["window_row"] + row["window_height"] / 2)
        lon, lat, _ = to_lonlat.TransformPoint(*centre)
        point = ogr.Geometry(ogr.wkbPoint)
        point.AddPoint_2D(lon, lat)
        assert ogr.CreateGeometryFromWkb(row["geometry"]).Contains(point)
    # DuckDB reads it as GeoParquet (a GEOMETRY column in EPSG:4326) and searches the embeddings in SQL
    checkpoint, _ = model
    text = embed_query(checkpoint, "water")[0]
    con = duckdb.connect()
    kind = con.execute("SELECT DISTINCT typeof(geometry) FROM read_parquet(?)", [str(parquet)]).fetchall()
    assert len(kind) == 1 and kind[0][0].startswith("GEOMETRY") and '"code":4326}}' in kind[0][0].replace(" ", "")
    best = con.execute("SELECT scene, cell_row, cell_col FROM read_parquet(?) "
                       "ORDER BY list_cosine_similarity(embedding, ?::FLOAT[]) DESC LIMIT 3",
                       [str(parquet), text.tolist()]).fetchall()
    embeddings = np.stack(table.column("embedding").to_numpy(zero_copy_only=False))
    order = np.argsort(-(embeddings @ text))[:3]
    assert best == [(rows[k]["scene"], rows[k]["cell_row"], rows[k]["cell_col"]) for k in order]
    out = tmp_path / "search"
    assert batch_main(["query", "--geoparquet", str(parquet), "--query", "water", "--top", "5", "--out", str(out)]) == 0
    source = gdal.OpenEx(str(out / "hits.gpkg"), gdal.OF_VECTOR)
    hits = [(f.GetField("scene"), f.GetField("score"), f.GetGeometryRef().GetGeometryName()) for f in
            source.GetLayerByName("hits")]
    assert len(hits) == 5 and {h[2] for h in hits} == {"POLYGON"}
    assert [h[1] for h in hits] == sorted((h[1] for h in hits), reverse=True)
    assert {h[0] for h in hits} <= {str(s) for s in scenes}


def _tiled(path, times=5):
    """A larger real scene: the Sentinel-1 scene tiled, so that indexing it takes a while."""
    with rasterio.open(SENTINEL1) as source:
        tiled = np.tile(source.read(), (1, times, times))
        profile = {**source.profile, "width": tiled.shape[2], "height": tiled.shape[1]}
    with rasterio.open(path, "w", **profile) as target:
        target.write(tiled)
    return path


def _staging(folder, pattern=".*.tmp-*"):
    return list(folder.glob(pattern)) if folder.is_dir() else []


def test_sigterm_mid_batch_stops_the_workers_and_leaves_no_staging(tmp_path):
    """The scene (2,000 windows) takes far longer than the workers are given to stop, so its build is cut."""
    index = tmp_path / "index"
    env = {**os.environ, "PYTHONPATH": str(ROOT), "OMP_NUM_THREADS": "1"}
    run = subprocess.Popen([sys.executable, "-m", "sarclip_core.batch", "index", str(_tiled(tmp_path / "big.tif", 12)),
                            "--index-dir", str(index), "--scheduler", "local:1"], env=env, cwd=tmp_path,
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 120
    while not _staging(index) and run.poll() is None and time.monotonic() < deadline:
        time.sleep(0.01)
    assert _staging(index), "the index was never started"
    run.send_signal(signal.SIGTERM)
    _, err = run.communicate(timeout=120)
    assert run.returncode == 143
    assert err.strip().splitlines()[-1] == "error: interrupted; finished scenes are kept, no partial outputs were left (SIGTERM)"
    assert "Traceback" not in err, err
    assert _staging(index) == [] and list(index.iterdir()) == []  # the unfinished build's staging was swept


def test_a_worker_killed_mid_task_loses_no_scene(tmp_path, scenes, client, model):
    big = _tiled(tmp_path / "tiled.tif")
    _, ref = model
    settings = SceneSettings(index_dir=tmp_path / "index", batch_size=8)
    key = index_folder(describe(big), ref.digest, settings, 128).name
    found: dict = {}
    run = threading.Thread(target=lambda: found.update(results=index_scenes([big, scenes[0]], "default", settings,
                                                                            client)))
    run.start()
    killed, deadline = None, time.monotonic() + 120
    while killed is None and time.monotonic() < deadline and run.is_alive():
        for entry in (tmp_path / "index").glob(f".{key}.tmp-*"):  # the build's staging, named by the worker's pid
            killed = int(re.match(rf"\.{key}\.tmp-(\d+)", entry.name)[1])
            os.kill(killed, signal.SIGKILL)
            break
        time.sleep(0.005)
    run.join(timeout=300)
    assert killed is not None, "the task ended before it could be killed"
    big_result, small_result = found["results"]
    assert big_result.status == "indexed" and small_result.status == "indexed"
    assert not big_result.worker.endswith(f":{killed}")  # another worker process did it again
    assert existing(tmp_path / "index" / key) is not None  # whole, checksums verified
    assert _hidden(tmp_path / "index") == []  # the killed build's staging was swept


def test_a_shared_index_folder_is_swept_of_this_machines_dead_staging_only(tmp_path):
    """On a cluster the index folder is shared: another machine's process ids say nothing about its builds."""
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    other = "0" * 8 if HOST_TAG != "0" * 8 else "1" * 8
    mine = tmp_path / f".{'a' * 32}.tmp-{child.pid}-{HOST_TAG}0a1b2c3d"
    theirs = tmp_path / f".{'b' * 32}.tmp-{child.pid}-{other}0a1b2c3d"
    for folder in (mine, theirs):
        folder.mkdir()
    assert staging_path(tmp_path / "x").name.split("-")[-1].startswith(HOST_TAG)
    assert sweep_stale(tmp_path) == [mine] and theirs.is_dir()


def test_local_workers_keep_glibcs_adaptive_allocator_and_leave_this_process_environment_alone(client):
    """Dask's MALLOC_TRIM_THRESHOLD_ would turn off glibc's adaptive mmap threshold (4x the page faults)."""
    assert set(client.run(lambda: os.environ.get("MALLOC_TRIM_THRESHOLD_")).values()) == {None}
    assert set(client.run(lambda: os.environ.get("OMP_NUM_THREADS")).values()) == {"1"}
    assert "MALLOC_TRIM_THRESHOLD_" not in os.environ


def test_a_batch_larger_than_the_cache_limit_is_refused_before_any_work(tmp_path, scenes):
    settings = SceneSettings(index_dir=tmp_path / "index", index_cache_gb=1e-5)  # 10 kB: not even one index
    with pytest.raises(SarclipError, match=r"the batch's 4 scene indexes would take about .* raise --index-cache-gb"):
        index_scenes(scenes, "default", settings, "tcp://127.0.0.1:9")  # refused before reaching for a cluster
    assert list((tmp_path / "index").iterdir()) == []


def test_a_worker_whose_model_files_differ_refuses_its_tasks(scenes, tmp_path):
    result = index_task(str(scenes[0]), ModelRef("default", "0" * 64), SceneSettings(index_dir=tmp_path / "index"))
    assert "has other weights than on the machine that started the batch" in result["error"]
    assert not (tmp_path / "index").exists() or list((tmp_path / "index").iterdir()) == []


def test_a_cancelled_index_task_stops_its_build_while_the_cluster_runs_on(tmp_path, client, model):
    """Dask cannot interrupt a running task; the engine's cancel checks ask the worker whether the driver let the
    task go (worker.task_cancelled), so a cancelled build stops and removes its staging at once. Before, it ran to
    its end and committed an index nobody waited for, even while the cluster was shutting down."""
    big, index = _tiled(tmp_path / "tiled.tif", 12), tmp_path / "index"
    _, ref = model
    future = client.submit(index_task, str(big), ref, SceneSettings(index_dir=index), pure=False)
    deadline = time.monotonic() + 120
    while not _staging(index) and time.monotonic() < deadline:
        time.sleep(0.01)
    assert _staging(index), "the build never started"
    started = time.monotonic()
    future.cancel()
    while _staging(index) and time.monotonic() < started + 30:
        time.sleep(0.02)
    assert _staging(index) == [] and list(index.iterdir()) == []  # stopped, staging removed, nothing committed
    assert time.monotonic() - started < 10  # a batch of windows or two, not the rest of the scene
    assert client.submit(len, [1, 2], pure=False).result() == 2  # the cluster runs on
