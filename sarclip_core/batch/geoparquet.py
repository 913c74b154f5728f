"""The archive's scene indexes as one GeoParquet file, and a text query against that file alone.

One row per indexed scene cell with data: its footprint in EPSG:4326 (WKB polygon, the `geometry` column
of GeoParquet 1.1 metadata), the scene, the cell's row and column in the scene's cell grid and its window
in the scene's pixels, the model (as given and its image-tower digest) and the cell's unit embedding
(float32 list). GeoPandas (`geopandas.read_parquet`), DuckDB (`read_parquet` with its spatial extension)
and GDAL 3.8+ read it, so archive-scale search can use standard tools; `search_geoparquet` does the
calibrated text query of the one-scene engine on the file alone, no scene or index folder needed.

Memory is bounded by a chunk of cells (written and read in row groups), not by the archive. Debian 12's
GDAL has no Parquet driver, hence pyarrow.
"""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Sequence

import numpy as np

from ..errors import SarclipError
from ..files import staging_path
from .hits import Hit, to_lonlat, wgs84

CHUNK = 65536  # cells per row group
GEO_VERSION = "1.1.0"
COLUMNS = ("scene", "cell_row", "cell_col", "window_col", "window_row", "window_width", "window_height",
           "model", "model_digest", "embedding", "geometry")


@dataclass(frozen=True)
class Indexed:
    """A scene and the folder of its index (scene.index)."""

    scene: str
    index: str


def _schema(dim: int):
    import pyarrow as pa

    return pa.schema([("scene", pa.string()), ("cell_row", pa.int32()), ("cell_col", pa.int32()),
                      ("window_col", pa.float64()), ("window_row", pa.float64()), ("window_width", pa.float64()),
                      ("window_height", pa.float64()), ("model", pa.string()), ("model_digest", pa.string()),
                      ("embedding", pa.list_(pa.float32(), dim)), ("geometry", pa.binary())],
                     metadata={"geo": json.dumps(geo_metadata())})


def polygons_wkb(rings: np.ndarray) -> tuple[np.ndarray, int]:
    """Little-endian WKB of N closed 5-point rings ((N, 5, 2) lon/lat) as one buffer, and each record's size."""
    record = np.dtype([("order", "u1"), ("type", "<u4"), ("rings", "<u4"), ("points", "<u4"), ("xy", "<f8", (10,))])
    data = np.zeros(len(rings), record)
    data["order"], data["type"], data["rings"], data["points"] = 1, 3, 1, 5
    data["xy"] = rings.reshape(len(rings), 10)
    return data, record.itemsize


