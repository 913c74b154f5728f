"""Window crops: whole vs cut objects, background windows, pixel-exact crops, masks and seeds."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import numpy as np
import pytest
import rasterio
from PIL import Image

from sarclip_core.d2c.__main__ import main
from sarclip_core.d2c.boxes import Box, ImageRecord
from sarclip_core.d2c.captions import Captioner
from sarclip_core.d2c.validate import Problems
from sarclip_core.d2c.vocabulary import load_vocabulary
from sarclip_core.d2c.windows import WindowSettings, cut_windows, window_box

DATA = Path(__file__).resolve().parents[2] / "shared" / "data"


def test_window_box_whole_cut_and_ignored() -> None:
    whole = window_box(Box("ship", 50, 50, 70, 60), 0, 0, 128, 1)
    assert not whole.cut and (whole.xmin, whole.xmax) == (50, 70)
    cut = window_box(Box("ship", 110, 10, 140, 30), 0, 0, 128, 1)  # 18 of 30 px inside
    assert cut.cut and (cut.xmin, cut.xmax, cut.ymax) == (110, 128, 30)
    assert window_box(Box("ship", 120, 10, 150, 30), 0, 0, 128, 1) is None  # 8 of 30 px inside
    scaled = window_box(Box("ship", 100, 100, 120, 140), 50, 50, 256, 2)
    assert (scaled.xmin, scaled.ymin, scaled.xmax, scaled.ymax) == (25, 25, 35, 45) and not scaled.cut


def test_cut_objects_are_parts_not_counts() -> None:
    record = ImageRecord("w.png", 128, 128, [Box("ship", 40, 40, 60, 50), Box("ship", 0, 70, 12, 80, cut=True)],
                         {"background": "open sea", "land_share": 0.0})
    assert record.counts() == {"ship": 1}
    texts = [c.lower() for seed in range(8) for c in Captioner(load_vocabulary(), seed).captions(record, 8)]
    assert any("part of a" in t and "left edge" in t for t in texts)
    assert not any(re.search(r"\b(two|2) (ships|vessels|boats)", t) for t in texts)
    only_cut = ImageRecord("c.png", 128, 128, [Box("ship", 100, 0, 128, 20, cut=True)], {"background": "open sea"})
    texts = [c.lower() for c in Captioner(load_vocabulary(), 0).captions(only_cut, 8)]
    assert any("upper-right corner" in t for t in texts)
    assert not any(re.search(r"\bno (ships|vessels|boats)|without any", t) for t in texts)


def sea_scene(tmp_path: Path) -> ImageRecord:
    """A 300x300 grey scene, land in the left 60 columns, two ships at sea and one at the quay."""
    pixels = np.random.default_rng(1).integers(0, 255, (300, 300), dtype=np.uint8)
    Image.fromarray(pixels).save(tmp_path / "scene.png")
    mask = np.full((300, 300), 255, np.uint8)
    mask[:, :60] = 0
    Image.fromarray(mask).save(tmp_path / "scene_mask.png")
    boxes = [Box("ship", 200, 200, 230, 212, attributes={"setting": "open sea"}),
             Box("ship", 250, 40, 262, 70, attributes={"setting": "open sea"}),
             Box("ship", 60, 100, 70, 140, attributes={"setting": "at a quay"})]
    return ImageRecord(str(tmp_path / "scene.png"), 300, 300, boxes,
                       {"mask_kind": "sealand", "mask": str(tmp_path / "scene_mask.png")})


def test_crops_equal_source_pixels_and_masks_give_shares(tmp_path: Path) -> None:
    record = sea_scene(tmp_path)
    source = np.asarray(Image.open(record.filepath))
    mask = np.asarray(Image.open(record.context["mask"]))
    settings = WindowSettings(per_image=12, size=64, scales=(1, 2), object_share=0.5)
    windows = list(cut_windows([record], settings, tmp_path / "out", 3, Problems()))
    assert len(windows) == 12 and {w.context["scale"] for w in windows} == {1, 2}
    for window in windows:
        col, row, foot, _ = window.context["window"]
        crop = np.asarray(Image.open(window.filepath))
        assert crop.shape == (64, 64)
        if window.context["scale"] == 1:
            assert np.array_equal(crop, source[row:row + 64, col:col + 64])
        land = (mask[row:row + foot, col:col + foot] == 0).mean()
        assert window.context["land_share"] == pytest.approx(land, abs=1e-4)
        assert np.asarray(Image.open(window.context["mask"])).shape == (64, 64)
        for box in window.boxes:
            assert 0 <= box.xmin < box.xmax <= 64 and 0 <= box.ymin < box.ymax <= 64
    assert any(not w.boxes for w in windows) and any(w.counts() for w in windows)


def test_background_windows_are_captioned_as_sea(tmp_path: Path) -> None:
    record = sea_scene(tmp_path)
    record.boxes = []
    settings = WindowSettings(per_image=6, size=64, scales=(1,), object_share=0.0)
    captioner = Captioner(load_vocabulary(), 0)
    for window in cut_windows([record], settings, tmp_path / "out", 0, Problems()):
        captions = " | ".join(captioner.captions(window, 8)).lower()
        expected = {"open sea": "no (ships|vessels|boats)", "coastline": "no (ships|vessels|boats)",
                    "land": "no (ships|vessels|boats)"}[window.context["background"]]
        assert re.search(expected, captions), captions


def run_windows(tmp_path: Path, out: str, seed: int) -> tuple[bytes, dict[str, bytes]]:
    args = ["--format", "yolo", "--annotations", str(tmp_path / "labels"), "--images", str(tmp_path / "images"),
            "--classes", "0=ship", "--sealand", str(tmp_path / "sealand"), "--windows", "4", "--window-size", "96",
            "--seed", str(seed), "--out-images", str(tmp_path / out), "--out", str(tmp_path / out / "c.csv"),
            "--jsonl", str(tmp_path / out / "r.jsonl")]
    assert main(args) == 0
    files = {p.name: p.read_bytes() for p in sorted((tmp_path / out).iterdir()) if p.suffix == ".png"}
    return (tmp_path / out / "r.jsonl").read_bytes(), files


def test_real_ssdd_windows_are_seeded(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    ssdd = DATA / "ssdd"
    if not ssdd.is_dir():
        pytest.skip(f"real data missing: {ssdd}")
    for folder, suffix in (("images", ".jpg"), ("labels", ".txt"), ("sealand", ".png")):
        (tmp_path / folder).mkdir()
        for name in ("000002", "000014", "000027"):
            shutil.copy(ssdd / folder / (name + suffix), tmp_path / folder)
    first, first_files = run_windows(tmp_path, "a", 5)
    shutil.rmtree(tmp_path / "a")
    again, again_files = run_windows(tmp_path, "a", 5)
    assert first == again and first_files == again_files
    other, _ = run_windows(tmp_path, "b", 6)
    records = [json.loads(line) for line in first.decode().splitlines()]
    assert len(records) == 12
    assert [r["context"]["window"] for r in records] != [json.loads(x)["context"]["window"] for x in other.decode().splitlines()]
    for record in records:
        assert record["context"]["source"].endswith(".jpg") and Path(record["context"]["mask"]).exists()
        assert record["counts"].get("ship", 0) == sum(1 for b in record["boxes"] if not b.get("cut"))


def test_real_flood_chip_windows_keep_db_and_georeference(tmp_path: Path) -> None:
    chip, labels = DATA / "sen1floods11" / "S1" / "Nigeria_812045_S1Hand.tif", \
        DATA / "sen1floods11" / "Labels" / "Nigeria_812045_LabelHand.tif"
    if not chip.exists():
        pytest.skip(f"real data missing: {chip}")
    assert main(["--format", "floods", "--images", str(chip.parent), "--annotations", str(labels.parent),
                 "--windows", "2", "--window-scales", "1", "--out-images", str(tmp_path / "w"),
                 "--out", str(tmp_path / "c.csv"), "--jsonl", str(tmp_path / "r.jsonl")]) == 0
    records = [json.loads(line) for line in (tmp_path / "r.jsonl").read_text().splitlines()]
    nigeria = [r for r in records if "Nigeria" in r["filepath"]]
    assert len(nigeria) == 2
    for record in nigeria:
        col, row, size, _ = record["context"]["window"]
        with rasterio.open(record["filepath"]) as crop, rasterio.open(chip) as src:
            window = rasterio.windows.Window(col, row, size, size)
            assert crop.dtypes[0] == "float32" and crop.crs == src.crs
            assert crop.transform == src.window_transform(window)
            assert np.array_equal(crop.read(), src.read(window=window), equal_nan=True)
        with rasterio.open(record["context"]["mask"]) as mask, rasterio.open(labels) as truth:
            expected = truth.read(1, window=rasterio.windows.Window(col, row, size, size))
            assert np.array_equal(mask.read(1), expected)
        valid = expected != -1
        assert record["context"]["water_share"] == pytest.approx((expected[valid] == 1).mean(), abs=1e-4)
        assert any("% water" in c or "no water" in c for c in record["captions"])
