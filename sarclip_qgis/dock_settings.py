"""The dock's remembered settings (QgsSettings under SARCLIP/dock/) and its default output folder."""

from __future__ import annotations

import os
import re
from pathlib import Path

from qgis.core import QgsProject, QgsRasterLayer, QgsSettings, QgsUnitTypes

PREFIX = "SARCLIP/dock/"

# Remembered between sessions: what means the same on every scene. Ground resolution, count cell size and
# the area of interest are in one scene's map units (metres here, degrees there, pixels without a CRS):
# they start afresh for each scene and are never carried to the next one.
DEFAULTS = {
    "task": 0, "query": "", "labels": "", "model": "", "tile": 0, "overlap": 0.25,
    "batch": 64, "peak_threshold": 0.0, "output_folder": "",
}
SCENE_DEFAULTS = {"resolution": 0.0, "cell_size": 1000.0}


def load() -> dict:
    """Saved values, typed like DEFAULTS (QSettings hands back strings on some platforms)."""
    settings = QgsSettings()
    return {key: type(default)(settings.value(PREFIX + key, default)) for key, default in DEFAULTS.items()}


def save(values: dict) -> None:
    """Store the dock's values in the QGIS settings (only the known keys)."""
    settings = QgsSettings()
    for key in DEFAULTS:
        if key in values:
            settings.setValue(PREFIX + key, values[key])


def map_units(layer: QgsRasterLayer | None) -> str:
    """The abbreviation of a layer's map units ("m", "°"), or "px" for a layer without a CRS."""
    if layer is None or not layer.crs().isValid():
        return "px"
    return QgsUnitTypes.toAbbreviatedString(layer.crs().mapUnits()) or "map units"


def default_output_folder(layer: QgsRasterLayer | None) -> str:
    """sarclip_outputs/ next to the saved project, else next to the scene, else in the home folder.

    Never a temporary folder: results must survive QGIS restarts and be found again by the user.
    """
    home = QgsProject.instance().homePath()
    candidates = [home] if home else []
    if layer is not None and layer.isValid() and os.path.isfile(layer.source()):
        candidates.append(str(Path(layer.source()).parent))
    candidates.append(str(Path.home()))
    base = next((c for c in candidates if os.access(c, os.W_OK)), str(Path.home()))
    return str(Path(base) / "sarclip_outputs")


def slug(text: str, limit: int = 40) -> str:
    """A file-name-safe version of a query or label set."""
    return re.sub(r"[^A-Za-z0-9]+", "-", text).strip("-").lower()[:limit] or "query"


def unique_path(folder: str, stem: str, suffix: str) -> str:
    """folder/stem.suffix, numbered if taken, so a new run never overwrites a layer already on the map."""
    path = Path(folder) / f"{stem}{suffix}"
    number = 2
    while path.exists():
        path = Path(folder) / f"{stem}_{number}{suffix}"
        number += 1
    return str(path)
