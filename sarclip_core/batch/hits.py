"""The archive's best hits in one GeoPackage: where, across all scenes, a query or a count found something.

Each hit is a scene, a label, a score and a geometry in EPSG:4326 (longitude, latitude): the point a scene's
heatmap peak or counted object stands on, or a scene cell's footprint when the hits come from a GeoParquet
index. Scenes without a CRS cannot be placed on the globe and give no hits (a note says so).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

import numpy as np
from osgeo import gdal, ogr, osr

from ..files import staging_path
from ..scene.counts import geopackage, ogr_checked, ogr_failure

LAYER = "hits"


def wgs84() -> osr.SpatialReference:
    """EPSG:4326 with longitude first, as GIS files store it."""
    srs = osr.SpatialReference()
    srs.ImportFromEPSG(4326)
    srs.SetAxisMappingStrategy(osr.OAMS_TRADITIONAL_GIS_ORDER)
    return srs


def to_lonlat(crs_wkt: str, xy: np.ndarray) -> np.ndarray:
    """(N, 2) map coordinates in the CRS given as WKT to (N, 2) longitude, latitude."""
    source = osr.SpatialReference()
    source.ImportFromWkt(crs_wkt)
    source.SetAxisMappingStrategy(osr.OAMS_TRADITIONAL_GIS_ORDER)
    points = np.asarray(xy, np.float64).reshape(-1, 2)
    if not len(points):
        return points
    transform = osr.CoordinateTransformation(source, wgs84())
    return np.asarray(transform.TransformPoints(points.tolist()), np.float64)[:, :2]


@dataclass(frozen=True)
class Hit:
    """One place in the archive: the scene, what was found (query or label), its score, and a WKB geometry in
    EPSG:4326."""

    scene: str
    label: str
    score: float
    wkb: bytes


def point_wkb(lon: float, lat: float) -> bytes:
    """WKB of a point at longitude, latitude."""
    geometry = ogr.Geometry(ogr.wkbPoint)
    geometry.AddPoint_2D(float(lon), float(lat))
    return bytes(geometry.ExportToWkb())


def read_peaks(path: Path) -> list[tuple[float, float, str, float]]:
    """(x, y, label, score) of a count GeoPackage's 'peaks' layer, read with GDAL's error state left as it was."""
    source = gdal.OpenEx(str(path), gdal.OF_VECTOR)
    found = [(f.GetGeometryRef().GetX(), f.GetGeometryRef().GetY(), f.GetField("label"), float(f.GetField("score")))
             for f in source.GetLayerByName("peaks")]
    source = None  # noqa: F841  (closes the file)
    return found


def write_hits(path: Path, hits: Sequence[Hit], kind: int = ogr.wkbPoint) -> Path:
    """Layer 'hits' (rank, scene, label, score; best first) written atomically to a GeoPackage at `path`."""
    ranked = sorted(hits, key=lambda hit: -hit.score)
    staged = staging_path(path, ".gpkg")
    try:
        with geopackage(staged) as source:
            layer = source.CreateLayer(LAYER, wgs84(), kind)
            if layer is None:
                raise ogr_failure(staged)
            for name, kind_of in (("rank", ogr.OFTInteger), ("scene", ogr.OFTString), ("label", ogr.OFTString),
                                  ("score", ogr.OFTReal)):
                ogr_checked(layer.CreateField(ogr.FieldDefn(name, kind_of)), staged)
            definition = layer.GetLayerDefn()
            ogr_checked(layer.StartTransaction(), staged)
            for rank, hit in enumerate(ranked, start=1):
                feature = ogr.Feature(definition)
                feature.SetGeometry(ogr.CreateGeometryFromWkb(hit.wkb))
                for name, value in (("rank", rank), ("scene", hit.scene), ("label", hit.label),
                                    ("score", round(float(hit.score), 4))):
                    feature.SetField(name, value)
                ogr_checked(layer.CreateFeature(feature), staged)
            ogr_checked(layer.CommitTransaction(), staged)
        staged.replace(path)
    finally:
        staged.unlink(missing_ok=True)
    return path
