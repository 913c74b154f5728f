"""Water maps use the scene's own radiometry: a dark mode where there is one, nothing where the scene has one mode."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import rasterio

from raster_helpers import write_raster
from sarclip_core.io import OutputGrid, describe
from sarclip_core.scene import SceneSettings, classify_labels, text_query
from sarclip_core.scene.radiometry import (
    CLIP,
    MIN_SHARE,
    SEA_DB,
    TARGET_ABOVE_DB,
    WEIGHT,
    SceneLevels,
    add_evidence,
    dark_mode,
    evidence_note,
    is_calibrated,
    is_vessel_query,
    is_water_label,
    output_levels,
    scene_levels,
    too_bright_for_water,
    water_evidence,
)
from sarclip_core.scene.scatterers import Scatterer, most_likely


def _levels(rng, dark_share: float, gap_db: float, size: int = 4000) -> np.ndarray:
    dark = rng.random(size) < dark_share
    return np.where(dark, -20.0, -20.0 + gap_db) + rng.normal(0, 1.0, size)


def test_a_scene_of_water_and_land_has_a_dark_mode_and_water_gets_evidence_land_loses_it(rng):
    levels = _levels(rng, 0.4, 10.0)
    mode = dark_mode(levels)
    assert mode is not None and mode.means[0] < -18 and mode.means[1] > -12 and mode.separation > 4
    evidence = water_evidence(np.array([-20.0, -10.0, np.nan]), mode)
    assert evidence[0] == WEIGHT * CLIP and evidence[1] == -WEIGHT * CLIP and evidence[2] == 0.0


def test_one_mode_or_a_few_bright_targets_give_no_evidence(rng):
    assert dark_mode(_levels(rng, 1.0, 10.0)) is None  # all sea (or all land): speckle only
    assert dark_mode(_levels(rng, 0.5, 1.0)) is None  # two close modes: not apart enough
    assert dark_mode(_levels(rng, 1 - MIN_SHARE / 3, 12.0)) is None  # bright vehicles on clutter
    assert np.all(water_evidence(_levels(rng, 1.0, 0.0), None) == 0)


def test_evidence_shifts_water_labels_and_keeps_probabilities_normalised():
    probabilities = np.array([[[0.5, 0.9, np.nan]], [[0.5, 0.1, np.nan]]])  # (labels, 1, 3): water, land
    shifted = add_evidence(probabilities, np.array([[2.0, -4.0, 1.0]]), [0])
    assert shifted[0, 0, 0] > 0.85 and shifted[0, 0, 1] < 0.5
    assert np.allclose(shifted[:, 0, :2].sum(axis=0), 1.0) and np.isnan(shifted[:, 0, 2]).all()
    alone = add_evidence(np.array([[[0.5, 0.5]]]), np.array([[0.0, np.log(3.0)]]), [0])  # a query's own odds
    assert np.allclose(alone[0, 0], [0.5, 0.75])


def test_water_words_come_from_the_vocabulary():
    assert all(is_water_label(word) for word in ("water", "Sea", "river", "flooded fields", "open water", "lagoon"))
    assert not any(is_water_label(word) for word in ("land", "urban area", "ship", "clutter", "harbour"))


def test_levels_are_decibel_means_of_each_output_pixel_and_nan_on_no_data(tmp_path):
    amplitude = np.full((64, 64), 10.0, np.float32)
    amplitude[:, 32:] = 100.0
    amplitude[:8, :8] = 0.0  # nodata
    info = describe(write_raster(tmp_path / "a.tif", amplitude, nodata=0.0), value_kind="amplitude")
    levels = output_levels(info, OutputGrid.for_scene(info, 8))
    assert levels.shape == (8, 8) and np.isnan(levels[0, 0])
    assert np.allclose(levels[1:, :4], 20.0) and np.allclose(levels[:, 4:], 40.0)


def _camargue_levels(sentinel1):
    info = describe(sentinel1)
    return info, output_levels(info, OutputGrid.for_scene(info, 8))


def test_the_camargue_label_map_puts_its_dark_lagoons_in_water_and_its_bright_land_in_land(sentinel1, tmp_path):
    info, levels = _camargue_levels(sentinel1)
    summary = classify_labels(sentinel1, "water, land", tmp_path / "l.tif", tmp_path / "c.tif",
                              settings=SceneSettings(index_dir=tmp_path / "i"), quicklook=False)
    with rasterio.open(tmp_path / "l.tif") as ds:
        labels = ds.read(1)
    finite = np.isfinite(levels) & (labels > 0)
    darkest, brightest = np.nanpercentile(levels[finite], [10, 90])
    assert np.mean(labels[finite & (levels <= darkest)] == 1) > 0.9
    assert np.mean(labels[finite & (levels >= brightest)] == 2) > 0.9
    assert summary["water_dark_mode"]["separation"] >= 2 and summary["water_dark_mode"]["dark_db"] < -14


def test_a_target_s_return_is_its_level_above_the_scene_s_clutter(rng):
    levels = rng.normal(-20.0, 2.0, (60, 80))
    typical = np.percentile(levels, 75)
    levels[10, 10], levels[20, 20], levels[30, 30] = typical + 25, typical + TARGET_ABOVE_DB, typical - 3
    levels[40, 40] = np.nan  # no data
    weight = SceneLevels(levels, None, calibrated=True).target_return()
    assert weight[10, 10] > 0.99 and abs(weight[20, 20] - 0.5) < 0.02 and weight[30, 30] < 0.02
    assert weight[40, 40] == 0 and np.median(weight) < 0.05 and weight.dtype == np.float32


def test_a_ship_map_is_drawn_on_the_radar_return_a_water_map_is_not(sentinel1, tmp_path):
    """An object query's written map is its probability times the return, so the map's maximum sits on a bright
    target; its peaks and threshold stay probabilities. A background query's map is the probability itself."""
    settings = SceneSettings(index_dir=tmp_path / "i")
    ship = text_query(sentinel1, "ship", tmp_path / "s.tif", settings=settings, quicklook=False)
    water = text_query(sentinel1, "water", tmp_path / "w.tif", settings=settings, quicklook=False)
    with rasterio.open(tmp_path / "s.tif") as ds:
        drawn, band = ds.read(1), ds.descriptions[0]
    with rasterio.open(tmp_path / "w.tif") as ds:
        assert ds.descriptions[0] == "probability: water"
    assert band == "probability x radar return: ship" and "drawn as probability x radar return" in ship["message"]
    assert "radar return" not in water["message"]
    _, levels = _camargue_levels(sentinel1)
    row, col = np.unravel_index(np.nanargmax(drawn), drawn.shape)
    assert levels[row, col] >= np.nanpercentile(levels, 99)  # the map's maximum is on one of the brightest returns
    assert ship["score_range"][1] == pytest.approx(float(np.nanmax(drawn)), abs=1e-4)


