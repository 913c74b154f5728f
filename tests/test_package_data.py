"""The engine's data (vocabulary, default model, demo scene) is package data: an installed engine finds it.

`pip install .` into a fresh virtualenv, then, from a folder outside the repository, the installed
engine (not the checkout) loads the vocabulary and the default model and finds the demo scene.
"""

from __future__ import annotations

import shutil
import site
import subprocess
import sys
from pathlib import Path

import pytest

from paths import ROOT

CHILD = """
import sys
from pathlib import Path
import sarclip_core
from sarclip_core.d2c.vocabulary import DEFAULT_VOCABULARY, load_vocabulary
from sarclip_core.model import DEFAULT_CHECKPOINT, load_model
from sarclip_core.scene.demo import SCENE
installed = Path(sys.argv[1]).resolve()
assert installed in Path(sarclip_core.__file__).resolve().parents, sarclip_core.__file__
assert installed in DEFAULT_VOCABULARY.parents and installed in DEFAULT_CHECKPOINT.parents
assert "ship" in load_vocabulary().classes
assert load_model("default").reader.native_size == 128
assert SCENE.is_file()
print("ok")
"""


@pytest.mark.timeout(300)
def test_pip_installed_engine_finds_its_vocabulary_default_model_and_demo(tmp_path):
    source = tmp_path / "source"  # built from a copy: the checkout gets no build/ or egg-info
    source.mkdir()
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(ROOT / name, source / name)
    for name in ("sarclip_core", "sarclip_qgis"):
        shutil.copytree(ROOT / name, source / name, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--system-site-packages", "--without-pip", str(venv)], check=True)
    python = venv / "bin" / "python"
    purelib = Path(subprocess.run([python, "-c", "import sysconfig; print(sysconfig.get_path('purelib'))"],
                                  check=True, capture_output=True, text=True).stdout.strip())
    # torch and open_clip come from this test's own environment, after the venv's own site-packages
    (purelib / "outer.pth").write_text("\n".join(site.getsitepackages()) + "\n")
    subprocess.run([sys.executable, "-m", "pip", "install", "-q", "--no-deps", "--no-build-isolation",
                    "--no-index", "--target", str(purelib), str(source)], check=True, timeout=240)
    outside = tmp_path / "elsewhere"
    outside.mkdir()
    done = subprocess.run([python, "-c", CHILD, str(purelib)], cwd=outside, capture_output=True, text=True,
                          env={"PATH": "/usr/bin:/bin", "HF_HUB_OFFLINE": "1", "OMP_NUM_THREADS": "1"}, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.strip().endswith("ok")
