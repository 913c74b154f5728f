"""Window grids and window reads: coverage without seams, overlap, resolution, AOI, nodata, edge cases."""

from __future__ import annotations

import numpy as np
import pytest
import rasterio
from rasterio.transform import Affine

from raster_helpers import write_raster
from sarclip_core.errors import RasterError, SarclipError
from sarclip_core.io import (
    MapExtent,
    PixelBox,
    describe,
    iter_tiles,
    make_grid,
    open_raster,
    read_window,
)
from sarclip_core.io.windows import overlap_pixels


def coverage(grid, width, height):
    hits = np.zeros((height, width), dtype=int)
    for w in grid:
        hits[w.box.row:w.box.row + w.box.height, w.box.col:w.box.col + w.box.width] += 1
    return hits


@pytest.mark.parametrize("width, height, tile, overlap", [(100, 70, 32, 0), (100, 70, 32, 0.25), (257, 129, 64, 8),
                                                          (64, 64, 64, 0.5), (65, 33, 16, 0.9)])
def test_grid_covers_every_pixel_with_full_tiles(tmp_path, width, height, tile, overlap):
    info = describe(write_raster(tmp_path / "s.tif", np.ones((height, width), np.float32)))
    grid = make_grid(info, tile, overlap)
    assert coverage(grid, width, height).min() >= 1
    for w in grid:  # edge windows end flush with the scene instead of being cut short
        assert (w.box.width, w.box.height) == (tile, tile)
    assert max(w.box.col + w.box.width for w in grid) == width
    assert max(w.box.row + w.box.height for w in grid) == height


def test_overlap_in_pixels_and_fraction_agree(tmp_path):
    info = describe(write_raster(tmp_path / "s.tif", np.ones((200, 200), np.float32)))
    assert make_grid(info, 64, 16).col_offsets == make_grid(info, 64, 0.25).col_offsets == (0, 48, 96, 136)


@pytest.mark.parametrize("overlap", [-1, 64, 1.0 * 64, True])
def test_bad_overlap(tmp_path, overlap):
    info = describe(write_raster(tmp_path / "s.tif", np.ones((200, 200), np.float32)))
    with pytest.raises(SarclipError, match="overlap"):
        make_grid(info, 64, overlap)


@pytest.mark.parametrize("overlap, words", [(1.0, "ambiguous"), (1.5, "not a whole number"),
                                            (float("nan"), "a fraction of the tile")])
def test_an_overlap_of_unclear_unit_is_refused_not_taken_as_pixels(tmp_path, overlap, words):
    """1.0 (the whole tile or one pixel?) and 1.5 (pixels, but half of one) were silently taken as one pixel."""
    info = describe(write_raster(tmp_path / "s.tif", np.ones((200, 200), np.float32)))
    with pytest.raises(SarclipError, match=words):
        make_grid(info, 64, overlap)
    assert make_grid(info, 64, 1).col_offsets[:2] == (0, 63)  # the int 1 is one pixel, said explicitly


def test_overlap_pixels_tells_a_fraction_from_a_pixel_count():
    assert overlap_pixels(0.25, 64) == overlap_pixels(16, 64) == overlap_pixels(16.0, 64) == 16
    assert overlap_pixels(0, 64) == 0 and overlap_pixels(1, 64) == 1  # the int 1 is one pixel
    with pytest.raises(SarclipError, match="ambiguous"):
        overlap_pixels(1.0, 64)
    with pytest.raises(SarclipError, match="64 px leaves no stride"):
        overlap_pixels(0.999, 64)  # rounds to the whole tile


def test_scene_settings_refuse_an_ambiguous_overlap_before_any_work():
    from sarclip_core.scene import SceneSettings

    with pytest.raises(SarclipError, match="overlap 1.0 is ambiguous"):
        SceneSettings(overlap=1.0)
    assert SceneSettings(overlap=16).overlap == 16


def test_scene_smaller_than_tile_is_padded(tmp_path, rng):
    data = rng.random((1, 20, 30)).astype(np.float32) + 1
    info = describe(write_raster(tmp_path / "small.tif", data))
    grid = make_grid(info, 64)
    assert len(grid) == 1
    with open_raster(info.path) as ds:
        tile, valid = read_window(ds, info, next(iter(grid)), 64)
    assert tile.shape == (1, 64, 64) and valid.sum() == 600
    np.testing.assert_array_equal(tile[0, :20, :30], data[0])
    assert not tile[0, 20:].any() and not tile[0, :, 30:].any()


def test_target_resolution_resamples_on_read(tmp_path, rng):
    data = np.kron(rng.random((32, 32)), np.ones((2, 2))).astype(np.float32)[None]  # 64x64 at 10 m
    info = describe(write_raster(tmp_path / "s.tif", data))
    grid = make_grid(info, 16, resolution=20.0)
    assert grid.footprint == (32, 32) and len(grid) == 4
    with open_raster(info.path) as ds:
        tile, valid = read_window(ds, info, next(iter(grid)), 16)
    assert valid.all()
    np.testing.assert_allclose(tile[0], data[0, :32:2, :32:2], rtol=1e-6)


