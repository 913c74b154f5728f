"""--format records: D2C records read back (e.g. the training part of a split) keep boxes, size and context."""

from __future__ import annotations

import json

from paths import DATA
from sarclip_core.d2c.__main__ import main


def test_records_round_trip_and_windows_come_only_from_the_given_records(tmp_path, capsys):
    ssdd = DATA / "ssdd"
    images = tmp_path / "images"
    images.mkdir()
    for name in ("000002", "000003"):
        (images / f"{name}.jpg").symlink_to(ssdd / "images" / f"{name}.jpg")
    labels = tmp_path / "labels"
    labels.mkdir()
    for name in ("000002", "000003"):
        (labels / f"{name}.txt").symlink_to(ssdd / "labels" / f"{name}.txt")
    first = tmp_path / "first.jsonl"
    assert main(["--format", "yolo", "--annotations", str(labels), "--images", str(images), "--classes", "0=ship",
                 "--sealand", str(ssdd / "sealand"), "--out", str(tmp_path / "a.csv"), "--jsonl", str(first)]) == 0
    again = tmp_path / "again.jsonl"
    assert main(["--format", "records", "--annotations", str(first), "--out", str(tmp_path / "b.csv"),
                 "--jsonl", str(again)]) == 0
    before, after = ([json.loads(line) for line in path.read_text().splitlines()] for path in (first, again))
    assert [r["boxes"] for r in before] == [r["boxes"] for r in after]
    assert [r["context"] for r in before] == [r["context"] for r in after]
    windows = tmp_path / "windows.jsonl"
    assert main(["--format", "records", "--annotations", str(first), "--windows", "3", "--out-images",
                 str(tmp_path / "w"), "--out", str(tmp_path / "w.csv"), "--jsonl", str(windows)]) == 0
    sources = {json.loads(line)["context"]["source"] for line in windows.read_text().splitlines()}
    assert sources == {r["filepath"] for r in before}
    capsys.readouterr()
    mixed = tmp_path / "mixed.jsonl"
    mixed.write_text(first.read_text().splitlines()[0] + '\n{"filepath": "x.png"}\n')
    assert main(["--format", "records", "--annotations", str(mixed), "--out", str(tmp_path / "c.csv")]) == 0
    out = capsys.readouterr().out
    assert "line 2: not a D2C record" in out and len((tmp_path / "c.csv").read_text().splitlines()) == 6  # header + 5
