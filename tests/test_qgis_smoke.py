"""A real QgsApplication (offscreen, via pytest-qgis) loads what the engine writes."""

from __future__ import annotations

import numpy as np
import pytest

from sarclip_core.io import (
    OutputGrid,
    TiledWriter,
    describe,
    iter_tiles,
    make_grid,
    open_raster,
)

qgis_core = pytest.importorskip("qgis.core")


def test_qgis_loads_a_written_heatmap_with_crs_and_extent(qgis_app, tmp_path, sentinel1):
    info = describe(sentinel1)
    out = tmp_path / "heatmap.tif"
    grid = OutputGrid.for_scene(info, factor=2)
    with open_raster(sentinel1) as ds, TiledWriter(out, grid) as writer:
        for window, tile, valid in iter_tiles(ds, info, make_grid(info, 64)):  # one value per window, as a block
            b = window.box
            rows, cols = (b.row // 2, -(-(b.row + b.height) // 2)), (b.col // 2, -(-(b.col + b.width) // 2))
            writer.write(rows[0], cols[0], np.full((rows[1] - rows[0], cols[1] - cols[0]), tile[0][valid].mean()))
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


def test_outputs_of_an_image_without_crs_overlay_it_as_qgis_draws_it(qgis_app, tmp_path):
    from sarclip_core.scene import SceneSettings, count_objects, text_query
    from scene_helpers import BrightCells, ship_oracle_checkpoint, speckle_scene

    png = speckle_scene(tmp_path / "scene.tif", [(200, 150)], size=320, crs=None)  # no geotransform at all
    oracle, settings = ship_oracle_checkpoint(BrightCells()), SceneSettings(index_dir=tmp_path / "i")
    with pytest.warns(UserWarning, match="as QGIS draws the image"):
        result = text_query(png, "ship", tmp_path / "heat.tif", oracle, settings)
        count_objects(png, "ship", 1000.0, tmp_path / "n.gpkg", model=oracle, settings=settings)
    scene, heat = qgis_core.QgsRasterLayer(str(png), "scene"), qgis_core.QgsRasterLayer(str(tmp_path / "heat.tif"), "h")
    points = qgis_core.QgsVectorLayer(f"{tmp_path / 'n.gpkg'}|layername=peaks", "peaks", "ogr")
    try:
        assert scene.isValid() and heat.isValid() and points.isValid()
        a, b = scene.extent(), heat.extent()
        assert (a.xMinimum(), a.yMaximum(), a.yMinimum()) == (0, 0, -320)  # QGIS: x 0..W, y -H..0
        assert (b.xMinimum(), b.yMaximum()) == (0, 0)  # same origin, same orientation
        factor = result["output_grid"]["factor"]
        assert -320 - factor < b.yMinimum() <= -320 and 320 <= b.xMaximum() < 320 + factor
        (peak,) = [f.geometry().asPoint() for f in points.getFeatures()]
        assert 200 <= peak.x() <= 212 and -162 <= peak.y() <= -150  # on the target as drawn in QGIS
    finally:
        del scene, heat, points
