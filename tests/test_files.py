"""The atomic-write helpers every output goes through: complete or absent, never half-written."""

from __future__ import annotations

import pytest

from sarclip_core.errors import SarclipError
from sarclip_core.files import STAGING_NAME, atomic_file, atomic_folder, atomic_text


def test_atomic_file_appears_only_when_complete_and_keeps_the_extension(tmp_path):
    target = tmp_path / "out" / "map.tif"
    with atomic_file(target) as temporary:
        assert temporary.parent == target.parent and temporary.suffix == ".tif"
        assert STAGING_NAME.match(temporary.name)["name"] == "map.tif"
        temporary.write_bytes(b"new")
        assert not target.exists()
    assert target.read_bytes() == b"new" and sorted(p.name for p in target.parent.iterdir()) == ["map.tif"]


@pytest.mark.parametrize("error", [ValueError, KeyboardInterrupt])
def test_a_failed_block_leaves_the_old_file_and_no_temporary(tmp_path, error):
    target = tmp_path / "notes.txt"
    target.write_text("old")
    with pytest.raises(error):
        with atomic_text(target) as handle:
            handle.write("half")
            raise error()
    assert target.read_text() == "old" and [p.name for p in tmp_path.iterdir()] == ["notes.txt"]


def test_atomic_text_failure_is_one_error_naming_the_path(tmp_path):
    (tmp_path / "blocked").write_text("a file where a folder should be")
    with pytest.raises(SarclipError, match="blocked/x.txt: cannot write"):
        with atomic_text(tmp_path / "blocked" / "x.txt") as handle:
            handle.write("x")


def test_atomic_folder_replaces_whole_or_not_at_all(tmp_path):
    target = tmp_path / "model"
    with atomic_folder(target) as staging:
        (staging / "a").write_text("1")
    with pytest.raises(KeyboardInterrupt):
        with atomic_folder(target) as staging:
            (staging / "b").write_text("2")
            raise KeyboardInterrupt
    assert [p.name for p in tmp_path.iterdir()] == ["model"] and [p.name for p in target.iterdir()] == ["a"]
    with atomic_folder(target) as staging:
        (staging / "c").write_text("3")
    assert [p.name for p in target.iterdir()] == ["c"] and [p.name for p in tmp_path.iterdir()] == ["model"]
