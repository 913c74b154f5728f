"""What an analyst installs: a fresh virtualenv over the system Python (the one QGIS runs), given only
requirements-qgis.txt, has no PyTorch, stays under 300 MB and runs the scene command line on the real
Sentinel-1 scene; the plugin's Install command does the same for QGIS, and qgis_process then runs a query
(ONNX Runtime with the bundled model's export). pip's cache is reused between runs."""

from __future__ import annotations

import json
import os
import subprocess

import pytest

from paths import ROOT
from sarclip_qgis import deps
from test_qgis_package import QGIS_PROCESS, profile, qgis_process  # noqa: F401  (profile is a fixture)

SYSTEM_PYTHON = "/usr/bin/python3"
MAX_BYTES = 300 * 2 ** 20
pytestmark = [pytest.mark.slow,
              pytest.mark.skipif(not os.path.exists(SYSTEM_PYTHON), reason="no system Python at /usr/bin/python3")]


@pytest.fixture(scope="module")
def venv(tmp_path_factory):
    folder = tmp_path_factory.mktemp("qgis-venv") / "venv"
    subprocess.run([SYSTEM_PYTHON, "-m", "venv", "--system-site-packages", str(folder)], check=True)
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    done = subprocess.run([str(folder / "bin" / "python"), "-m", "pip", "install", "-q", "-r",
                           str(ROOT / "requirements-qgis.txt")], capture_output=True, text=True, env=env, timeout=600)
    assert done.returncode == 0, done.stderr[-2000:]
    return folder


def _python(venv, *args, **kwargs) -> subprocess.CompletedProcess:
    env = {**{k: v for k, v in os.environ.items() if k != "VIRTUAL_ENV"}, "PYTHONPATH": str(ROOT)}
    return subprocess.run([str(venv / "bin" / "python"), *args], capture_output=True, text=True, env=env,
                          timeout=600, **kwargs)


def test_venv_has_no_pytorch_and_stays_small(venv):
    found = _python(venv, "-c", "import importlib.util as u; print([m for m in ('torch', 'open_clip', 'onnxruntime') "
                                "if u.find_spec(m)])")
    assert found.stdout.strip() == "['onnxruntime']", found.stderr
    size = sum(p.stat().st_size for p in venv.rglob("*") if p.is_file() and not p.is_symlink())
    assert size <= MAX_BYTES, f"{size / 2 ** 20:.0f} MB installed"


def test_scene_command_line_runs_on_the_sentinel1_scene(venv, sentinel1, tmp_path):
    done = _python(venv, "-m", "sarclip_core.scene", str(sentinel1), "--query", "ship", "--labels", "water, land",
                   "--out", str(tmp_path / "out"), "--index-dir", str(tmp_path / "index"),
                   "--json", str(tmp_path / "summary.json"), cwd=tmp_path)
    assert done.returncode == 0, done.stderr[-2000:]
    summary = json.loads((tmp_path / "summary.json").read_text())
    assert summary["query"]["backend"] == "onnx" and summary["labels"]["label_shares"]
    assert summary["query"]["message"].startswith("heatmap written; ")


@pytest.mark.skipif(QGIS_PROCESS is None, reason="qgis_process.bin is not installed")
def test_install_button_command_then_qgis_process_text_query(profile, sentinel1, tmp_path):  # noqa: F811
    """The dock's Install command, run with the system Python into the fresh profile's dependency folder, and
    then qgis_process with nothing else on its path: the plugin finds what was installed and runs a query."""
    folder = profile / "profiles" / "default" / "python" / "sarclip_dependencies"
    shipped = profile / "profiles" / "default" / "python" / "plugins" / "sarclip_qgis" / "engine" / "requirements-qgis.txt"
    assert shipped.read_text() == deps.REQUIREMENTS_FILE.read_text()  # the file the zip's Install button names
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    done = subprocess.run(deps.install_args(str(folder), python=SYSTEM_PYTHON), capture_output=True, text=True, env=env,
                          timeout=600)
    assert done.returncode == 0, done.stderr[-2000:]
    size = sum(p.stat().st_size for p in folder.rglob("*") if p.is_file())
    assert size <= MAX_BYTES, f"{size / 2 ** 20:.0f} MB installed"
    installed = {p.name for site in folder.glob("**/*-packages") for p in site.iterdir()}
    assert "onnxruntime" in installed and not installed & {"torch", "numpy", "rasterio"}  # QGIS's own are used
    assert qgis_process(profile, "plugins", "enable", "sarclip_qgis", site="").returncode == 0
    out = tmp_path / "ship_heatmap.tif"
    ran = qgis_process(profile, "run", "sarclip:text_query", "--json", "--", f"INPUT={sentinel1}", "QUERY=ship",
                       "MODEL=default", f"OUTPUT={out}", site="")
    assert ran.returncode == 0, ran.stderr[-2000:]
    results = json.loads(ran.stdout[ran.stdout.index("{"):])["results"]
    assert results["MESSAGE"].startswith("heatmap written; ") and out.is_file()
