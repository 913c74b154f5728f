"""Cell-level scene maps: each scene cell stored once, peaks that resolve cells, calibrated 0-1 probabilities."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
import rasterio
import torch
from rasterio.transform import Affine

from raster_helpers import write_raster
from sarclip_core.model import create_model, model_config, save_checkpoint
from sarclip_core.scene import SceneSettings, build_index, count_objects, text_query
from sarclip_core.scene.calibration import (
    BACKGROUNDS,
    backgrounds_for,
    query_probability,
)
from sarclip_core.scene.scatterers import is_object_query
from scene_helpers import BrightCells, ship_oracle_checkpoint, speckle_scene

CELL = 32  # source pixels per scene cell: a 128 px window read out as 4 x 4 cells


@pytest.fixture(scope="module")
def oracle():
    """Text "ship" points at bright cells, every other text at clutter; the image tower has a dense readout."""
    return ship_oracle_checkpoint(BrightCells())


def _peak_pixels(transform, peaks) -> list[tuple[float, float]]:
    return [~Affine(*transform[:6]) * (p["x"], p["y"]) for p in peaks]


def test_each_scene_cell_is_stored_once_whatever_the_overlap(tmp_path):
    torch.manual_seed(0)
    folder = tmp_path / "tiny"
    save_checkpoint(folder, create_model("sarclip-tiny-rn"), model_config("sarclip-tiny-rn"))
    scene = speckle_scene(tmp_path / "scene.tif", [(100, 100)], size=300)
    indexes = [build_index(scene, folder, SceneSettings(overlap=overlap, index_dir=tmp_path / "index"))
               for overlap in (0.5, 0.75)]
    for index in indexes:
        cells = index.cells
        assert (cells.rows, cells.cols, cells.width) == (10, 10, CELL)  # ceil(300 / 32) cells per side
        assert index.count == index.embeddings.shape[0] == 100
        assert np.allclose(np.linalg.norm(index.embeddings, axis=1), 1.0, atol=1e-5)  # every cell holds data
    assert indexes[1].windows > indexes[0].windows  # more windows, the same cells


def test_two_targets_two_cells_apart_give_two_peaks(tmp_path, oracle):
    # 12x12 targets centred in cells (3, 3) and (3, 5): one cell of clutter between them. Both lie inside
    # the same 128 px windows, so a window-level map shows them as one blob.
    scene = speckle_scene(tmp_path / "s.tif", [(106, 106), (170, 106)], size=320)
    result = count_objects(scene, "ship", 3200.0, tmp_path / "n.gpkg", model=oracle,
                           settings=SceneSettings(index_dir=tmp_path / "i"))
    assert result["totals"] == {"ship": 2} and result["min_score"] == {"ship": 0.5}
    result = text_query(scene, "ship", tmp_path / "h.tif", oracle, SceneSettings(index_dir=tmp_path / "i"))
    with rasterio.open(scene) as ds:
        found = sorted(_peak_pixels(ds.transform, result["peaks"]))
    assert len(found) == 2
    for (col, row), centre in zip(found, (112, 176)):
        assert abs(col - centre) <= CELL / 2 and abs(row - 112) <= CELL / 2


def test_heatmap_is_a_probability_low_on_background_and_high_within_a_cell_of_the_target(tmp_path, oracle):
    settings = SceneSettings(overlap=0.5, index_dir=tmp_path / "i")
    empty = speckle_scene(tmp_path / "empty.tif", [], size=384)
    result = text_query(empty, "ship", tmp_path / "e.tif", oracle, settings)
    assert result["score_range"][1] < 0.5 and result["peak_count"] == 0 and result["peak_threshold"] == 0.5
    target = (203, 141)  # not aligned with cells or windows
    scene = speckle_scene(tmp_path / "s.tif", [target], size=384)
    result = text_query(scene, "ship", tmp_path / "h.tif", oracle, settings)
    with rasterio.open(tmp_path / "h.tif") as ds:
        heat, transform = ds.read(1), ds.transform
    assert np.nanmin(heat) >= 0.0 and np.nanmax(heat) <= 1.0
    row, col = np.unravel_index(np.nanargmax(heat), heat.shape)
    x, y = transform * (col + 0.5, row + 0.5)
    with rasterio.open(scene) as ds:
        scene_col, scene_row = ~ds.transform * (x, y)
    centre = (target[0] + 6, target[1] + 6)
    assert np.hypot(scene_col - centre[0], scene_row - centre[1]) <= CELL
    assert heat[row, col] > 0.5 and result["peak_count"] == 1


def test_the_engine_reads_temperature_bias_and_peak_threshold_from_the_checkpoint(tmp_path, oracle):
    scene = speckle_scene(tmp_path / "s.tif", [(203, 141)], size=256)
    settings = SceneSettings(index_dir=tmp_path / "i")
    doubtful = dataclasses.replace(oracle, calibration={"temperature": 10.0, "bias": -1.0, "peak_threshold": 0.05})
    result = text_query(scene, "ship", tmp_path / "h.tif", doubtful, settings)
    assert result["calibration"] == {"temperature": 10.0, "bias": -1.0, "peak_threshold": 0.05, "class_thresholds": {}}
    assert result["score_range"][1] < 0.5  # at best 1 / 8: cos 1 - 1 = 0 against seven backgrounds at cos 0
    assert result["peak_count"] == 1 and result["peak_threshold"] == 0.05
    assert text_query(scene, "ship", tmp_path / "h.tif", doubtful, settings, peak_threshold=0.9)["peak_count"] == 0
    fitted = dataclasses.replace(oracle, calibration={"temperature": 10.0, "bias": -1.0, "peak_threshold": 0.05,
                                                      "peak_threshold.ship": 0.9})
    assert text_query(scene, "vessel", tmp_path / "h.tif", fitted, settings)["peak_threshold"] == 0.9  # a synonym
    assert text_query(scene, "ship; tank", tmp_path / "h.tif", fitted, settings)["peak_threshold"] == 0.05
    counted = count_objects(scene, "ship, tank", 3200.0, tmp_path / "n.gpkg", model=fitted, settings=settings)
    assert counted["min_score"] == {"ship": 0.9, "tank": 0.05}


def test_no_data_is_nan_to_the_sub_cell_not_the_cell(tmp_path, oracle):
    data = np.random.default_rng(0).exponential(1, (128, 320)).astype(np.float32)
    data[:, 250:] = -99  # inside cell 7 (224..256): its left part has data
    scene = write_raster(tmp_path / "s.tif", data, nodata=-99)
    text_query(scene, "ship", tmp_path / "h.tif", oracle, SceneSettings(output_factor=1, index_dir=tmp_path / "i"))
    with rasterio.open(tmp_path / "h.tif") as out:
        heat = out.read(1)
    assert np.isfinite(heat[:, :248]).all() and np.isnan(heat[:, 252:]).all()


def test_query_probability_is_a_softmax_against_backgrounds():
    query = np.array([0.3, 0.5, np.nan])
    backgrounds = np.array([[0.3, 0.3], [0.1, 0.2], [0.1, 0.2]])
    p = query_probability(query, backgrounds, temperature=1.0, bias=0.0)
    assert p[0] == pytest.approx(1 / 3) and np.isnan(p[2])
    expected = np.exp(10 * 0.6) / (np.exp(10 * 0.6) + np.exp(10 * 0.1) + np.exp(10 * 0.2))
    assert query_probability(query, backgrounds, 10.0, 0.1)[1] == pytest.approx(expected)


@pytest.mark.parametrize("query, left_out", [
    (["ship"], set()),
    (["water"], {"water", "sea"}),  # sea is a kind of water
    (["Sea"], {"sea", "water"}),  # water is what sea is a kind of
    (["ground clutter"], {"clutter", "land"}),  # a synonym, and what clutter is a kind of
    (["tank", "port"], {"harbour", "land"}),
])
def test_a_query_never_competes_with_itself(query, left_out):
    assert set(BACKGROUNDS) - set(backgrounds_for(query)) == left_out


def test_object_peaks_sit_on_the_target_itself_background_peaks_stay_on_the_map(tmp_path, oracle):
    target = (203, 141)  # a 12x12 target, not aligned with cells: the map alone is a cell (32 px) off
    scene = speckle_scene(tmp_path / "s.tif", [target], size=384)
    result = text_query(scene, "ship", tmp_path / "h.tif", oracle, SceneSettings(index_dir=tmp_path / "i"))
    with rasterio.open(scene) as ds:
        (col, row), = _peak_pixels(ds.transform, result["peaks"])
        best_col, best_row = ~ds.transform * (result["best"]["x"], result["best"]["y"])
    for x, y in ((col, row), (best_col, best_row)):
        assert target[0] <= x <= target[0] + 12 and target[1] <= y <= target[1] + 12
    count = count_objects(scene, "ship", 3200.0, tmp_path / "n.gpkg", model=oracle,
                          settings=SceneSettings(index_dir=tmp_path / "i"))
    assert count["totals"] == {"ship": 1}
    assert is_object_query(["ship"]) and is_object_query(["T72", "tank"]) and is_object_query(["oil platform"])
    assert not is_object_query(["water"]) and not is_object_query(["sea surface"]) and not is_object_query(["land"])


def test_label_embeddings_are_kept_per_model_so_a_second_query_encodes_no_text(tmp_path):
    from sarclip_core.model import load_model
    from sarclip_core.scene.prompts import embed

    folder = tmp_path / "tiny"
    torch.manual_seed(0)
    save_checkpoint(folder, create_model("sarclip-tiny-rn"), model_config("sarclip-tiny-rn"))
    checkpoint = load_model(folder)
    calls = []
    original = checkpoint.model.encode_text
    object.__setattr__(checkpoint.model, "encode_text", lambda tokens, **kw: calls.append(len(tokens)) or
                       original(tokens, **kw))
    first = embed(checkpoint, ["ship", "sea", "clutter"])
    encoded = len(calls)
    again = embed(checkpoint, ["sea", "ship", "land"])  # only "land" is new
    assert encoded > 0 and len(calls) == encoded + 1
    assert np.array_equal(again[:2], first[[1, 0]])
    assert embed(load_model(folder), ["ship"]).shape == (1, first.shape[1])  # another model: its own entries
