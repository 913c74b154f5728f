"""`python -m sarclip_core.data.split`: a re-run gives exactly the new split; bad input is one line, nothing changed."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from bad_input_helpers import one_error_line, read_only_folder, tree
from sarclip_core.data.split import class_split
from sarclip_core.data.split import main as split_main

CLASSES, PER_CLASS = ("a", "b", "c"), 6


@pytest.fixture(scope="module")
def images(tmp_path_factory) -> Path:
    """18 small PNG chips in three class folders."""
    root = tmp_path_factory.mktemp("split") / "chips"
    rng = np.random.default_rng(0)
    for label in CLASSES:
        (root / label).mkdir(parents=True)
        for i in range(PER_CLASS):
            Image.fromarray(rng.integers(0, 255, (16, 16), dtype=np.uint8)).save(root / label / f"{label}{i}.png")
    return root


def linked(folder: Path) -> set[tuple[str, str]]:
    """(class, image name) of every link under a split part."""
    return {(link.parent.name, link.name) for link in folder.rglob("*") if link.is_symlink()}


def test_a_rerun_with_another_seed_gives_exactly_the_new_split(images, tmp_path, capsys):
    out = tmp_path / "split"
    assert split_main(["--images", str(images), "--val", "0.34", "--seed", "0", "--out", str(out)]) == 0
    assert split_main(["--images", str(images), "--val", "0.34", "--seed", "1", "--out", str(out)]) == 0
    expected = class_split(images, 0.34, 1)
    for index, part in enumerate(("train", "val")):
        want = {(label, path.name) for label, parts in expected.items() for path in parts[index]}
        assert linked(out / part) == want
    assert not linked(out / "train") & linked(out / "val")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["split"]  # no staging or old folder left
    assert capsys.readouterr().out.splitlines()[-1] == "train 12, val 6"


def test_a_folder_that_is_not_a_split_is_refused_and_kept(images, tmp_path, capsys):
    out = tmp_path / "mine"
    (out / "train").mkdir(parents=True)
    (out / "train" / "notes.txt").write_text("keep me", encoding="utf-8")
    before = tree(tmp_path)
    assert split_main(["--images", str(images), "--out", str(out)]) == 2
    one_error_line(capsys.readouterr().err, str(out), "not an earlier split")
    assert tree(tmp_path) == before


def test_a_read_only_output_folder_is_one_line(images, tmp_path, capsys):
    with read_only_folder(tmp_path) as folder:
        before = sorted(p.name for p in folder.iterdir())
        assert split_main(["--images", str(images), "--out", str(folder / "split")]) == 2
        one_error_line(capsys.readouterr().err, str(folder / "split"), "cannot write")
        assert sorted(p.name for p in folder.iterdir()) == before


def test_a_jsonl_line_that_is_not_json_is_one_line_naming_it(tmp_path, capsys):
    manifest = tmp_path / "records.jsonl"
    good = [json.dumps({"filepath": f"x{i}.png", "captions": ["a ship"]}) for i in range(3)]
    manifest.write_text("\n".join([*good, "{not json", ""]), encoding="utf-8")
    before = tree(tmp_path)
    assert split_main(["--manifest", str(manifest), "--out", str(manifest)]) == 2
    one_error_line(capsys.readouterr().err, f"{manifest}:line 4", "not JSON")
    assert tree(tmp_path) == before


def test_an_excel_csv_splits_into_two_parts_without_its_byte_order_mark(tmp_path):
    """Excel's "CSV UTF-8" (a byte-order mark first): both parts get the plain header, nothing else is left."""
    manifest = tmp_path / "captions.csv"
    manifest.write_text("\ufefffilepath,caption\n" + "".join(f"x{i}.png,a ship\n" for i in range(5)), encoding="utf-8")
    assert split_main(["--manifest", str(manifest), "--out", str(manifest), "--val", "0.4"]) == 0
    assert sorted(p.name for p in tmp_path.iterdir()) == ["captions.csv", "captions.train.csv", "captions.val.csv"]
    rows = [(tmp_path / f"captions.{part}.csv").read_text(encoding="utf-8").splitlines() for part in ("train", "val")]
    assert rows[0][0] == rows[1][0] == "filepath,caption" and (len(rows[0]), len(rows[1])) == (4, 3)


def test_a_csv_split_keeps_quoted_commas_line_breaks_and_each_image_s_rows_together(tmp_path):
    """Rows are read as CSV, not split at commas: a quoted filepath with a comma, a caption over two lines."""
    manifest = tmp_path / "captions.csv"
    rows = [("caption", "filepath")] + [(f'"ship {i}, near the coast\nsecond line"', f'"dir,{i % 4}/x.png"')
                                        for i in range(8)]
    manifest.write_text("".join(f"{a},{b}\n" for a, b in rows), encoding="utf-8")
    assert split_main(["--manifest", str(manifest), "--out", str(manifest), "--val", "0.5"]) == 0
    parts = [list(csv.DictReader(open(tmp_path / f"captions.{p}.csv", newline="", encoding="utf-8")))
             for p in ("train", "val")]
    images = [{row["filepath"] for row in part} for part in parts]
    assert images[0] | images[1] == {f"dir,{i}/x.png" for i in range(4)} and not images[0] & images[1]
    assert sum(map(len, parts)) == 8 and all(row["caption"].endswith("coast\nsecond line") for p in parts for row in p)
