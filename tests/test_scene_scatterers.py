"""Peaks confirmed by the radar return: snapped onto the target, dropped over plain clutter, merged on one target."""

from __future__ import annotations

from sarclip_core.io import OutputGrid, describe
from sarclip_core.scene.scatterers import (
    MIN_CONTRAST,
    Footprint,
    confirmed,
    find_scatterers,
    most_likely,
)
from scene_helpers import speckle_scene

CELL = 32.0


def _scatterers(tmp_path, peaks):
    info = describe(speckle_scene(tmp_path / "s.tif", [(200, 140)], size=384))
    return info, find_scatterers(info, OutputGrid.for_scene(info, 1), peaks, CELL)


def test_a_peak_near_a_target_moves_onto_it_and_stands_out_of_its_clutter(tmp_path):
    target_cell, clutter_cell = (130, 190, 0.9), (300, 60, 0.9)  # (row, col, value); the target spans 200..212
    info, (on_target, on_clutter) = _scatterers(tmp_path, [target_cell, clutter_cell])
    col, row = ~info.affine * (on_target.x, on_target.y)
    assert 200 <= col <= 212 and 140 <= row <= 152
    assert on_target.contrast > 3 * MIN_CONTRAST and on_clutter.contrast < MIN_CONTRAST
    kept = confirmed([target_cell, clutter_cell], [on_target, on_clutter], Footprint.for_cell(CELL).merge,
                     info.pixel_size)
    assert [peak for peak, _ in kept] == [target_cell]


def test_two_peaks_on_one_target_are_one_object_the_stronger_kept(tmp_path):
    weaker, stronger = (150, 220, 0.7), (130, 190, 0.9)  # both within three quarters of a cell of the target
    info, found = _scatterers(tmp_path, [weaker, stronger])
    kept = confirmed([weaker, stronger], found, Footprint.for_cell(CELL).merge, info.pixel_size)
    assert [peak for peak, _ in kept] == [stronger]


def test_the_best_location_is_where_map_and_radar_return_agree_not_the_map_maximum(tmp_path):
    candidates = [(300, 60, 0.95), (130, 190, 0.8)]  # the map's maximum lies on plain clutter
    _, found = _scatterers(tmp_path, candidates)
    assert most_likely(candidates, found) == 1


def test_the_footprint_follows_the_scene_cell():
    assert Footprint.for_cell(32) == Footprint(patch=9, snap=24, guard=16, ring=32, merge=8.0)
    small = Footprint.for_cell(4)
    assert small.patch % 2 == 1 and small.reach == small.snap + small.guard + small.ring + small.patch // 2
