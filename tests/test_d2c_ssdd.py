"""SSDD with its sea/land masks: each ship's setting from the land around it, the image's background, captions."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from d2c_helpers import check_caption, write_image
from sarclip_core.d2c.__main__ import main
from sarclip_core.d2c.boxes import Box, ImageRecord
from sarclip_core.d2c.captions import Captioner
from sarclip_core.d2c.sealand import sea_background, ship_setting, with_sealand
from sarclip_core.d2c.validate import Problems
from sarclip_core.d2c.vocabulary import load_vocabulary

SSDD = Path(__file__).resolve().parents[2] / "shared" / "data" / "ssdd"
NO_SHIPS = re.compile(r"\bno (ships|vessels|boats)\b|without any (ships|vessels|boats)")


def land_left(width: int = 100, height: int = 100, columns: int = 30) -> np.ndarray:
    """A sea/land mask (255 sea, 0 land) with land in the left columns."""
    mask = np.full((height, width), 255, np.uint8)
    mask[:, :columns] = 0
    return mask


def test_setting_from_land_around_the_box() -> None:
    land = land_left() == 0
    assert ship_setting(Box("ship", 30, 40, 40, 50), land) == "at a quay"  # touches the land at column 30
    assert ship_setting(Box("ship", 40, 40, 50, 50), land) == "near the coast"  # land 10 px away, box side 10
    assert ship_setting(Box("ship", 80, 80, 90, 90), land) == "open sea"
    harbour = np.ones((100, 100), bool)
    harbour[30:70, 30:70] = False  # a basin of water with land all around
    assert ship_setting(Box("ship", 45, 45, 55, 55), harbour) == "in port"


def test_background_from_land_share_and_settings() -> None:
    assert sea_background(0.0, ["at a quay"]) == "open sea"
    assert sea_background(0.2, ["open sea", "at a quay"]) == "harbour"
    assert sea_background(0.2, ["near the coast"]) == "coastline"
    assert sea_background(0.9, []) == "land"


def test_with_sealand_keeps_truth_and_reports_missing_masks(tmp_path: Path) -> None:
    Image.fromarray(land_left()).save(tmp_path / "a.png")
    records = [ImageRecord("img/a.jpg", 100, 100, [Box("ship", 30, 40, 40, 50), Box("ship", 80, 80, 90, 90)]),
               ImageRecord("img/b.jpg", 100, 100, [])]
    problems = Problems()
    a, b = with_sealand(records, tmp_path, problems)
    assert [box.attributes["setting"] for box in a.boxes] == ["at a quay", "open sea"]
    assert a.context["land_share"] == pytest.approx(0.3) and a.context["background"] == "harbour"
    assert "background" not in b.context and "b.jpg" in problems.items[0]


def test_captions_say_counts_settings_and_empty_sea() -> None:
    vocab = load_vocabulary()
    quay = ImageRecord("q.png", 100, 100, [Box("ship", 30, 10, 40, 20, attributes={"setting": "at a quay"}),
                                           Box("ship", 30, 60, 40, 70, attributes={"setting": "at a quay"})],
                       {"background": "harbour", "land_share": 0.3})
    texts = [c.lower() for seed in range(10) for c in Captioner(vocab, seed).captions(quay, 8)]
    assert any(re.search(r"\b(two|2) (ships|vessels|boats|unclassified ships) (moored|berthed)", t) for t in texts)
    assert any(re.search(r"\b(a harbour|a port|a harbor|a seaport|a dock area) with (two|2) ", t) for t in texts)
    truth = {"counts": quay.counts(), "boxes": [b.to_dict() for b in quay.boxes]}
    assert all(check_caption(t, truth, vocab) == [] for t in texts)
    empty = ImageRecord("e.png", 100, 100, [], {"background": "open sea", "land_share": 0.0})
    captions = [c.lower() for c in Captioner(vocab, 0).captions(empty, 8)]
    assert any(NO_SHIPS.search(c) for c in captions)
    assert not any(re.search(r"\b(one|two|a) (ship|vessel|boat)", c) for c in captions)


def ssdd_subset(tmp_path: Path, names: list[str]) -> Path:
    for folder, suffix in (("images", ".jpg"), ("labels", ".txt"), ("sealand", ".png")):
        (tmp_path / folder).mkdir()
        for name in names:
            if (SSDD / folder / (name + suffix)).exists():
                shutil.copy(SSDD / folder / (name + suffix), tmp_path / folder)
    return tmp_path


def test_cli_on_real_ssdd_with_sealand(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    if not SSDD.is_dir():
        pytest.skip(f"real data missing: {SSDD}")
    names = ["000002", "000003", "000004", "000014", "000015", "000018", "000027", "000038"]
    root = ssdd_subset(tmp_path, names)
    args = ["--format", "yolo", "--annotations", str(root / "labels"), "--images", str(root / "images"),
            "--classes", "0=ship", "--sealand", str(root / "sealand"), "--out", str(tmp_path / "c.csv"),
            "--jsonl", str(tmp_path / "r.jsonl")]
    assert main(args) == 0
    assert "problems: 0" in capsys.readouterr().out
    records = [json.loads(line) for line in (tmp_path / "r.jsonl").read_text().splitlines()]
    assert len(records) == 8
    vocab = load_vocabulary()
    for record in records:
        assert 0.0 <= record["context"]["land_share"] <= 1.0 and record["context"]["background"]
        assert all(box["attributes"]["setting"] for box in record["boxes"])
        for caption in record["captions"]:
            assert check_caption(caption, record, vocab) == [] and not NO_SHIPS.search(caption.lower()), caption
    backgrounds = {r["context"]["background"] for r in records}
    assert {"open sea", "harbour", "coastline"} <= backgrounds
    settings = {b["attributes"]["setting"] for r in records for b in r["boxes"]}
    assert {"open sea", "at a quay"} <= settings


def test_missing_sealand_folder_is_one_line_error(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    write_image(tmp_path / "img" / "a.png")
    (tmp_path / "lab").mkdir()
    assert main(["--format", "yolo", "--annotations", str(tmp_path / "lab"), "--images", str(tmp_path / "img"),
                 "--sealand", str(tmp_path / "nope"), "--out", str(tmp_path / "c.csv")]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and "nope" in err and err.count("\n") == 1
