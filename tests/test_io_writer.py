"""The tiled GeoTIFF writer: blocks land where written, NaN where no data, georeferencing, atomic output."""

from __future__ import annotations

import numpy as np
import pytest
import rasterio

from raster_helpers import write_raster
from sarclip_core.errors import RasterError
from sarclip_core.io import (
    OutputGrid,
    TiledWriter,
    describe,
    iter_tiles,
    make_grid,
    open_raster,
)
from sarclip_core.io.writer import overview_levels


def leftovers(folder):
    return sorted(p.name for p in folder.iterdir() if p.name.startswith("."))


@pytest.mark.parametrize("size, block, factor", [((300, 211), 64, 1), ((300, 211), 100, 4), ((37, 23), 16, 1)])
def test_blocks_written_in_place_reproduce_the_map_exactly(tmp_path, size, block, factor):
    width, height = size
    info = describe(write_raster(tmp_path / "in.tif", np.full((height, width), 0.3141, np.float32)))
    grid = OutputGrid.for_scene(info, factor)
    expected = np.arange(grid.height * grid.width, dtype=np.float32).reshape(grid.height, grid.width) / 7
    out = tmp_path / "out.tif"
    with TiledWriter(out, grid) as writer:
        for row in range(0, grid.height, block):  # the scene maps' chunks: non-overlapping, edge blocks smaller
            for col in range(0, grid.width, block):
                writer.write(row, col, expected[row:row + block, col:col + block])
    with rasterio.open(out) as result:
        values = result.read(1)
        assert values.shape == (grid.height, grid.width)
        assert (values == expected).all()  # every block at its place, the last row/column included
        assert result.transform == rasterio.Affine(*grid.transform) and result.crs == rasterio.crs.CRS.from_epsg(32631)
    assert leftovers(tmp_path) == []


def test_bands_keep_their_names_and_nan_stays_no_data(tmp_path):
    info = describe(write_raster(tmp_path / "in.tif", np.ones((128, 128), np.float32)))
    ramp = np.tile(np.arange(128, dtype=np.float64) / 64, (128, 1))
    ramp[:, 96:] = np.nan  # right quarter: no data
    out = tmp_path / "heat.tif"
    with TiledWriter(out, OutputGrid.for_scene(info), bands=2, band_names=["ship", "clutter"]) as writer:
        writer.write(0, 0, np.stack([ramp, np.ones_like(ramp)]))
        with pytest.raises(ValueError, match="expected 2 band"):
            writer.write(0, 0, ramp)
    with rasterio.open(out) as result:
        first, ones = result.read()
        assert result.descriptions == ("ship", "clutter") and np.isnan(result.nodata)
    assert np.isnan(first[:, 96:]).all() and np.isfinite(first[:, :96]).all()
    np.testing.assert_array_equal(first[:, :96], ramp[:, :96].astype(np.float32))
    np.testing.assert_allclose(ones, 1.0)


def test_pixels_never_written_are_no_data(tmp_path):
    info = describe(write_raster(tmp_path / "in.tif", np.ones((600, 600), np.float32)))
    out = tmp_path / "part.tif"
    with TiledWriter(out, OutputGrid.for_scene(info)) as writer:
        writer.write(0, 0, np.ones((100, 100)))  # part of one 256 px block; the other blocks never touched
    with rasterio.open(out) as result:
        values = result.read(1)
    assert (values[:100, :100] == 1).all() and np.isnan(values).sum() == 600 * 600 - 100 * 100


def test_real_scene_round_trip_keeps_values_crs_and_footprint(tmp_path, sentinel1):
    info = describe(sentinel1)
    out = tmp_path / "copy.tif"
    with open_raster(sentinel1) as ds, TiledWriter(out, OutputGrid.for_scene(info)) as writer:
        for window, tile_data, valid in iter_tiles(ds, info, make_grid(info, 64)):
            b = window.box
            writer.write(b.row, b.col, np.where(valid, tile_data, np.nan)[:, :b.height, :b.width])
    with rasterio.open(sentinel1) as src, rasterio.open(out) as result:
        original, copy = src.read(1), result.read(1)
        assert result.crs == src.crs and result.transform == src.transform
        assert result.bounds == src.bounds and result.dtypes[0] == "float32"
        assert result.profile["tiled"] and result.compression is not None
        assert result.overviews(1) == []  # a map that fits a screen draws fast without them
    np.testing.assert_allclose(copy[original != -99], original[original != -99], rtol=1e-6)
    assert np.isnan(copy[original == -99]).all()


def test_output_larger_than_a_screen_gets_overviews(tmp_path):
    info = describe(write_raster(tmp_path / "in.tif", np.ones((300, 2100), np.float32)))
    out = tmp_path / "o.tif"
    with TiledWriter(out, OutputGrid.for_scene(info)) as writer:
        writer.write(0, 0, np.ones((300, 2100)))
    with rasterio.open(out) as result:
        assert result.overviews(1) == [2, 4, 8, 16]  # until the smallest fits one 256 px block
        assert result.block_shapes[0] == (256, 256)
        assert result.read(1, out_shape=(38, 263)).mean() == 1  # the overview holds the map's values


def test_overviews_only_for_maps_larger_than_a_screen():
    assert overview_levels(2048, 2048) == []
    assert overview_levels(2049, 100) == [2, 4, 8, 16]


def test_failure_midway_leaves_nothing_behind(tmp_path):
    info = describe(write_raster(tmp_path / "in.tif", np.ones((64, 64), np.float32)))
    out = tmp_path / "o.tif"
    out.write_bytes(b"previous result")
    with pytest.raises(KeyboardInterrupt):
        with TiledWriter(out, OutputGrid.for_scene(info)) as writer:
            writer.write(0, 0, np.ones((64, 64)))
            raise KeyboardInterrupt  # Ctrl-C or a cancel in the middle of a run
    assert out.read_bytes() == b"previous result"
    assert leftovers(tmp_path) == []


def test_unwritable_or_missing_output_folder(tmp_path):
    info = describe(write_raster(tmp_path / "in.tif", np.ones((8, 8), np.float32)))
    with pytest.raises(RasterError, match="output folder does not exist"):
        TiledWriter(tmp_path / "nope" / "o.tif", OutputGrid.for_scene(info))
    for folder in ("/sys", "/sys/kernel"):  # refuses new files even for root
        with pytest.raises(RasterError, match=f"{folder}: output folder is not writable"):
            TiledWriter(f"{folder}/o.tif", OutputGrid.for_scene(info))
