"""The plugin zip as a user gets it: unpacked into a fresh QGIS profile, enabled, and run by qgis_process."""

from __future__ import annotations

import importlib.util
import json
import os
import shutil
import subprocess
import sys
import zipfile

import pytest
import rasterio

from paths import ROOT

QGIS_PROCESS = shutil.which("qgis_process.bin")
pytestmark = pytest.mark.skipif(QGIS_PROCESS is None, reason="qgis_process.bin is not installed")
ALGORITHMS = ("sarclip:build_index", "sarclip:classify_labels", "sarclip:count_objects", "sarclip:text_query")


def _package_module():
    spec = importlib.util.spec_from_file_location("package", ROOT / "scripts" / "package.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture
def profile(tmp_path):
    """A fresh QGIS config folder with the zip unpacked into its default profile's plugin folder."""
    target = _package_module().build(tmp_path / "dist")
    config = tmp_path / "qgis-config"
    plugins = config / "profiles" / "default" / "python" / "plugins"
    plugins.mkdir(parents=True)
    zipfile.ZipFile(target).extractall(plugins)
    return config


def qgis_process(config, *args: str, timeout: float = 600, site: str | None = None) -> subprocess.CompletedProcess:
    """qgis_process.bin on that profile, with the venv's packages (or those of `site`; "" for none) but not this
    repository on sys.path."""
    env = {k: v for k, v in os.environ.items() if k not in ("QGIS_CUSTOM_CONFIG_PATH", "PYTHONPATH", "QGIS_PLUGINPATH")}
    if site is None:
        site = next(p for p in sys.path if p.endswith("site-packages") and p.startswith(sys.prefix))
    env.update(QGIS_CUSTOM_CONFIG_PATH=str(config), PYTHONPATH=site, QT_QPA_PLATFORM="offscreen",
               SARCLIP_CACHE=str(config.parent / "cache"), HF_HUB_OFFLINE="1")
    return subprocess.run([QGIS_PROCESS, *args], env=env, cwd=config.parent, capture_output=True, text=True,
                          timeout=timeout, check=False)


def test_zip_installs_enables_lists_and_runs_text_query_on_sentinel1(profile, sentinel1, random_model, tmp_path):
    enabled = qgis_process(profile, "plugins", "enable", "sarclip_qgis")
    assert enabled.returncode == 0, enabled.stderr
    listing = qgis_process(profile, "list")
    assert listing.returncode == 0, listing.stderr
    for algorithm in ALGORITHMS:
        assert algorithm in listing.stdout

    bundled_default = profile / "profiles/default/python/plugins/sarclip_qgis/engine/sarclip_core/resources/models/sarclip-tiny"
    model = "default" if bundled_default.is_dir() else str(random_model)
    out = tmp_path / "ship_heatmap.tif"
    ran = qgis_process(profile, "run", "sarclip:text_query", "--json", "--", f"INPUT={sentinel1}", "QUERY=ship",
                       f"MODEL={model}", f"OUTPUT={out}")
    assert ran.returncode == 0, ran.stderr[-2000:]
    results = json.loads(ran.stdout[ran.stdout.index("{"):])["results"]
    assert results["OUTPUT"] == str(out) and results["MESSAGE"].startswith("heatmap written; ")
    with rasterio.open(out) as heatmap, rasterio.open(sentinel1) as scene:
        assert heatmap.crs == scene.crs and heatmap.crs.to_epsg() == 32631
        assert (heatmap.bounds.left, heatmap.bounds.top) == pytest.approx((scene.bounds.left, scene.bounds.top))
        assert 0 <= heatmap.bounds.right - scene.bounds.right < heatmap.res[0]
        assert 0 <= scene.bounds.bottom - heatmap.bounds.bottom < heatmap.res[1]


def test_qgis_process_reports_bad_input_in_one_line(profile, sentinel1, random_model, tmp_path):
    qgis_process(profile, "plugins", "enable", "sarclip_qgis")
    ran = qgis_process(profile, "run", "sarclip:classify_labels", "--", f"INPUT={sentinel1}", "LABELS=ship",
                       f"MODEL={random_model}", f"OUTPUT={tmp_path / 'l.tif'}", f"OUTPUT_CONFIDENCE={tmp_path / 'c.tif'}")
    assert ran.returncode != 0
    assert "a label map needs at least two labels, got only 'ship'" in ran.stdout + ran.stderr
    assert not list(tmp_path.glob("*.tif"))
