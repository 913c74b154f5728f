"""Opening and describing rasters: value kinds, polarisations, georeferencing, bad files."""

from __future__ import annotations

import numpy as np
import pytest
import rasterio

from raster_helpers import write_raster
from sarclip_core.errors import RasterError
from sarclip_core.io import ValueKind, describe
from sarclip_core.io.raster import NoCrsWarning


@pytest.mark.parametrize("name, make, kind", [
    ("dn8.tif", lambda s: np.clip(np.abs(s), 0, 255).astype(np.uint8), ValueKind.DN8),
    ("dn16.tif", lambda s: (np.abs(s) * 20).astype(np.uint16), ValueKind.DN16),
    ("scene.tif", lambda s: np.abs(s).astype(np.float32), ValueKind.AMPLITUDE),
    ("scene.tif", lambda s: (np.abs(s) ** 2).astype(np.float32), ValueKind.INTENSITY),
    ("scene.tif", lambda s: (10 * np.log10(np.abs(s) ** 2 / 1e4)).astype(np.float32), ValueKind.DB),
    ("slc.tif", lambda s: s.astype(np.complex64), ValueKind.COMPLEX),
    ("iq.tif", lambda s: np.concatenate([s.real, s.imag]).astype(np.int16), ValueKind.IQ),
    ("iq.tif", lambda s: np.concatenate([s.real, s.imag]).astype(np.float32), ValueKind.IQ),
])
def test_value_kind_is_detected_from_the_values(tmp_path, speckle, name, make, kind):
    path = write_raster(tmp_path / name, make(speckle))
    assert describe(path).value_kind is kind


def test_complex_int16_is_complex(tmp_path, speckle):
    path = write_raster(tmp_path / "cint16.tif", speckle, dtype="complex_int16")
    info = describe(path)
    assert info.value_kind is ValueKind.COMPLEX and info.dtype == "complex_int16"


@pytest.mark.parametrize("name, kind", [("x_sigma0.tif", ValueKind.INTENSITY), ("x_amp.tif", ValueKind.AMPLITUDE),
                                        ("x_dB.tif", ValueKind.DB)])
def test_names_override_statistics(tmp_path, speckle, name, kind):
    path = write_raster(tmp_path / name, np.abs(speckle).astype(np.float32) + 1)
    assert describe(path).value_kind is kind


def test_caller_overrides_detection(tmp_path, speckle):
    path = write_raster(tmp_path / "scene.tif", np.abs(speckle).astype(np.float32))
    assert describe(path, value_kind="intensity").value_kind is ValueKind.INTENSITY


def test_dual_pol_from_band_descriptions_and_names(tmp_path, speckle):
    amp = np.abs(np.concatenate([speckle, speckle * 0.3])).astype(np.float32)
    info = describe(write_raster(tmp_path / "a.tif", amp, descriptions=["Sigma0_VV", "Sigma0_VH"]))
    assert info.polarisations == ("VV", "VH") and info.channels == 2
    assert describe(write_raster(tmp_path / "s1_vh_vv.tif", amp)).polarisations == ("VH", "VV")
    iq = np.concatenate([speckle.real, speckle.imag, speckle.real, speckle.imag]).astype(np.float32)
    info = describe(write_raster(tmp_path / "slc_HH_HV.tif", iq))
    assert info.value_kind is ValueKind.IQ and info.channels == 2 and info.polarisations == ("HH", "HV")


def test_real_sentinel1_scene(sentinel1):
    info = describe(sentinel1)
    assert (info.width, info.height, info.count) == (268, 217, 1)
    assert info.value_kind is ValueKind.DB and info.polarisations == ("VV",)
    assert info.georeferenced and "32631" in info.summary() and info.nodata == -99
    assert info.pixel_size == pytest.approx((20.0, 20.0))


def test_no_crs_still_describes_with_a_warning(tmp_path, speckle):
    with pytest.warns(NoCrsWarning, match=r"chip.tif: has no CRS; outputs use pixel coordinates as QGIS draws"):
        info = describe(write_raster(tmp_path / "chip.tif", np.abs(speckle).astype(np.float32), crs=None))
    assert not info.georeferenced and info.pixel_size == (1.0, 1.0)
    assert info.transform == (1.0, 0.0, 0.0, 0.0, -1.0, 0.0)  # QGIS's frame for an image without a geotransform


def test_missing_file(tmp_path):
    with pytest.raises(RasterError, match="nothere.tif: file not found"):
        describe(tmp_path / "nothere.tif")


def test_folder_is_not_a_raster(tmp_path):
    with pytest.raises(RasterError, match="is a folder"):
        describe(tmp_path)


@pytest.mark.parametrize("name, text, match", [
    ("notes.tif", "hello", "notes.tif: not a readable raster"),
    ("empty.vrt", '<VRTDataset rasterXSize="10" rasterYSize="10"></VRTDataset>', "empty.vrt: .*bands"),
])
def test_text_that_is_not_a_usable_raster(tmp_path, name, text, match):
    path = tmp_path / name
    path.write_text(text)
    with pytest.raises(RasterError, match=match):
        describe(path)


def test_truncated_tiff(tmp_path, rng):
    path = write_raster(tmp_path / "full.tif", rng.random((1, 300, 300)).astype(np.float32))
    data = path.read_bytes()
    cut = tmp_path / "cut.tif"
    cut.write_bytes(data[: len(data) // 2])
    with pytest.raises(RasterError, match="cut.tif: .*(truncated|corrupt|not a readable)"):
        describe(cut)


def test_a_file_s_value_kind_is_detected_once_per_process_and_again_when_it_changes(tmp_path, speckle, monkeypatch):
    import sarclip_core.io.raster as raster

    path = write_raster(tmp_path / "scene.tif", (np.abs(speckle) ** 2).astype(np.float32))
    assert describe(path).value_kind is ValueKind.INTENSITY
    monkeypatch.setattr(raster, "sample", lambda *_: (_ for _ in ()).throw(AssertionError("sampled again")))
    assert describe(path).value_kind is ValueKind.INTENSITY  # remembered: no second read of the statistics
    monkeypatch.undo()
    write_raster(path, (10 * np.log10(np.abs(speckle) ** 2 / 1e4)).astype(np.float32))  # rewritten: now dB
    assert describe(path).value_kind is ValueKind.DB


@pytest.mark.parametrize("make, kind", [
    (lambda s: np.abs(s), ValueKind.AMPLITUDE),
    (lambda s: np.abs(s) ** 2, ValueKind.INTENSITY),
    (lambda s: 10 * np.log10(np.abs(s) ** 2 / 1e4), ValueKind.DB),
])
def test_a_large_scene_s_value_kind_comes_from_windows_spread_over_it(tmp_path, rng, make, kind):
    """Above 512 x 512 px the statistics read a grid of small windows, not the whole scene; no data is left out
    (here the left third, whose -99 would read as dB if it were counted)."""
    from sarclip_core.io.raster import sample

    speckle = (rng.normal(size=(1, 900, 1500)) + 1j * rng.normal(size=(1, 900, 1500))) * 30
    values = make(speckle).astype(np.float32)
    values[:, :, :500] = -99
    path = write_raster(tmp_path / "scene.tif", values, nodata=-99)
    assert describe(path).value_kind is kind
    with rasterio.open(path) as ds:
        taken = sample(ds)
    assert taken.shape == (1, 16 * 16 * 32 * 32) and taken.count() == pytest.approx(taken.size * 2 / 3, rel=0.1)