def cell_rings(index, info, first: int, last: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Cells [first, last) of an index: their rows, cols, pixel windows (N, 4: col, row, width, height; clipped to
    the scene) and footprints as (N, 5, 2) rings in the scene's map coordinates."""
    cells = index.cells
    number = np.arange(first, last)
    rows, cols = number // cells.cols, number % cells.cols
    x0, y0 = cells.col0 + cols * cells.width, cells.row0 + rows * cells.height
    x1, y1 = np.minimum(x0 + cells.width, info.width), np.minimum(y0 + cells.height, info.height)
    px = np.stack([x0, x1, x1, x0, x0], axis=1)
    py = np.stack([y0, y0, y1, y1, y0], axis=1)
    a, b, c, d, e, f = info.transform
    rings = np.stack([a * px + b * py + c, d * px + e * py + f], axis=-1)
    return rows, cols, np.stack([x0, y0, x1 - x0, y1 - y0], axis=1), rings


def export_geoparquet(indexed: Sequence[Indexed], model: str, digest: str, path: str | os.PathLike) -> dict:
    """Write the indexes of `indexed` scenes as one GeoParquet file at `path` (atomically). Scenes without a
    CRS have no footprint on the globe and are left out with a note. Returns rows, scenes and notes."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    from ..scene.__main__ import describe_quietly
    from ..scene.index import existing

    path = Path(path)
    staged = staging_path(path, ".parquet")
    writer, rows_written, scenes, notes = None, 0, 0, []
    try:
        for item in indexed:
            info, index = describe_quietly(item.scene), existing(Path(item.index))
            if info.crs is None or index is None:
                notes.append(f"{item.scene}: " + ("no CRS, so no footprint in EPSG:4326; left out" if index is not None
                                                  else f"its index {item.index} is missing or damaged; left out"))
                continue
            dim = int(index.meta["dim"])
            if writer is None:
                writer = pq.ParquetWriter(staged, _schema(dim), compression="zstd")
            scenes += 1
            for first in range(0, index.count, CHUNK):
                last = min(index.count, first + CHUNK)
                embeddings = np.asarray(index.embeddings[first:last])
                keep = np.isfinite(embeddings).all(axis=1)
                if not keep.any():
                    continue
                rows, cols, windows, rings = (part[keep] for part in cell_rings(index, info, first, last))
                lonlat = to_lonlat(info.crs, rings.reshape(-1, 2)).reshape(-1, 5, 2)
                records, size = polygons_wkb(lonlat)
                count = len(records)
                geometry = pa.Array.from_buffers(pa.binary(), count, [None, pa.py_buffer(
                    np.arange(count + 1, dtype=np.int32) * size), pa.py_buffer(records.tobytes())])
                vectors = pa.FixedSizeListArray.from_arrays(pa.array(embeddings[keep].ravel(), pa.float32()), dim)
                writer.write_table(pa.Table.from_arrays([
                    pa.array([item.scene] * count), pa.array(rows, pa.int32()), pa.array(cols, pa.int32()),
                    *(pa.array(windows[:, k]) for k in range(4)), pa.array([model] * count),
                    pa.array([digest] * count), vectors, geometry], schema=writer.schema))
                rows_written += count
        if writer is None:
            raise SarclipError(f"{path}: no index to export (no scene with a CRS and a whole index)")
        writer.close()
        os.replace(staged, path)
    except OSError as error:
        raise SarclipError(f"{path}: cannot write the GeoParquet file ({error.strerror or error})") from None
    finally:
        if writer is not None and writer.is_open:
            writer.close()
        staged.unlink(missing_ok=True)
    return {"geoparquet": str(path), "rows": rows_written, "scenes": scenes, "notes": notes}


def geo_metadata() -> dict:
    """GeoParquet's file metadata: one WKB polygon column in EPSG:4326 (coordinates longitude, latitude, as
    GeoParquet stores them whatever the CRS's axis order)."""
    return {"version": GEO_VERSION, "primary_column": "geometry",
            "columns": {"geometry": {"encoding": "WKB", "geometry_types": ["Polygon"],
                                     "crs": json.loads(wgs84().ExportToPROJJSON())}}}


def open_geoparquet(path: str | os.PathLike):
    """A pyarrow ParquetFile that is one of ours, or a one-line error saying what it is not."""
    import pyarrow.parquet as pq

    try:
        source = pq.ParquetFile(path)
    except FileNotFoundError:
        raise SarclipError(f"{path}: GeoParquet file not found") from None
    except (OSError, ValueError) as error:
        raise SarclipError(f"{path}: not a Parquet file ({(str(error).splitlines() or [''])[0]})") from None
    metadata = source.schema_arrow.metadata or {}
    missing = [name for name in COLUMNS if name not in source.schema_arrow.names]
    if b"geo" not in metadata or missing:
        raise SarclipError(f"{path}: not a SARCLIP GeoParquet index (made by `batch index --geoparquet`)"
                           + (f"; missing columns {', '.join(missing)}" if missing else ""))
    return source


def search_geoparquet(path: str | os.PathLike, query: str, model: str | os.PathLike = "default",
                      top: int = 100, backend: str = "auto") -> tuple[list[Hit], dict]:
    """The `top` cells of the whole file most likely to show `query` (the one-scene engine's calibrated
    probability against the background classes, per cell, without blending), as Hits with their footprints."""
    from ..scene.backend import logit_scale
    from ..scene.calibration import Calibration, backgrounds_for, query_probability
    from ..scene.phrases import parse_query
    from ..scene.prompts import embed, embed_query
    from .run import model_ref

    if top < 1:
        raise SarclipError(f"--top must be at least 1, got {top}")
    source = open_geoparquet(path)
    phrases = parse_query(query)
    checkpoint, ref = model_ref(model, backend)
    if source.metadata.num_rows == 0:
        return [], {"rows": 0}
    stored = source.read_row_group(0, columns=["model", "model_digest"]).slice(0, 1).to_pylist()[0]
    if stored["model_digest"] != ref.digest:
        raise SarclipError(f"{path}: made with model {stored['model']!r} (digest {stored['model_digest'][:12]}), "
                           f"but --model {ref.spec!r} has digest {ref.digest[:12]}; give the model it was made with")
    backgrounds = backgrounds_for(phrases)
    vectors = embed_query(checkpoint, query)
    if backgrounds:
        vectors = np.concatenate([vectors, embed(checkpoint, backgrounds)])
    calibration = Calibration.read(checkpoint.calibration, logit_scale(checkpoint))
    best: list[tuple[float, str, bytes]] = []
    for batch in source.iter_batches(batch_size=CHUNK, columns=["scene", "embedding", "geometry"]):
        column = batch.column("embedding")
        embeddings = column.values.to_numpy(zero_copy_only=False).reshape(len(batch), -1)
        scores = embeddings @ vectors.T
        probability = query_probability(scores[:, 0], scores[:, 1:], calibration.temperature, calibration.bias)
        pick = np.argsort(-probability)[:top]
        scenes, shapes = batch.column("scene"), batch.column("geometry")
        best += [(float(probability[k]), scenes[int(k)].as_py(), shapes[int(k)].as_py()) for k in pick]
        best = sorted(best, key=lambda item: -item[0])[:top]
    hits = [Hit(scene, query, score, wkb) for score, scene, wkb in best]
    return hits, {"rows": source.metadata.num_rows, "model": stored["model"], "calibration": asdict(calibration)}
