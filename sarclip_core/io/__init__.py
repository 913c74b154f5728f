"""SAR raster I/O: the engine's only door to rasters (open, describe, window, convert, write)."""

from .convert import (
    Normalisation,
    channel_mixing,
    complex_to_amplitude,
    fit_channels,
    to_domain,
    to_model_input,
)
from .raster import RasterInfo, ValueKind, describe, open_raster
from .windows import GridWindow, MapExtent, PixelBox, WindowGrid, iter_tiles, make_grid, read_window
from .writer import OutputGrid, TiledWriter

__all__ = [
    "GridWindow", "MapExtent", "Normalisation", "OutputGrid", "PixelBox", "RasterInfo", "TiledWriter", "ValueKind",
    "WindowGrid", "channel_mixing", "complex_to_amplitude", "describe", "fit_channels", "iter_tiles", "make_grid",
    "open_raster", "read_window", "to_domain", "to_model_input",
]
