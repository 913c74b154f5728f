"""SAR values to model input: domains, normalisations, complex folding, channel fitting."""

from __future__ import annotations

import numpy as np
import pytest

from sarclip_core.errors import SarclipError
from sarclip_core.io import (
    Normalisation,
    ValueKind,
    complex_to_amplitude,
    fit_channels,
    to_domain,
    to_model_input,
)


def test_every_kind_of_the_same_signal_gives_the_same_decibels(speckle):
    amplitude = np.abs(speckle)
    db = 20 * np.log10(amplitude)
    iq = np.concatenate([speckle.real, speckle.imag])
    for data, kind in [(amplitude, ValueKind.AMPLITUDE), (amplitude ** 2, ValueKind.INTENSITY),
                       (db, ValueKind.DB), (speckle, ValueKind.COMPLEX), (iq, ValueKind.IQ)]:
        np.testing.assert_allclose(to_domain(data, kind, "db"), db, rtol=1e-4, atol=1e-3, err_msg=kind.value)
        np.testing.assert_allclose(to_domain(data, kind, "linear"), amplitude, rtol=1e-4, err_msg=kind.value)


def test_floats_are_never_divided_by_255():
    data = np.array([[[0.5, 200.0, 1000.0]]], dtype=np.float32)
    np.testing.assert_array_equal(to_domain(data, ValueKind.AMPLITUDE, "linear"), data)
    np.testing.assert_allclose(to_domain(np.array([[[255]]], np.uint8), ValueKind.DN8, "linear"), 1.0)


def test_zeros_stay_finite_in_db():
    assert np.isfinite(to_domain(np.zeros((1, 2, 2), np.float32), ValueKind.INTENSITY, "db")).all()


def test_iq_needs_pairs():
    with pytest.raises(SarclipError, match="even number"):
        complex_to_amplitude(np.zeros((3, 2, 2), np.float32), ValueKind.IQ)


def test_standardise_is_gain_invariant_and_ignores_invalid(speckle):
    amplitude = np.abs(speckle).astype(np.float32)
    valid = np.ones(amplitude.shape[1:], bool)
    valid[:10] = False
    norm = Normalisation()
    a = to_model_input(amplitude, valid, ValueKind.AMPLITUDE, norm)
    b = to_model_input(amplitude * 7.5, valid, ValueKind.AMPLITUDE, norm)  # a calibration gain
    np.testing.assert_allclose(a, b, atol=1e-4)
    inside = a[0][valid]
    assert abs(inside.mean()) < 0.05 and 0.9 < inside.std() < 1.05
    assert not a[0, :10].any()


def test_range_and_percentile_scale_to_unit_interval():
    db = np.linspace(-40, 20, 61, dtype=np.float32).reshape(1, 1, 61)
    valid = np.ones((1, 61), bool)
    out = to_model_input(db, valid, ValueKind.DB, Normalisation(method="range", low=-25, high=5))
    assert out.min() == 0 and out.max() == 1 and out[0, 0, 30] == pytest.approx(15 / 30)
    out = to_model_input(db, valid, ValueKind.DB, Normalisation(method="percentile", low=2, high=98))
    assert out.min() == 0 and out.max() == 1


def test_all_invalid_gives_zeros():
    out = to_model_input(np.ones((1, 4, 4), np.float32), np.zeros((4, 4), bool), ValueKind.AMPLITUDE, Normalisation())
    assert not out.any()


@pytest.mark.parametrize("kwargs, match", [({"domain": "log"}, "domain"), ({"method": "minmax"}, "method"),
                                           ({"method": "range"}, "low < high"),
                                           ({"method": "range", "low": 5, "high": -25}, "low < high")])
def test_bad_normalisation(kwargs, match):
    with pytest.raises(SarclipError, match=match):
        Normalisation(**kwargs)


def test_normalisation_round_trips_through_a_dict():
    norm = Normalisation(domain="linear", method="range", low=0, high=300)
    assert Normalisation.from_dict(norm.to_dict()) == norm
    with pytest.raises(SarclipError, match="unknown"):
        Normalisation.from_dict({"domian": "db"})


def test_fit_channels():
    x = np.stack([np.full((2, 2), 1.0), np.full((2, 2), 3.0)])
    assert fit_channels(x, 2) is x
    np.testing.assert_array_equal(fit_channels(x, 1), np.full((1, 2, 2), 2.0))
    np.testing.assert_array_equal(fit_channels(x, 3)[2], np.full((2, 2), 2.0))
    assert fit_channels(x[:1], 3).shape == (3, 2, 2)
    with pytest.raises(SarclipError, match="cannot map"):
        fit_channels(x, 4)
