"""Scene inference: index a SAR scene's windows once, then heatmaps, label maps and counts from the index."""

from ..errors import Cancelled, SarclipError
from ..io import MapExtent, PixelBox
from .api import build_index, classify_labels, count_objects, image_query, text_query
from .cache import clear as clear_index_cache
from .index import SceneIndex
from .settings import SceneSettings

__all__ = ["Cancelled", "MapExtent", "PixelBox", "SarclipError", "SceneIndex", "SceneSettings", "build_index",
           "classify_labels", "clear_index_cache", "count_objects", "image_query", "text_query"]
