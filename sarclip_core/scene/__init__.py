"""Scene inference: index a SAR scene's windows once, then heatmaps, label maps and counts from the index.

The functions that need the model are imported on first use (see sarclip_core.lazy). `load_model(spec, backend)`
loads a model on PyTorch or ONNX Runtime (backend.py).
"""

from ..errors import Cancelled, SarclipError
from ..io import MapExtent, PixelBox
from ..lazy import lazy_attributes
from .cache import clear as clear_index_cache
from .settings import SceneSettings

__getattr__ = lazy_attributes(__name__, {
    "build_index": ".api", "classify_labels": ".api", "count_objects": ".api", "image_query": ".api",
    "text_query": ".api", "SceneIndex": ".index", "load_model": ".backend"})

__all__ = ["Cancelled", "MapExtent", "PixelBox", "SarclipError", "SceneIndex", "SceneSettings", "build_index",
           "classify_labels", "clear_index_cache", "count_objects", "image_query", "load_model", "text_query"]
