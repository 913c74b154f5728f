"""Shared checks of the bad-input tests: one `error:` line and no traceback, a folder nothing can be written in."""

from __future__ import annotations

import os
import tempfile
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

import pytest


def one_error_line(err: str, *words: str) -> str:
    """The single `error: ...` line of a CLI's stderr (no traceback, nothing else), checked to contain words.

    Lines are taken as a terminal shows them: a progress bar redrawn with carriage returns and cleared
    before the error is not a line of its own.
    """
    assert "Traceback" not in err, err
    lines = [line.split("\r")[-1] for line in err.split("\n")]
    lines = [line for line in lines if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("error: "), err
    for word in words:
        assert word in lines[0], (word, lines[0])
    return lines[0]


def tree(folder: Path) -> dict[str, bytes | str]:
    """Every path under folder with its content (files) or link target (symlinks): to see nothing changed."""
    return {str(p.relative_to(folder)): (os.readlink(p) if p.is_symlink() else p.read_bytes() if p.is_file() else "")
            for p in sorted(folder.rglob("*"))}


@contextmanager
def read_only_folder(tmp_path: Path) -> Iterator[Path]:
    """A folder in which no file can be made. File modes do not stop root, so as root this is /sys (sysfs
    refuses new files to everyone); it is skipped where even that is writable."""
    if os.geteuid() == 0:
        if _writable(Path("/sys")):
            pytest.skip("running as root with no read-only folder to test with")
        yield Path("/sys")
        return
    folder = tmp_path / "read-only"
    folder.mkdir()
    folder.chmod(0o555)
    try:
        yield folder
    finally:
        folder.chmod(0o755)


def _writable(folder: Path) -> bool:
    try:
        with tempfile.TemporaryFile(dir=folder):
            return True
    except OSError:
        return False
