"""Captions agree with the boxes (parsed back from the JSONL truth), vary, and are deterministic per seed."""

from __future__ import annotations

import json
import random
from pathlib import Path

import pytest

from d2c_helpers import check_caption, write_image
from sarclip_core.d2c.__main__ import main
from sarclip_core.d2c.boxes import Box, ImageRecord
from sarclip_core.d2c.captions import Captioner
from sarclip_core.d2c.vocabulary import load_vocabulary

MSTAR = ["2S1", "BMP2", "BRDM2", "BTR60", "BTR70", "D7", "T62", "T72", "ZIL131", "ZSU234"]
SHIPS = ["ship", "Cargo", "Tanker", "Other Type", "Tug", "Passenger"]


def random_record(rng: random.Random, index: int) -> ImageRecord:
    labels = rng.sample(rng.choice([MSTAR, SHIPS]), rng.randint(1, 3))
    boxes = []
    for _ in range(rng.choice([0, 1, 2, 3, 5, 12])):
        x, y = rng.uniform(0, 230), rng.uniform(0, 230)
        boxes.append(Box(rng.choice(labels), x, y, x + rng.uniform(3, 25), y + rng.uniform(3, 25)))
    context = rng.choice([{}, {"band": "X", "resolution_m": 0.3, "depression_deg": 17.0}])
    return ImageRecord(f"scene_{index}.png", 256, 256, boxes, context)


def as_truth(record: ImageRecord) -> dict:
    return {"counts": record.counts(), "boxes": [b.to_dict() for b in record.boxes]}


def test_captions_agree_with_boxes_and_vary() -> None:
    vocab, rng = load_vocabulary(), random.Random(1)
    captioner = Captioner(vocab, seed=3)
    for index in range(300):
        record = random_record(rng, index)
        captions = captioner.captions(record, 6)
        for caption in captions:
            assert check_caption(caption, as_truth(record), vocab) == [], (caption, record.counts())
        if len(record.boxes) >= 2:
            assert len(set(captions)) >= 5, captions


def test_empty_scene_sentence() -> None:
    captions = Captioner(load_vocabulary()).captions(ImageRecord("e.png", 64, 64, []), 3)
    assert len(set(captions)) == 3 and all(("no " in c.lower() or "clutter" in c.lower()) for c in captions)


def test_same_seed_same_captions_other_seed_differs() -> None:
    record = ImageRecord("x.png", 256, 256, [Box("T72", 10, 10, 40, 30), Box("BMP2", 200, 180, 230, 210)])
    vocab = load_vocabulary()
    assert Captioner(vocab, 0).captions(record, 5) == Captioner(vocab, 0).captions(record, 5)
    assert Captioner(vocab, 0).captions(record, 5) != Captioner(vocab, 1).captions(record, 5)


def test_shared_words_never_miscount() -> None:
    """T62 and T72 are both "tanks": a caption must not call two different tanks "one tank"."""
    record = ImageRecord("t.png", 100, 100, [Box("T62", 0, 0, 10, 10), Box("T72", 50, 50, 60, 60)])
    vocab = load_vocabulary()
    for seed in range(20):
        for caption in Captioner(vocab, seed).captions(record, 8):
            assert check_caption(caption, as_truth(record), vocab) == [], caption


def test_checker_catches_wrong_counts() -> None:
    truth = {"counts": {"T72": 2}, "boxes": []}
    vocab = load_vocabulary()
    assert check_caption("three T-72 tanks", truth, vocab)
    assert check_caption("a SAR image of a ship", truth, vocab)
    assert check_caption("many tanks", truth, vocab)
    assert check_caption("two T-72 main battle tanks", truth, vocab) == []


def test_vocabulary_has_plain_words() -> None:
    vocab = load_vocabulary()
    words = " ".join(t for w in vocab.classes.values() for t in w.terms).lower()
    for plain in ("tank", "truck", "bulldozer", "air defence gun", "armoured personnel carrier", "cargo ship",
                  "tanker", "infantry fighting vehicle", "self-propelled howitzer", "vessel", "boat"):
        assert plain in words


def test_cli_voc_writes_csv_and_truthful_jsonl(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    write_image(tmp_path / "img" / "a.png", 200, 200)
    objects = "".join(f"<object><name>{c}</name><bndbox><xmin>{x}</xmin><ymin>{y}</ymin><xmax>{x + 20}</xmax>"
                      f"<ymax>{y + 15}</ymax></bndbox></object>"
                      for c, x, y in [(0, 10, 10), (0, 150, 20), (1, 90, 160), (0, 40, 100)])
    (tmp_path / "ann").mkdir()
    (tmp_path / "ann" / "a.xml").write_text(f"<annotation><filename>a.png</filename>{objects}</annotation>")
    args = ["--format", "voc", "--annotations", str(tmp_path / "ann"), "--images", str(tmp_path / "img"),
            "--classes", "0=2S1,1=BMP2", "--per-image", "6", "--seed", "0", "--out", str(tmp_path / "c.csv"),
            "--jsonl", str(tmp_path / "r.jsonl"), "--context", "band=X,resolution_m=0.3"]
    assert main(args) == 0
    assert "images: 1" in capsys.readouterr().out
    lines = (tmp_path / "c.csv").read_text().splitlines()
    assert lines[0] == "filepath,caption" and len(lines) == 7
    record = json.loads((tmp_path / "r.jsonl").read_text())
    assert record["counts"] == {"2S1": 3, "BMP2": 1} and record["width"] == 200
    assert len(set(record["captions"])) >= 5
    for caption in record["captions"]:
        assert check_caption(caption, record, load_vocabulary()) == [], caption


def test_cli_strict_stops_before_writing(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    write_image(tmp_path / "a.png")
    (tmp_path / "a.xml").write_text("<annotation><object><name>T72</name></object></annotation>")
    args = ["--format", "voc", "--annotations", str(tmp_path), "--out", str(tmp_path / "c.csv"), "--strict"]
    assert main(args) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and "a.xml" in err and "Traceback" not in err
    assert not (tmp_path / "c.csv").exists()


def test_cli_bad_class_map_is_one_line_error(capsys: pytest.CaptureFixture, tmp_path: Path) -> None:
    assert main(["--format", "yolo", "--annotations", str(tmp_path), "--images", str(tmp_path),
                 "--classes", "0=2S1,oops", "--out", str(tmp_path / "c.csv")]) == 2
    assert capsys.readouterr().err.strip().count("\n") == 0
