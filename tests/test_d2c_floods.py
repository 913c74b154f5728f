"""Sen1Floods11 water masks -> water share and pattern (open water, river, flooded fields, dry land) -> captions."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import numpy as np
import pytest

from sarclip_core.d2c.__main__ import main
from sarclip_core.d2c.boxes import ImageRecord
from sarclip_core.d2c.captions import Captioner
from sarclip_core.d2c.floods import describe_water
from sarclip_core.d2c.vocabulary import load_vocabulary

FLOODS = Path(__file__).resolve().parents[2] / "shared" / "data" / "sen1floods11"


def captions_of(context: dict) -> list[str]:
    record = ImageRecord("chip.tif", 100, 100, [], context)
    return [c.lower() for seed in range(3) for c in Captioner(load_vocabulary(), seed).captions(record, 8)]


def test_all_water_and_no_water() -> None:
    water = describe_water(np.ones((100, 100), np.int16))
    assert water["background"] == "open water" and water["water_share"] == 1.0
    dry = describe_water(np.zeros((100, 100), np.int16))
    assert dry["background"] == "dry land" and dry["water_share"] == 0.0
    assert any("no water" in c for c in captions_of(dry))
    assert not any("no water" in c for c in captions_of(water))


def test_no_data_counts_neither_way() -> None:
    labels = np.full((100, 100), -1, np.int16)
    labels[:, :25] = 1
    labels[:, 25:50] = 0
    context = describe_water(labels)
    assert context["water_share"] == 0.5 and context["labelled_share"] == 0.5
    assert any("about 50% water" in c for c in captions_of(context))


def test_stripe_is_a_river_and_scattered_ponds_are_fields() -> None:
    stripe = np.zeros((100, 100), np.int16)
    stripe[45:52, :] = 1
    river = describe_water(stripe)
    assert river["background"] == "river" and river["water_parts"] == 1
    assert any(re.search(r"\b(river|stream|waterway)\b", c) and "% water" in c for c in captions_of(river))
    fields = np.zeros((100, 100), np.int16)
    for row in range(5, 95, 20):
        for col in range(5, 95, 20):
            fields[row:row + 8, col:col + 8] = 1
    scattered = describe_water(fields)
    assert scattered["background"] == "flooded fields" and scattered["water_parts"] == 25
    blob = np.zeros((100, 100), np.int16)
    blob[30:60, 30:60] = 1  # one round-ish pond: not long, not many parts
    assert describe_water(blob)["background"] == "water patches"


def test_cli_on_real_chips(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    if not FLOODS.is_dir():
        pytest.skip(f"real data missing: {FLOODS}")
    for chip in ("Sri-Lanka_534068", "Ghana_53713", "Ghana_83483"):
        for folder, suffix in (("S1", "_S1Hand.tif"), ("Labels", "_LabelHand.tif")):
            (tmp_path / folder).mkdir(exist_ok=True)
            shutil.copy(FLOODS / folder / (chip + suffix), tmp_path / folder)
    assert main(["--format", "floods", "--images", str(tmp_path / "S1"), "--annotations", str(tmp_path / "Labels"),
                 "--out", str(tmp_path / "c.csv"), "--jsonl", str(tmp_path / "r.jsonl")]) == 0
    out = capsys.readouterr().out
    assert "images: 2" in out and "Ghana_83483_LabelHand.tif: only 0% of the chip is labelled" in out
    ghana, sri_lanka = (json.loads(line) for line in (tmp_path / "r.jsonl").read_text().splitlines())
    assert sri_lanka["context"]["background"] == "open water" and sri_lanka["context"]["water_share"] > 0.9
    assert ghana["context"]["background"] == "dry land" and ghana["context"]["water_share"] == 0.0
    assert ghana["context"]["mask"].endswith("Ghana_53713_LabelHand.tif")
    assert all("no water" not in c.lower() for c in sri_lanka["captions"])
    assert len(set(sri_lanka["captions"])) == 5


def test_missing_label_folder_is_one_line_error(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    (tmp_path / "S1").mkdir()
    assert main(["--format", "floods", "--images", str(tmp_path / "S1"), "--out", str(tmp_path / "c.csv")]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: --annotations") and err.count("\n") == 1