def test_a_water_query_reports_its_dark_mode_and_a_ship_query_does_not_use_one(sentinel1, tmp_path):
    settings = SceneSettings(index_dir=tmp_path / "i")
    water = text_query(sentinel1, "water", tmp_path / "w.tif", settings=settings, quicklook=False)
    ship = text_query(sentinel1, "ship", tmp_path / "s.tif", settings=settings, quicklook=False)
    assert water["water_dark_mode"] is not None and ship["water_dark_mode"] is None
    with rasterio.open(tmp_path / "w.tif") as ds:
        heat = ds.read(1)
    _, levels = _camargue_levels(sentinel1)
    finite = np.isfinite(levels) & np.isfinite(heat)
    assert np.corrcoef(levels[finite], heat[finite])[0, 1] < -0.5  # darker is more likely water
    assert water["score_range"][0] <= float(np.nanmin(heat)) + 1e-4 and water["score_range"][1] >= float(np.nanmax(heat)) - 1e-4


def test_on_calibrated_scenes_levels_far_above_the_calm_sea_count_against_water_and_darkness_proves_nothing(
        sentinel1, tmp_path):
    mean, spread = SEA_DB
    drop = too_bright_for_water(np.array([mean - 10, mean, mean + 2 * spread, np.nan]))
    assert list(drop) == [0.0, 0.0, -2.0, 0.0]
    assert is_calibrated(describe(sentinel1))  # VV in dB
    amplitude = write_raster(tmp_path / "a.tif", np.full((8, 8), 50.0, np.float32))
    assert not is_calibrated(describe(amplitude, value_kind="amplitude"))
    vh = write_raster(tmp_path / "vh.tif", np.full((8, 8), -20.0, np.float32), descriptions=["VH"])
    assert not is_calibrated(describe(vh, value_kind="db"))  # cross-polarised: water and land both darker


