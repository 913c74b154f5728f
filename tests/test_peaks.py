"""Peaks of a blended map: one point per flat top at its centre, found once across chunk borders."""

from __future__ import annotations

import numpy as np
from scipy import ndimage

from sarclip_core.scene.peaks import find_peaks


def test_flat_tops_give_one_peak_at_their_centre_as_scipy_centre_of_mass_does():
    rng = np.random.default_rng(3)
    values = np.round(rng.random((120, 150)) * 6) / 6  # coarse levels: many flat tops of several pixels
    values[10:14, 20:30] = np.nan
    found = find_peaks(values, 2, 0.5)
    filled = np.where(np.isfinite(values), values, -np.inf)
    tops = (filled == ndimage.maximum_filter(filled, size=5, mode="constant", cval=-np.inf)) & (filled >= 0.5)
    labels, count = ndimage.label(tops, structure=np.ones((3, 3)))
    expected = np.rint(ndimage.center_of_mass(tops, labels, range(1, count + 1))).astype(int)
    assert count > 50 and any(np.bincount(labels.ravel())[1:] > 1) and len(found) == count
    for label, (r, c, v), (er, ec) in zip(range(1, count + 1), found, expected):
        assert labels[r, c] == label and v == values[r, c] >= 0.5  # each top's peak lies on that top
        if labels[er, ec] == label:
            assert (r, c) == (er, ec)  # at the centre of mass, where that lies on the top


def test_a_ring_shaped_top_gives_its_peak_on_the_ring_not_in_the_hole():
    values = np.zeros((21, 21))
    values[6:15, 6:15] = 1.0
    values[8:13, 8:13] = np.nan  # a hole of no data inside a flat ring: the ring's centre of mass is in the hole
    [(r, c, v)] = find_peaks(values, 3, 0.5)
    assert v == 1.0 and (6 <= r < 15 and 6 <= c < 15) and not (8 <= r < 13 and 8 <= c < 13)


def test_a_peak_on_a_chunk_border_is_found_once():
    values = np.zeros((40, 40))
    values[19, 20] = 1.0
    halo = 3
    top = find_peaks(values[:20 + halo], halo, 0.5, (0, 20, 0, 40))
    bottom = find_peaks(values[20 - halo:], halo, 0.5, (halo, 20 + halo, 0, 40))
    assert [(r, c) for r, c, _ in top] == [(19, 20)] and bottom == []


def test_no_peak_below_the_threshold_or_on_no_data():
    values = np.full((30, 30), np.nan)
    assert find_peaks(values, 2, -np.inf) == []
    values[5:10, 5:10] = 0.2
    assert find_peaks(values, 2, 0.5) == []
    assert [(r, c) for r, c, _ in find_peaks(values, 2, 0.1)] == [(7, 7)]
