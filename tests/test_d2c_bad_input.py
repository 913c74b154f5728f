"""D2C bad input and bad output paths: exit 2, one line naming the problem, nothing written or changed."""

from __future__ import annotations

from pathlib import Path

import pytest

from bad_input_helpers import one_error_line, read_only_folder, tree
from d2c_helpers import write_image
from sarclip_core.d2c.__main__ import main

GOOD_XML = ("<annotation><filename>a.png</filename><object><name>ship</name><bndbox><xmin>10</xmin><ymin>10</ymin>"
            "<xmax>30</xmax><ymax>25</ymax></bndbox></object></annotation>")


def voc(root: Path, xml: str = GOOD_XML) -> list[str]:
    """A one-image VOC source under root: its d2c flags (without --out)."""
    write_image(root / "img" / "a.png")
    (root / "ann").mkdir()
    (root / "ann" / "a.xml").write_text(xml, encoding="utf-8")
    return ["--format", "voc", "--annotations", str(root / "ann"), "--images", str(root / "img")]


def test_out_that_is_a_folder_is_one_line_and_leaves_nothing(tmp_path, capsys):
    argv = voc(tmp_path)
    (tmp_path / "out").mkdir()
    before = tree(tmp_path)
    assert main([*argv, "--out", str(tmp_path / "out")]) == 2
    one_error_line(capsys.readouterr().err, str(tmp_path / "out"), "--out is a folder")
    assert tree(tmp_path) == before


def test_out_in_a_read_only_folder_is_one_line(tmp_path, capsys):
    argv = voc(tmp_path)
    with read_only_folder(tmp_path) as folder:
        before = sorted(p.name for p in folder.iterdir())
        assert main([*argv, "--out", str(folder / "c.csv")]) == 2
        one_error_line(capsys.readouterr().err, str(folder / "c.csv"), "cannot write")
        assert sorted(p.name for p in folder.iterdir()) == before


def test_an_unwritable_jsonl_is_found_before_the_csv_is_replaced(tmp_path, capsys):
    argv = voc(tmp_path)
    (tmp_path / "c.csv").write_text("filepath,caption\nold.png,an earlier corpus\n", encoding="utf-8")
    before = tree(tmp_path)
    with read_only_folder(tmp_path) as folder:
        assert main([*argv, "--out", str(tmp_path / "c.csv"), "--jsonl", str(folder / "r.jsonl")]) == 2
        one_error_line(capsys.readouterr().err, str(folder / "r.jsonl"), "--jsonl")
    assert tree(tmp_path) == before


@pytest.mark.parametrize("flags, words", [
    (["--scene-size", "-5"], ["--scene-size must be at least 32 px", "-5"]),
    (["--scenes", "0"], ["--scenes must be at least 1"]),
    (["--max-objects", "0"], ["--max-objects must be at least 1"]),
    (["--empty-share", "1.5"], ["--empty-share must be between 0 and 1"]),
])
def test_compose_settings_that_cannot_work_are_refused(tmp_path, capsys, flags, words):
    (tmp_path / "chips").mkdir()
    assert main(["--format", "compose", "--images", str(tmp_path / "chips"), "--out-images", str(tmp_path / "scenes"),
                 "--out", str(tmp_path / "c.csv"), *flags]) == 2
    one_error_line(capsys.readouterr().err, *words)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["chips"]


def test_a_source_with_nothing_readable_is_refused_not_an_empty_corpus(tmp_path, capsys):
    """The only annotation file is malformed: no header-only CSV with exit 0, but one line naming the file."""
    argv = voc(tmp_path, "<annotation><object>")
    before = tree(tmp_path)
    assert main([*argv, "--out", str(tmp_path / "c.csv")]) == 2
    one_error_line(capsys.readouterr().err, "no image to caption", str(tmp_path / "ann" / "a.xml"))
    assert tree(tmp_path) == before
