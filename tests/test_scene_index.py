"""Scene index reuse/invalidation, cancel, and bad input: clear one-line errors and no partial files."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import numpy as np
import pytest
import torch

from sarclip_core.errors import Cancelled, SarclipError
from sarclip_core.io import PixelBox
from sarclip_core.model import create_model, load_model, model_config, save_checkpoint
from sarclip_core.scene import SceneSettings, build_index, classify_labels, count_objects, text_query

from conftest import ROOT, write_raster
from scene_helpers import speckle_scene


@pytest.fixture(scope="session")
def random_model(tmp_path_factory):
    torch.manual_seed(0)
    folder = tmp_path_factory.mktemp("model") / "tiny"
    save_checkpoint(folder, create_model("sarclip-tiny-rn"), model_config("sarclip-tiny-rn"))
    return folder


@pytest.fixture
def scene(tmp_path):
    return speckle_scene(tmp_path / "scene.tif", [(100, 100)], size=300)


def _files(folder):
    return sorted(p.name for p in folder.iterdir())


def test_index_is_reused_and_invalidated_by_file_or_model(tmp_path, scene, random_model):
    settings = SceneSettings(index_dir=tmp_path / "index")
    model = load_model(random_model)
    first = build_index(scene, model, settings)
    again = build_index(scene, model, settings)
    assert (first.reused, again.reused, again.path) == (False, True, first.path)
    os.utime(scene, (1, 1))  # touching the file changes mtime
    assert not build_index(scene, model, settings).reused
    torch.nn.init.normal_(model.model.visual.conv1.weight)  # another image tower
    assert not build_index(scene, model, settings).reused
    assert not build_index(scene, model, SceneSettings(overlap=0.25, index_dir=settings.index_dir)).reused
    result = text_query(scene, "ship", tmp_path / "h.tif", model, settings)
    assert result["index_reused"] is True and result["windows"] == first.windows
    assert result["scene_cells"] == first.count == 10 * 10  # 300 px in cells of 32 px
    json.dumps(result)


def test_cancel_leaves_no_index_and_no_outputs(tmp_path, scene, random_model):
    calls = []
    with pytest.raises(Cancelled):
        text_query(scene, "ship", tmp_path / "h.tif", random_model,
                   SceneSettings(index_dir=tmp_path / "index", batch_size=2), progress=calls.append,
                   is_cancelled=lambda: len(calls) > 2)
    assert _files(tmp_path / "index") == []
    assert _files(tmp_path) == ["index", "scene.tif"]


def test_progress_rises_to_one(tmp_path, scene, random_model):
    seen = []
    text_query(scene, "ship", tmp_path / "h.tif", random_model, SceneSettings(index_dir=tmp_path / "i"),
               progress=seen.append)
    assert seen == sorted(seen) and seen[-1] == pytest.approx(1.0)


@pytest.mark.parametrize("call, message", [
    (lambda s, o, m: text_query(s, "  ", o / "h.tif", m), "query is empty"),
    (lambda s, o, m: classify_labels(s, "T72", o / "l.tif", o / "c.tif", m), "at least two labels"),
    (lambda s, o, m: classify_labels(s, " , ", o / "l.tif", o / "c.tif", m), "label set is empty"),
    (lambda s, o, m: text_query(s, "ship", o / "h.tif", o / "no-such-model"), "model not found"),
    (lambda s, o, m: text_query(s, "ship", o / "h.tif", m, SceneSettings(aoi=PixelBox(5000, 5000, 10, 10))),
     "outside the scene"),
    (lambda s, o, m: text_query(s, "ship", "/sys/h.tif", m), "not writable"),
    (lambda s, o, m: text_query(s, "ship", o / "missing" / "h.tif", m), "does not exist"),
    (lambda s, o, m: count_objects(s, "clutter", 100, o / "n.gpkg", model=m), "nothing to count"),
    (lambda s, o, m: count_objects(s, "ship", 0, o / "n.gpkg", model=m), "cell size must be positive"),
])
def test_bad_input_is_one_clear_error_and_leaves_nothing(tmp_path, scene, random_model, call, message,
                                                         monkeypatch):
    monkeypatch.setenv("SARCLIP_CACHE", str(tmp_path / "cache"))
    before = _files(tmp_path)
    with pytest.raises(SarclipError, match=message) as error:
        call(scene, tmp_path, random_model)
    assert "\n" not in str(error.value)
    assert [f for f in _files(tmp_path) if f != "cache"] == before


def test_all_nodata_scene_is_a_clear_error(tmp_path, random_model):
    scene = write_raster(tmp_path / "empty.tif", np.full((64, 64), -99, np.float32), nodata=-99)
    with pytest.raises(SarclipError, match="no valid pixels"):
        text_query(scene, "ship", tmp_path / "h.tif", random_model, SceneSettings(index_dir=tmp_path / "i"))
    assert not (tmp_path / "h.tif").exists() and _files(tmp_path / "i") == []


def test_tile_larger_than_the_scene_gives_one_padded_window(tmp_path, random_model):
    scene = speckle_scene(tmp_path / "small.tif", [], size=60)
    result = text_query(scene, "ship", tmp_path / "h.tif", random_model,
                        SceneSettings(tile=256, index_dir=tmp_path / "i"))
    assert result["windows"] == 1 and (tmp_path / "h.tif").exists()


def test_cli_writes_summary_and_reports_bad_input_in_one_line(tmp_path, scene, random_model):
    env = dict(os.environ, PYTHONPATH=str(ROOT), SARCLIP_CACHE=str(tmp_path / "cache"))
    command = [sys.executable, "-m", "sarclip_core.scene", str(scene), "--query", "ship", "--labels", "ship, clutter",
               "--count", "--model", str(random_model), "--out", str(tmp_path / "out"), "--json", str(tmp_path / "s.json")]
    done = subprocess.run(command, capture_output=True, text=True, env=env, timeout=300)
    assert done.returncode == 0, done.stderr
    summary = json.loads((tmp_path / "s.json").read_text())
    assert set(summary) == {"query", "labels", "count"} and summary["query"]["windows"] > 0
    assert _files(tmp_path / "out") == ["confidence.tif", "counts.gpkg", "heatmap.png", "heatmap.tif", "labels.png",
                                        "labels.tif"]
    bad = subprocess.run(command[:4] + ["--query", "ship", "--model", str(tmp_path / "nope"), "--out",
                                         str(tmp_path / "o2")], capture_output=True, text=True, env=env, timeout=300)
    assert bad.returncode == 2 and bad.stderr.strip().splitlines()[-1].startswith("error: ")
    assert "Traceback" not in bad.stderr
