"""The scene CLI refuses values it used to replace or reinterpret silently: one line, before any work."""

from __future__ import annotations

import pytest

from bad_input_helpers import one_error_line, read_only_folder, tree
from sarclip_core.scene.__main__ import main as scene_main
from scene_helpers import speckle_scene


@pytest.mark.parametrize("flags, words", [
    (["--count", "--cell-size", "0"], ["--cell-size must be a positive size in map units", "0.0"]),
    (["--count", "--cell-size", "-100"], ["--cell-size must be a positive size"]),
    (["--overlap", "1.0"], ["overlap 1.0 is ambiguous", "a fraction of the tile", "whole number of pixels"]),
    (["--overlap", "1"], ["overlap 1.0 is ambiguous"]),
])
def test_silently_replaced_values_are_refused(tmp_path, monkeypatch, capsys, flags, words):
    monkeypatch.setenv("SARCLIP_CACHE", str(tmp_path / "cache"))
    scene = speckle_scene(tmp_path / "scene.tif", [(40, 40)], size=128)
    argv = [str(scene), "--query", "ship", "--out", str(tmp_path / "out"), "--model", str(tmp_path / "no-model")]
    assert scene_main(argv + flags) == 2
    one_error_line(capsys.readouterr().err, *words)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["scene.tif"]  # no outputs, no index


def _file_at_out(tmp_path):
    (tmp_path / "out").write_text("mine")
    return ["--out", str(tmp_path / "out")]


def _folder_as_output(tmp_path):
    (tmp_path / "out" / "heatmap.png").mkdir(parents=True)
    return ["--out", str(tmp_path / "out")]


def _json_is_a_folder(tmp_path):
    (tmp_path / "summary").mkdir()
    return ["--out", str(tmp_path / "out"), "--json", str(tmp_path / "summary")]


@pytest.mark.parametrize("make, words", [
    (_file_at_out, ["out: --out is a file, not a folder"]),
    (_folder_as_output, ["heatmap.png: --out is a folder"]),
    (_json_is_a_folder, ["summary: --json is a folder"]),
    ("out-under-read-only", ["--out: cannot write in"]),
    ("json-under-read-only", ["--json: cannot write in"]),
])
def test_unwritable_outputs_are_refused_before_any_work(tmp_path, monkeypatch, capsys, make, words):
    monkeypatch.setenv("SARCLIP_CACHE", str(tmp_path / "cache"))
    scene = speckle_scene(tmp_path / "scene.tif", [(40, 40)], size=128)
    with read_only_folder(tmp_path) as locked:
        if make == "out-under-read-only":
            flags = ["--out", str(locked / "new" / "out")]
        elif make == "json-under-read-only":
            flags = ["--out", str(tmp_path / "out"), "--json", str(locked / "s.json")]
        else:
            flags = make(tmp_path)
        before = tree(tmp_path)
        argv = [str(scene), "--query", "ship", "--model", str(tmp_path / "no-model"), *flags]
        assert scene_main(argv) == 2  # the model (missing here) is never reached
        one_error_line(capsys.readouterr().err, *words)
        assert tree(tmp_path) == before


def test_query_by_example_from_the_command_line(tmp_path, monkeypatch, capsys):
    """--example-point X,Y (map coordinates) writes similar.tif; a bad point or a missing chip is one line."""
    import json

    import rasterio
    import torch

    from sarclip_core.model import create_model, model_config, save_checkpoint

    monkeypatch.setenv("SARCLIP_CACHE", str(tmp_path / "cache"))
    torch.manual_seed(0)
    save_checkpoint(tmp_path / "model", create_model("sarclip-tiny-rn"), model_config("sarclip-tiny-rn"))
    scene = speckle_scene(tmp_path / "scene.tif", [(40, 40)], size=256)
    with rasterio.open(scene) as ds:
        x, y = ds.transform * (46, 46)
    argv = [str(scene), "--example-point", f"{x},{y}", "--out", str(tmp_path / "out"), "--model", str(tmp_path / "model"),
            "--json", str(tmp_path / "s.json")]
    assert scene_main(argv) == 0, capsys.readouterr().err
    summary = json.loads((tmp_path / "s.json").read_text())
    assert summary["examples"]["query"] == "1 example point(s)" and (tmp_path / "out" / "similar.tif").is_file()
    with pytest.raises(SystemExit):
        scene_main([str(scene), "--example-point", "1;2", "--out", str(tmp_path / "o2")])
    assert "a point is 'x,y'" in capsys.readouterr().err
    assert scene_main([str(scene), "--example", str(tmp_path / "no-chip.png"), "--out", str(tmp_path / "o3")]) == 2
    one_error_line(capsys.readouterr().err, "no-chip.png: --example image not found")
    assert not (tmp_path / "o3").exists()


