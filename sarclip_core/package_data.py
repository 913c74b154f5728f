"""Files shipped inside the engine package, in sarclip_core/resources/ (vocabulary, default model, demo scene).

Found with importlib.resources rather than relative to the source tree, so they are there wherever the
engine runs from: the git checkout, the plugin zip, or an installed copy (`pip install .`).
"""

from __future__ import annotations

from importlib.resources import files
from pathlib import Path


def resource(*parts: str) -> Path:
    """The path of a file or folder in sarclip_core/resources/ (parts such as "models", "sarclip-tiny").

    A path on disk (open_clip, rasterio and GDAL take paths): the engine is installed as files, not zipped.
    """
    return Path(str(files(__package__).joinpath("resources", *parts)))
