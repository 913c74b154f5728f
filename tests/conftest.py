"""Shared fixtures: small generated SAR rasters and the real Sentinel-1 scene."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from paths import SENTINEL1

# Fixture modules shared by several test files (used by name, never imported).
pytest_plugins = ["evaluate_helpers", "qgis_plugin_helpers"]


@pytest.fixture
def rng() -> np.random.Generator:
    return np.random.default_rng(0)


@pytest.fixture
def speckle(rng) -> np.ndarray:
    """Complex circular Gaussian samples: fully developed speckle, the physics behind SAR values."""
    return (rng.normal(size=(1, 96, 128)) + 1j * rng.normal(size=(1, 96, 128))).astype(np.complex64) * 30


@pytest.fixture
def sentinel1() -> Path:
    if not SENTINEL1.exists():
        pytest.skip(f"real data missing: {SENTINEL1}")
    return SENTINEL1