@pytest.mark.parametrize("flags, words", [
    (["--query", "ship", "--labels", "T72"], ["a label map needs at least two labels, got only 'T72'"]),
    (["--labels", "clutter, background", "--count"], ["nothing to count: clutter, background only describe"]),
])
def test_a_multi_step_run_that_would_fail_later_writes_nothing_first(tmp_path, monkeypatch, capsys, flags, words):
    """Every step's input is checked before the first step writes: earlier results in --out stay as they were."""
    monkeypatch.setenv("SARCLIP_CACHE", str(tmp_path / "cache"))
    scene = speckle_scene(tmp_path / "scene.tif", [(40, 40)], size=128)
    out = tmp_path / "out"
    out.mkdir()
    for name in ("heatmap.tif", "labels.tif", "confidence.tif"):
        (out / name).write_text("an earlier result")
    before = tree(tmp_path)
    assert scene_main([str(scene), "--out", str(out), "--model", str(tmp_path / "no-model"), *flags]) == 2
    one_error_line(capsys.readouterr().err, *words)
    assert tree(tmp_path) == before


def test_outputs_of_a_run_are_committed_together_when_every_step_succeeded(tmp_path, monkeypatch, capsys):
    """A step that fails at run time (here the label map) leaves --out exactly as it was: the heatmap the
    first step made is not moved in, earlier results stay; a run that succeeds replaces them all."""
    import json

    import torch

    from sarclip_core.errors import SarclipError
    from sarclip_core.model import create_model, model_config, save_checkpoint
    from sarclip_core.scene import api

    monkeypatch.setenv("SARCLIP_CACHE", str(tmp_path / "cache"))
    torch.manual_seed(0)
    save_checkpoint(tmp_path / "model", create_model("sarclip-tiny-rn"), model_config("sarclip-tiny-rn"))
    scene = speckle_scene(tmp_path / "scene.tif", [(40, 40)], size=160)
    out = tmp_path / "out"
    out.mkdir()
    (out / "heatmap.tif").write_text("an earlier result")
    before = tree(out)
    real = api.classify_labels

    def failing(*args, **kwargs):
        raise SarclipError("the label step failed")

    monkeypatch.setattr(api, "classify_labels", failing)
    argv = [str(scene), "--query", "ship", "--labels", "ship, sea", "--out", str(out), "--model", str(tmp_path / "model"),
            "--index-dir", str(tmp_path / "index"), "--json", str(tmp_path / "s.json")]
    assert scene_main(argv) == 2
    one_error_line(capsys.readouterr().err, "the label step failed")
    assert tree(out) == before
    monkeypatch.setattr(api, "classify_labels", real)
    assert scene_main(argv) == 0
    summary = json.loads((tmp_path / "s.json").read_text())
    assert summary["query"]["outputs"]["heatmap"] == str(out / "heatmap.tif")
    assert sorted(p.name for p in out.iterdir()) == ["confidence.tif", "heatmap.png", "heatmap.tif", "labels.png",
                                                     "labels.tif"]


def test_default_maps_draw_four_pixels_per_cell_up_to_two_megapixels_then_fewer():
    from sarclip_core.scene.settings import MAX_OUTPUT_PIXELS, SceneSettings

    settings = SceneSettings()
    assert settings.factor(32.0, 10_000 * 10_000) == 8  # 100 Mpixel: 1,250^2 output pixels, 4 per cell
    assert settings.factor(32.0, 25_000 * 16_000) == 15  # a Sentinel-1 scene: about 2 per cell
    assert (25_000 / 15) * (16_000 / 15) <= MAX_OUTPUT_PIXELS
    assert SceneSettings(output_factor=2).factor(32.0, 25_000 * 16_000) == 2  # asked for: as asked
