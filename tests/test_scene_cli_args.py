"""The scene CLI refuses values it used to replace or reinterpret silently: one line, before any work."""

from __future__ import annotations

import pytest

from bad_input_helpers import one_error_line
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
