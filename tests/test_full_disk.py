"""A full disk while the outputs are written: one line, exit 2, nothing left (issue 17, item 6).

GDAL reports a failed block write only as a logged error when the file is flushed, so a GeoTIFF with
missing blocks would be renamed into place; every output is read back (blocks and overviews) first.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import uuid
from pathlib import Path

import numpy as np
import pytest
import rasterio

from bad_input_helpers import one_error_line
from conftest import write_raster
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


@pytest.fixture
def small_disk():
    """A 100 kB tmpfs: a real full disk (needs root and mount; skipped where neither is allowed)."""
    folder = Path("/tmp") / f"sarclip-full-{uuid.uuid4().hex[:8]}"
    folder.mkdir()
    if os.geteuid() != 0 or shutil.which("mount") is None or subprocess.run(
            ["mount", "-t", "tmpfs", "-o", "size=100k", "tmpfs", str(folder)], capture_output=True).returncode:
        folder.rmdir()
        pytest.skip("cannot mount a small tmpfs here")
    yield folder
    subprocess.run(["umount", str(folder)], check=True)
    folder.rmdir()


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
