"""A real QgsApplication (offscreen, via pytest-qgis) loads what the engine writes."""

from __future__ import annotations

import numpy as np
import pytest

from sarclip_core.io import BlendedWriter, OutputGrid, describe, iter_tiles, make_grid, open_raster

qgis_core = pytest.importorskip("qgis.core")


def test_qgis_loads_a_written_heatmap_with_crs_and_extent(qgis_app, tmp_path, sentinel1):
    info = describe(sentinel1)
    out = tmp_path / "heatmap.tif"
    with open_raster(sentinel1) as ds, BlendedWriter(out, OutputGrid.for_scene(info, factor=2)) as writer:
        for window, tile, valid in iter_tiles(ds, info, make_grid(info, 64, 0.25)):
            writer.add(window.box, [float(tile[0][valid].mean())], valid[:window.box.height, :window.box.width])
    layer = qgis_core.QgsRasterLayer(str(out), "heatmap")
    try:
        assert layer.isValid(), layer.error().summary()
        assert layer.crs().authid() == "EPSG:32631"
        extent = layer.extent()
        west, north = info.transform[2], info.transform[5]
        assert (extent.xMinimum(), extent.yMaximum()) == pytest.approx((west, north))
        assert (layer.width(), layer.height()) == (134, 109)
        assert extent.width() == pytest.approx(134 * 40) and layer.bandCount() == 1
        stats = layer.dataProvider().bandStatistics(1)
        assert np.isfinite(stats.mean) and stats.minimumValue < stats.maximumValue
    finally:
        del layer