def test_a_dry_field_scene_in_db_is_land_even_where_the_model_alone_calls_it_water(tmp_path, rng):
    # a one-mode scene of field-like speckle at -9 dB VV (no dark mode): only the absolute level can tell
    field = (-9.0 + 10 * np.log10(rng.gamma(4.0, 0.25, (256, 256)))).astype(np.float32)
    scene = write_raster(tmp_path / "field.tif", field, descriptions=["VV"])
    summary = classify_labels(scene, "water, land", tmp_path / "l.tif", tmp_path / "c.tif",
                              settings=SceneSettings(index_dir=tmp_path / "i"), quicklook=False)
    assert summary["water_dark_mode"] is None and summary["label_shares"]["land"] > 0.9


def test_the_message_says_what_the_scene_added_to_a_water_map(sentinel1):
    info = describe(sentinel1)
    mode = dark_mode(np.concatenate([np.full(500, -20.0), np.full(500, -8.0)]) + np.random.default_rng(0).normal(0, 1, 1000))
    assert evidence_note(info, mode) == ("water evidence: the scene's dark mode (-20.0 dB, 50% of it); "
                                         "levels far above calm sea count against water")
    assert "no dark mode" in evidence_note(info, None)


def test_vessel_words_are_the_vocabularys_ships_not_its_vehicles():
    assert is_vessel_query(["ship"]) and is_vessel_query(["tanker", "fishing boat"]) and is_vessel_query(["Vessel"])
    assert not is_vessel_query(["T72"]) and not is_vessel_query(["ship", "tank"]) and not is_vessel_query(["water"])


def test_a_vessel_floats_the_water_around_each_place_is_measured_and_a_one_mode_scene_rules_nothing_out(
        tmp_path, rng):
    amplitude = rng.gamma(4.0, 0.25, (256, 256)).astype(np.float32)
    amplitude[:, 128:] *= 30  # left half dark water, right half bright land
    scene = describe(write_raster(tmp_path / "coast.tif", amplitude), value_kind="amplitude")
    shares = scene_levels(scene, OutputGrid.for_scene(scene, 8)).afloat(reach=2)
    assert shares[10, 2] == 1.0 and shares[10, 29] == 0.0 and 0.3 < shares[10, 16] < 0.7  # sea, land, the coast
    sea = describe(write_raster(tmp_path / "sea.tif", rng.gamma(4.0, 0.25, (256, 256)).astype(np.float32)),
                   value_kind="amplitude")
    assert scene_levels(sea, OutputGrid.for_scene(sea, 8)).afloat(reach=2) is None


def test_the_best_vessel_location_prefers_a_ship_at_sea_to_a_brighter_quay():
    candidates = [(5, 5, 0.9), (20, 20, 0.85)]  # the map prefers the quay (first)
    patches = [Scatterer(0, 0, strength=3.0, contrast=9), Scatterer(1, 1, strength=2.5, contrast=9)]
    assert most_likely(candidates, patches) == 0
    assert most_likely(candidates, patches, [0.2, 1.0]) == 1  # the quay has little water around it
    assert most_likely(candidates, patches, [0.0, 0.0]) == 0  # no water anywhere: the weights tell nothing


def test_levels_are_read_once_per_scene_and_grid_and_kept_beside_the_index(sentinel1, tmp_path, monkeypatch):
    import sarclip_core.scene.radiometry as radiometry

    info = describe(sentinel1)
    grid = OutputGrid.for_scene(info, 8)
    first = scene_levels(info, grid, tmp_path)
    [kept] = list(tmp_path.glob("levels-f8-*.npz"))
    monkeypatch.setattr(radiometry, "output_levels", lambda *_: (_ for _ in ()).throw(AssertionError("read again")))
    again = scene_levels(info, grid, tmp_path)
    assert np.array_equal(first.levels, again.levels, equal_nan=True) and again.mode == first.mode
    assert again.calibrated and again.water_evidence().dtype == np.float32
    other = OutputGrid.for_scene(info, 4)  # another grid: its own levels, read from the scene
    monkeypatch.undo()
    assert scene_levels(info, other, tmp_path).levels.shape == (other.height, other.width)
    assert len(list(tmp_path.glob("levels-*.npz"))) == 2 and kept.exists()
    assert scene_levels(info, grid, Path("/sys/no-such-index")).levels.shape == first.levels.shape  # unwritable: fine
    kept.write_bytes(b"not a zip")  # damaged: read from the scene again, and kept anew
    assert np.array_equal(scene_levels(info, grid, tmp_path).levels, first.levels, equal_nan=True)
    assert np.load(kept)["levels"].shape == first.levels.shape
