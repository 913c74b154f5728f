"""Fixtures for the plugin tests: the SARCLIP provider in a real Processing registry, tiny SAR scenes, a random model."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from raster_helpers import write_raster


@pytest.fixture
def sarclip_provider(qgis_processing):
    """The plugin's provider registered for one test, as the plugin's initProcessing() does."""
    from qgis.core import QgsApplication

    from sarclip_qgis.algorithms import SarclipProvider

    provider = SarclipProvider()
    QgsApplication.processingRegistry().addProvider(provider)
    yield provider
    QgsApplication.processingRegistry().removeProvider(provider)


@pytest.fixture(scope="session")
def random_model(tmp_path_factory) -> Path:
    """A randomly initialised sarclip-tiny-rn checkpoint folder (the MODEL parameter takes its path)."""
    from sarclip_core.model import create_model, model_config, save_checkpoint

    folder = tmp_path_factory.mktemp("model") / "sarclip-tiny-rn-random"
    save_checkpoint(folder, create_model("sarclip-tiny-rn"), model_config("sarclip-tiny-rn"))
    return folder


@pytest.fixture
def small_scene(tmp_path) -> Path:
    """A 300 x 260 float32 dB scene (10 m pixels, UTM 31N) with bright 'ships' on dark water and a nodata corner."""
    rng = np.random.default_rng(1)
    db = rng.normal(-20, 2, size=(260, 300)).astype(np.float32)
    for row, col in ((40, 60), (150, 220), (200, 80)):
        db[row:row + 6, col:col + 12] = 5
    db[:30, :40] = -9999
    return write_raster(tmp_path / "scene_db.tif", db, nodata=-9999)
