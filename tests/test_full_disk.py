"""A full disk while the outputs are written: one line, exit 2, nothing left (issue 17, item 6).

GDAL reports a failed block write only as a logged error when the file is flushed, so a GeoTIFF with
missing blocks would be renamed into place; every output is read back (blocks and overviews) first.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import uuid
from pathlib import Path

import numpy as np
import pytest
import rasterio

from bad_input_helpers import one_error_line
from paths import ROOT
from raster_helpers import write_raster
from sarclip_core.errors import RasterError
from sarclip_core.io.writer import check_complete
from sarclip_core.scene.__main__ import main as scene_main

SENTINEL1 = Path(__file__).resolve().parents[2] / "shared" / "data" / "sentinel1" / \
    "S1A__IW___A_20150309T173017_VV_grd_mli_geo_norm_db.tif"


def test_a_geotiff_with_missing_blocks_is_not_complete(tmp_path):
    path = write_raster(tmp_path / "a.tif", np.random.default_rng(0).random((600, 600)).astype(np.float32))
    with rasterio.open(path, "r+") as ds:
        ds.build_overviews([2, 4])
    check_complete(path, tmp_path / "final.tif")  # a whole file passes
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])
    with pytest.raises(RasterError, match=r"final.tif: could not be written completely .*is the disk full\?"):
        check_complete(path, tmp_path / "final.tif")


def test_a_geotiff_whose_overviews_lost_their_last_blocks_is_not_complete(tmp_path):
    path = write_raster(tmp_path / "a.tif", np.random.default_rng(0).random((600, 600)).astype(np.float32))
    with rasterio.open(path, "r+") as ds:
        ds.build_overviews([2, 4])
    path.write_bytes(path.read_bytes()[:-2000])  # the overviews, written last, lose their end
    with rasterio.open(path) as ds:  # the full-resolution blocks still read
        for _, window in ds.block_windows(1):
            ds.read(window=window)
    with pytest.raises(RasterError, match=r"final.tif: could not be written completely"):
        check_complete(path, tmp_path / "final.tif")


def _small_disk(size: str):
    """A tmpfs of `size`: a real full disk (needs root and mount; skipped where neither is allowed)."""
    folder = Path("/tmp") / f"sarclip-full-{uuid.uuid4().hex[:8]}"
    folder.mkdir()
    if os.geteuid() != 0 or shutil.which("mount") is None or subprocess.run(
            ["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(folder)], capture_output=True).returncode:
        folder.rmdir()
        pytest.skip("cannot mount a small tmpfs here")
    yield folder
    subprocess.run(["umount", "-l", str(folder)], capture_output=True)  # lazy: a file still open cannot block it
    shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture
def small_disk():
    yield from _small_disk("100k")


@pytest.fixture
def checkpoint_disk():
    """Room for a run's logs, not for a 33 MB checkpoint."""
    yield from _small_disk("5m")


@pytest.mark.skipif(not SENTINEL1.is_file(), reason="real data missing")
def test_a_full_disk_while_writing_outputs_is_one_line_and_leaves_nothing(small_disk, tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("SARCLIP_CACHE", str(tmp_path / "cache"))
    argv = [str(SENTINEL1), "--query", "ship", "--labels", "water, land", "--output-factor", "1",
            "--out", str(small_disk / "out"), "--index-dir", str(tmp_path / "index")]
    assert scene_main(argv) == 2
    one_error_line(capsys.readouterr().err, str(small_disk / "out" / "heatmap.tif"), "could not be written",
                   "is the disk full?")
    assert list(small_disk.iterdir()) == []  # the run's own --out folder went too


@pytest.mark.skipif(not SENTINEL1.is_file(), reason="real data missing")
def test_a_full_disk_while_writing_the_count_geopackage_is_one_line(small_disk, tmp_path, capsys, monkeypatch):
    """SQLite's 'database or disk is full' and GDAL's messages about the closed file become one line."""
    monkeypatch.setenv("SARCLIP_CACHE", str(tmp_path / "cache"))
    argv = [str(SENTINEL1), "--query", "ship", "--count", "--cell-size", "100", "--out", str(small_disk / "out"),
            "--index-dir", str(tmp_path / "index")]
    assert scene_main(argv) == 2
    one_error_line(capsys.readouterr().err, str(small_disk / "out" / "counts.gpkg"), "cannot write the GeoPackage")
    assert list(small_disk.iterdir()) == []


def test_a_full_disk_at_a_training_checkpoint_is_one_line_and_keeps_no_staging(checkpoint_disk, tmp_path):
    """In a process of its own: the run's log file stays open in the trainer's process."""
    for name in ("a", "b"):
        (tmp_path / name).mkdir()
        for i in range(4):
            write_raster(tmp_path / name / f"{i}.tif", np.random.default_rng(i).random((64, 64)).astype(np.float32))
    rows = [f"{tmp_path / n / f'{i}.tif'},an image of {n}" for n in "ab" for i in range(4)]
    (tmp_path / "c.csv").write_text("filepath,caption\n" + "\n".join(rows) + "\n")
    done = subprocess.run([sys.executable, "-m", "sarclip_core.train", "--stage", "clip", "--train-data",
                           str(tmp_path / "c.csv"), "--batch-size", "4", "--max-steps", "2", "--logs",
                           str(checkpoint_disk / "logs"), "--threads", "1"], capture_output=True, text=True,
                          env=dict(os.environ, PYTHONPATH=str(ROOT), HF_HUB_OFFLINE="1"), timeout=300)
    errors = [line for line in done.stderr.splitlines() if "error: " in line]
    assert done.returncode == 2 and "Traceback" not in done.stderr and len(errors) == 1, done.stderr[-2000:]
    assert errors[0].startswith("error: "), errors[0]  # the training bar is closed first, not run into
    assert "step_00000002/model: cannot write the checkpoint" in errors[0] and "is the disk full?" in errors[0]
    assert not list((checkpoint_disk / "logs").rglob("*.tmp-*"))  # no staging left in the checkpoints folder