def test_resolution_needs_a_crs(tmp_path):
    info = describe(write_raster(tmp_path / "chip.tif", np.ones((50, 50), np.float32), crs=None))
    assert len(make_grid(info, 16)) == 16  # pixel coordinates still work
    with pytest.raises(RasterError, match="has no CRS"):
        make_grid(info, 16, resolution=10)


def test_aoi_in_pixels_and_in_another_crs(sentinel1):
    info = describe(sentinel1)
    grid = make_grid(info, 32, aoi=PixelBox(10, 20, 50, 40))
    assert grid.area == PixelBox(10, 20, 50, 40)
    west, north = info.transform[2], info.transform[5]
    utm_box = MapExtent(west + 400, north - 1200, west + 1400, north - 400)  # cols 20-70, rows 20-60
    assert make_grid(info, 32, aoi=utm_box).area == PixelBox(20, 20, 50, 40)
    lon0, lat0, lon1, lat1 = rasterio.warp.transform_bounds(info.crs, "EPSG:4326", utm_box.xmin, utm_box.ymin,
                                                            utm_box.xmax, utm_box.ymax)
    area = make_grid(info, 32, aoi=MapExtent(lon0, lat0, lon1, lat1, "EPSG:4326")).area
    assert abs(area.col - 20) <= 1 and abs(area.row - 20) <= 1 and abs(area.width - 50) <= 2


def test_aoi_outside_scene(sentinel1):
    info = describe(sentinel1)
    with pytest.raises(RasterError, match="outside the scene"):
        make_grid(info, 32, aoi=MapExtent(0, 0, 10, 10))
    with pytest.raises(RasterError, match=r"area of interest columns 500-510, rows 0-10 \(10 x 10 px\) lies outside the "
                                          r"scene \(268x217 px\)"):
        make_grid(info, 32, aoi=PixelBox(500, 0, 10, 10))
    with pytest.raises(SarclipError, match=r"the area of interest x 5 to 1, y 0 to 10 \(the scene's CRS\) is empty"):
        make_grid(info, 32, aoi=MapExtent(5, 0, 1, 10))


def test_aoi_on_rotated_geotransform(tmp_path):
    rotated = Affine.translation(600000, 4800000) * Affine.rotation(30) * Affine.scale(10, -10)
    info = describe(write_raster(tmp_path / "rot.tif", np.ones((100, 100), np.float32), transform=rotated))
    assert info.transform[1] != 0.0  # the grid is rotated
    x, y = rotated * (40, 40)
    x2, y2 = rotated * (60, 60)
    area = make_grid(info, 16, aoi=MapExtent(min(x, x2), min(y, y2), max(x, x2), max(y, y2))).area
    assert area.col <= 40 and area.row <= 40 and area.col + area.width >= 60 and area.row + area.height >= 60


def test_nodata_nan_and_inf_are_masked_and_empty_windows_skipped(tmp_path, rng):
    data = rng.random((1, 64, 64)).astype(np.float32) + 1
    data[0, :32, :] = -99  # the whole top half is nodata
    data[0, 40, 5] = np.nan
    data[0, 41, 6] = np.inf
    info = describe(write_raster(tmp_path / "s.tif", data, nodata=-99))
    with open_raster(info.path) as ds:
        tiles = list(iter_tiles(ds, info, make_grid(info, 32)))
    assert [w.box.row for w, _, _ in tiles] == [32, 32]
    _, tile, valid = tiles[0]
    assert not valid[8, 5] and not valid[9, 6] and valid.sum() == 32 * 32 - 2
    assert np.isfinite(tile).all()


def test_complex_is_folded_to_amplitude_before_resampling(tmp_path, speckle):
    info = describe(write_raster(tmp_path / "slc.tif", speckle))
    grid = make_grid(info, 16, resolution=20.0)
    with open_raster(info.path) as ds:
        tile, valid = read_window(ds, info, next(iter(grid)), 16)
    expected = np.abs(speckle[0, :32, :32]).reshape(16, 2, 16, 2).mean(axis=(1, 3))
    np.testing.assert_allclose(tile[0], expected, rtol=1e-5)
    assert valid.all()


def test_real_scene_windows_read_back_the_values(sentinel1):
    info = describe(sentinel1)
    with open_raster(sentinel1) as ds:
        full = ds.read(1)
        for window, tile, valid in iter_tiles(ds, info, make_grid(info, 64, 0.25)):
            b = window.box
            expected = full[b.row:b.row + b.height, b.col:b.col + b.width]
            np.testing.assert_array_equal(valid[:b.height, :b.width], expected != -99)
            np.testing.assert_array_equal(tile[0, :b.height, :b.width][valid[:b.height, :b.width]],
                                          expected[expected != -99])


def test_all_nodata_scene_yields_no_tiles(tmp_path):
    info = describe(write_raster(tmp_path / "empty.tif", np.full((50, 70), -99, np.float32), nodata=-99))
    with open_raster(info.path) as ds:
        assert list(iter_tiles(ds, info, make_grid(info, 32))) == []
