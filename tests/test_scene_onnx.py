"""The scene engine on ONNX Runtime: the same maps as on PyTorch on the real Sentinel-1 scene (max abs difference
at most 1e-3), chosen by `auto` when PyTorch is missing, and run end to end by a Python that cannot import it."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import numpy as np
import pytest
import rasterio

from paths import ROOT
from sarclip_core.errors import SarclipError
from sarclip_core.model import DEFAULT_CHECKPOINT, load_model
from sarclip_core.model.onnx_runtime import OnnxModel, load_onnx
from sarclip_core.scene import SceneSettings, classify_labels, image_query, text_query
from sarclip_core.scene import load_model as load_for_scene
from sarclip_core.scene.backend import resolve_backend

MAX_DIFFERENCE = 1e-3  # the bound; measured on this scene: below 1e-6
# A Python in which PyTorch and open_clip are not importable (sys.modules entries of None: `import torch` fails
# and importlib finds no torch), running the scene command line; it prints what it imported from torch.
WITHOUT_TORCH = ("import sys; sys.modules.update(torch=None, open_clip=None); "
                 "from sarclip_core.scene.__main__ import main; code = main(sys.argv[1:]); "
                 "print('torch modules:', sorted(m for m, v in sys.modules.items() if m.startswith('torch') and v)); "
                 "sys.exit(code)")


def _maps(tmp_path, model, scene, name):
    settings = SceneSettings(index_dir=tmp_path / f"index-{name}")  # each backend builds its own index
    (tmp_path / name).mkdir()
    query = text_query(scene, "ship", tmp_path / name / "heatmap.tif", model, settings, quicklook=False)
    labels = classify_labels(scene, "water, land", tmp_path / name / "labels.tif", tmp_path / name / "confidence.tif",
                             model, settings, quicklook=False, out_scores_path=tmp_path / name / "scores.tif")
    return query, labels


def _read(path):
    with rasterio.open(path) as ds:
        return ds.read().astype(np.float64)


def test_maps_on_onnx_runtime_equal_pytorchs_on_the_sentinel1_scene(tmp_path, sentinel1):
    torch_query, torch_labels = _maps(tmp_path, load_model("default"), sentinel1, "torch")
    onnx_query, onnx_labels = _maps(tmp_path, load_onnx(DEFAULT_CHECKPOINT), sentinel1, "onnx")
    assert (torch_query["backend"], onnx_query["backend"]) == ("torch", "onnx")
    assert not onnx_query["index_reused"]  # built by ONNX Runtime, not read from PyTorch's index
    for name in ("heatmap.tif", "confidence.tif", "scores.tif"):
        a, b = _read(tmp_path / "torch" / name), _read(tmp_path / "onnx" / name)
        assert (np.isfinite(a) == np.isfinite(b)).all()
        assert np.nanmax(np.abs(a - b)) <= MAX_DIFFERENCE, name
    assert (_read(tmp_path / "torch" / "labels.tif") == _read(tmp_path / "onnx" / "labels.tif")).all()
    assert onnx_labels["label_shares"] == torch_labels["label_shares"]
    assert [p["score"] for p in onnx_query["peaks"]] == pytest.approx([p["score"] for p in torch_query["peaks"]], abs=1e-3)


def test_example_chip_query_matches_pytorch(tmp_path, sentinel1):
    chip = tmp_path / "chip.tif"
    with rasterio.open(sentinel1) as ds:  # a real piece of the scene as the example image
        profile = {**ds.profile, "width": 60, "height": 40, "transform": ds.window_transform(((100, 140), (80, 140)))}
        data = ds.read(window=((100, 140), (80, 140)))
    with rasterio.open(chip, "w", **profile) as dst:
        dst.write(data)
    settings = SceneSettings(index_dir=tmp_path / "index")
    results = {name: image_query(sentinel1, [chip], tmp_path / f"{name}.tif", model, settings, quicklook=False)
               for name, model in (("torch", load_model("default")), ("onnx", load_onnx(DEFAULT_CHECKPOINT)))}
    assert np.nanmax(np.abs(_read(tmp_path / "torch.tif") - _read(tmp_path / "onnx.tif"))) <= MAX_DIFFERENCE
    assert results["onnx"]["index_reused"]  # same model identity: ONNX Runtime reads the index PyTorch built


def test_auto_picks_onnx_runtime_when_torch_is_missing(monkeypatch):
    assert resolve_backend("auto") == "torch"  # this test environment has PyTorch
    monkeypatch.setitem(sys.modules, "torch", None)
    assert resolve_backend("auto") == "onnx"
    assert isinstance(load_for_scene("default"), OnnxModel)
    with pytest.raises(SarclipError, match="the torch backend needs PyTorch"):
        resolve_backend("torch")
    with pytest.raises(SarclipError, match="an open_clip name needs PyTorch"):
        load_for_scene("RN50:openai")


def _cli(tmp_path, *args):
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.run([sys.executable, "-c", WITHOUT_TORCH, *map(str, args)], capture_output=True, text=True,
                          env=env, cwd=tmp_path, timeout=300)


def test_command_line_without_torch_runs_on_onnx_runtime(tmp_path, sentinel1):
    done = _cli(tmp_path, sentinel1, "--query", "ship", "--labels", "water, land", "--out", tmp_path / "out",
                "--index-dir", tmp_path / "index", "--json", tmp_path / "summary.json")
    assert done.returncode == 0, done.stderr
    assert "torch modules: []" in done.stdout
    summary = json.loads((tmp_path / "summary.json").read_text())
    assert summary["query"]["backend"] == summary["labels"]["backend"] == "onnx"
    assert (tmp_path / "out" / "heatmap.tif").is_file() and (tmp_path / "out" / "labels.tif").is_file()


def test_command_line_backend_errors_are_one_line(tmp_path, sentinel1):
    refused = _cli(tmp_path, sentinel1, "--query", "ship", "--out", tmp_path / "out", "--backend", "torch")
    assert refused.returncode == 2 and refused.stderr.strip().count("\n") == 0
    assert "the torch backend needs PyTorch" in refused.stderr
    bare = tmp_path / "bare"
    bare.mkdir()
    for name in ("sarclip.json", "open_clip_config.json", "open_clip_model.safetensors", "anyreader.safetensors"):
        (bare / name).write_bytes((DEFAULT_CHECKPOINT / name).read_bytes())
    missing = _cli(tmp_path, sentinel1, "--query", "ship", "--out", tmp_path / "out2", "--model", bare,
                   "--index-dir", tmp_path / "index")
    assert missing.returncode == 2 and missing.stderr.strip().count("\n") == 0
    assert "has no ONNX export; make it with `python -m sarclip_core.model export-onnx" in missing.stderr
    assert not (tmp_path / "out2").exists()
