"""What a scene run is asked to do: window size, overlap, ground resolution, batch, AOI, where indexes live."""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

from ..errors import SarclipError
from ..io import MapExtent, PixelBox, RasterInfo, WindowGrid, make_grid
from ..io.windows import check_overlap
from .cache import cache_folder
from .cache import limit_bytes as cache_limit

DEFAULT_OVERLAP = 0.25  # chosen on 160 SSDD training images and the water-fit scenes: see the README ("Measured")
OUTPUT_PIXELS_PER_CELL = 4  # the map carries one value per cell; 4 px per cell draws the blend between cells
MAX_OUTPUT_PIXELS = 2_000_000  # a default map's pixels at most (a 100-Mpixel scene keeps 4 px per 32 px cell)


@dataclass(frozen=True)
class SceneSettings:
    """User settings shared by indexing and every query (the plugin's and the CLI's options).

    tile: window size in pixels (None: the model's native input size, e.g. 128).
    overlap: between neighbouring windows, a fraction of the tile in [0, 1) or a whole number of pixels
    (io.windows.overlap_pixels); an ambiguous value (1.0) is refused here, before any work.
    resolution: ground resolution of a window pixel in map units (None: the scene's own pixels).
    aoi: only this part of the scene, in pixels or as a map extent.
    index_dir: where scene indexes are cached (None: $SARCLIP_CACHE/index or ~/.cache/sarclip/index).
    index_cache_gb: the cache's size limit; least recently used indexes are removed beyond it (None:
    $SARCLIP_INDEX_CACHE_GB, else 5 GB). An index larger than the limit is refused before any work.
    output_factor: source pixels per output pixel (None: about 4 output pixels per scene cell, since a
    map holds one value per cell, and fewer where the map would pass 2 Mpixel; 1 gives full resolution).
    """

    tile: int | None = None
    overlap: float = DEFAULT_OVERLAP
    resolution: float | None = None
    batch_size: int = 64
    aoi: PixelBox | MapExtent | None = None
    index_dir: str | Path | None = None
    output_factor: int | None = None
    index_cache_gb: float | None = None

    def __post_init__(self) -> None:
        if self.tile is not None and (isinstance(self.tile, bool) or int(self.tile) != self.tile or self.tile < 8):
            raise SarclipError(f"tile must be a whole number of pixels >= 8, got {self.tile!r}")
        check_overlap(self.overlap)
        if self.batch_size < 1:
            raise SarclipError(f"batch size must be at least 1, got {self.batch_size}")
        if self.output_factor is not None and self.output_factor < 1:
            raise SarclipError(f"output factor must be at least 1, got {self.output_factor}")
        if self.index_cache_gb is not None:
            cache_limit(self.index_cache_gb)

    def grid(self, info: RasterInfo, native_tile: int) -> WindowGrid:
        """The scene's windows for these settings (the tile defaults to the model's native size)."""
        return make_grid(info, self.tile or native_tile, self.overlap, self.resolution, self.aoi)

    def factor(self, cell_size: float, area_pixels: int = 0) -> int:
        """Source pixels per output pixel for maps of scene cells `cell_size` source pixels wide over an area of
        `area_pixels` source pixels: about OUTPUT_PIXELS_PER_CELL per cell side, coarser where that would pass
        MAX_OUTPUT_PIXELS (a Sentinel-1 scene: about 2 per cell), so writing a map stays about a second."""
        if self.output_factor is not None:
            return int(self.output_factor)
        return max(1, int(cell_size // OUTPUT_PIXELS_PER_CELL), math.ceil(math.sqrt(area_pixels / MAX_OUTPUT_PIXELS)))

    def cache_limit(self) -> int:
        """The index cache's size limit in bytes."""
        return cache_limit(self.index_cache_gb)

    def cache_dir(self) -> Path:
        """The folder scene indexes are kept in, created if needed."""
        return cache_folder(self.index_dir)
