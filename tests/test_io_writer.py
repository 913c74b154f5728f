"""The blended GeoTIFF writer: seamless mosaics, NaN where empty, georeferencing, atomic output."""

from __future__ import annotations

import numpy as np
import pytest
import rasterio

from raster_helpers import write_raster
from sarclip_core.errors import RasterError
from sarclip_core.io import (
    BlendedWriter,
    OutputGrid,
    describe,
    iter_tiles,
    make_grid,
    open_raster,
)


def leftovers(folder):
    return sorted(p.name for p in folder.iterdir() if p.name.startswith("."))


@pytest.mark.parametrize("size, tile, overlap, factor", [((300, 211), 64, 0.5, 1), ((300, 211), 64, 17, 1),
                                                         ((300, 211), 64, 0.25, 4), ((37, 23), 64, 0.5, 1)])
def test_constant_input_reproduces_the_constant_exactly(tmp_path, size, tile, overlap, factor):
    width, height = size
    info = describe(write_raster(tmp_path / "in.tif", np.full((height, width), 0.3141, np.float32)))
    grid = OutputGrid.for_scene(info, factor)
    out = tmp_path / "out.tif"
    with open_raster(info.path) as ds, BlendedWriter(out, grid) as writer:
        for window, tile_data, valid in iter_tiles(ds, info, make_grid(info, tile, overlap)):
            b = window.box
            writer.add(b, tile_data[:, :b.height, :b.width], valid[:b.height, :b.width])
    with rasterio.open(out) as result:
        values = result.read(1)
        assert values.shape == (grid.height, grid.width)
        assert (values == np.float32(0.3141)).all()  # no seams at window borders or the last row/column
        assert result.transform == rasterio.Affine(*grid.transform) and result.crs == rasterio.crs.CRS.from_epsg(32631)
    assert leftovers(tmp_path) == []


def test_scalar_per_window_blends_smoothly_and_nan_where_nothing_valid(tmp_path):
    data = np.ones((128, 128), np.float32)
    data[:, 96:] = -1  # right quarter is nodata
    info = describe(write_raster(tmp_path / "in.tif", data, nodata=-1))
    out = tmp_path / "heat.tif"
    with open_raster(info.path) as ds, BlendedWriter(out, OutputGrid.for_scene(info), bands=2,
                                                     band_names=["ship", "clutter"]) as writer:
        for window, _, valid in iter_tiles(ds, info, make_grid(info, 64, 0.5)):
            b = window.box
            writer.add(b, [b.col / 64, 1.0], valid[:b.height, :b.width])
    with rasterio.open(out) as result:
        ramp, ones = result.read()
        assert result.descriptions == ("ship", "clutter")
    assert np.isnan(ramp[:, 96:]).all() and np.isfinite(ramp[:, :96]).all()
    np.testing.assert_allclose(ones[:, :96], 1.0)
    row = ramp[50, :96]
    assert (np.diff(row) >= -1e-9).all() and row[0] == 0 and row[95] > 0.5  # monotone ramp, no jumps back


def test_real_scene_round_trip_keeps_values_crs_and_footprint(tmp_path, sentinel1):
    info = describe(sentinel1)
    out = tmp_path / "copy.tif"
    with open_raster(sentinel1) as ds, BlendedWriter(out, OutputGrid.for_scene(info)) as writer:
        for window, tile_data, valid in iter_tiles(ds, info, make_grid(info, 64, 0.25)):
            b = window.box
            writer.add(b, tile_data[:, :b.height, :b.width], valid[:b.height, :b.width])
    with rasterio.open(sentinel1) as src, rasterio.open(out) as result:
        original, copy = src.read(1), result.read(1)
        assert result.crs == src.crs and result.transform == src.transform
        assert result.bounds == src.bounds and result.dtypes[0] == "float32"
        assert result.profile["tiled"] and result.compression is not None
        assert result.overviews(1) == [2]
    np.testing.assert_allclose(copy[original != -99], original[original != -99], rtol=1e-6)
    assert np.isnan(copy[original == -99]).all()


def test_large_output_gets_overviews(tmp_path):
    info = describe(write_raster(tmp_path / "in.tif", np.ones((600, 900), np.float32)))
    out = tmp_path / "o.tif"
    with BlendedWriter(out, OutputGrid.for_scene(info)) as writer:
        writer.add(make_grid(info, 900).area, [1.0])
    with rasterio.open(out) as result:
        assert result.overviews(1) == [2, 4]
        assert result.block_shapes[0] == (256, 256)


def test_failure_midway_leaves_nothing_behind(tmp_path):
    info = describe(write_raster(tmp_path / "in.tif", np.ones((64, 64), np.float32)))
    out = tmp_path / "o.tif"
    out.write_bytes(b"previous result")
    with pytest.raises(KeyboardInterrupt):
        with BlendedWriter(out, OutputGrid.for_scene(info)) as writer:
            writer.add(make_grid(info, 64).area, [1.0])
            raise KeyboardInterrupt  # Ctrl-C or a cancel in the middle of a run
    assert out.read_bytes() == b"previous result"
    assert leftovers(tmp_path) == []


def test_unwritable_or_missing_output_folder(tmp_path):
    info = describe(write_raster(tmp_path / "in.tif", np.ones((8, 8), np.float32)))
    with pytest.raises(RasterError, match="output folder does not exist"):
        BlendedWriter(tmp_path / "nope" / "o.tif", OutputGrid.for_scene(info))
    for folder in ("/sys", "/sys/kernel"):  # refuses new files even for root
        with pytest.raises(RasterError, match=f"{folder}: output folder is not writable"):
            BlendedWriter(f"{folder}/o.tif", OutputGrid.for_scene(info))
