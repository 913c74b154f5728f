"""Many scenes at once on a Dask cluster (dask.distributed): index them, query them, export the index as GeoParquet.

The unit of work is one scene, run by the one-scene engine (sarclip_core.scene) on a worker that loads the
model once; indexes go to a shared folder under the same keys the one-scene engine uses, so a later
single-scene query reuses them. `python -m sarclip_core.batch --help` is the command line.
"""

from ..lazy import lazy_attributes

__getattr__ = lazy_attributes(__name__, {
    "index_scenes": ".run", "query_scenes": ".run", "export_geoparquet": ".geoparquet",
    "search_geoparquet": ".geoparquet", "connect": ".cluster"})

__all__ = ["connect", "export_geoparquet", "index_scenes", "query_scenes", "search_geoparquet"]
