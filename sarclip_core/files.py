"""Output files and folders: checked before any work, written atomically, and never left half-written.

Every CLI checks its output paths first (so a bad path is one line, before minutes of work and before
any other output is replaced), writes each file under a temporary name beside it, and renames it into
place only when it is complete. A failed write is one SarclipError naming the path, never a traceback.

Temporary names (staging_path) are hidden and carry the writing process's id (`.NAME.tmp-PID-UNIQUE[.SUFFIX]`): what a
process killed outright (kill -9, power loss) leaves behind is recognised by that id and swept by the next
run (sweep_stale), while a live run's files are never touched. A process id means something only on its own
machine, so staging_path's UNIQUE starts with a tag of the machine, and a folder several machines share (a
batch's index folder on a cluster) is swept of this machine's leftovers only.
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import socket
import tempfile
import uuid
from contextlib import contextmanager
from pathlib import Path
from typing import Collection, Iterator, TextIO

from .errors import SarclipError


def check_output_file(path: Path, flag: str) -> None:
    """Refuse an output file path that cannot be written: a folder, or a place where no file can be made."""
    if path.is_dir():
        raise SarclipError(f"{path}: {flag} is a folder; give a file name")
    check_writable_place(path, flag)


def check_writable_place(path: Path, flag: str) -> None:
    """Refuse a path whose nearest existing parent folder is no folder or cannot be written.

    Tried with a nameless temporary file, not os.access: that also catches read-only mounts and
    holds for root, and leaves nothing behind.
    """
    parent = path.absolute().parent
    while not parent.exists() and parent != parent.parent:
        parent = parent.parent
    if not parent.is_dir():
        raise SarclipError(f"{path}: {flag}: {parent} is not a folder")
    try:
        with tempfile.TemporaryFile(dir=parent):
            pass
    except OSError as error:
        raise SarclipError(f"{path}: {flag}: cannot write in {parent} ({error.strerror or error})") from None


STAGING_NAME = re.compile(r"^\.(?P<name>.+?)\.tmp-(?P<pid>\d+)(?:-(?P<unique>[0-9a-f]+))?(?:\.\w+)*$")
HOST_TAG = hashlib.blake2b(socket.gethostname().encode(), digest_size=4).hexdigest()  # 8 hex digits


def staging_path(path: Path, suffix: str = "") -> Path:
    """The one temporary name: hidden, beside path, unique to this process and this call (several writers
    of one path may run in one process), ending in `suffix` so that drivers choosing a format by extension
    still can. atomic_file and atomic_folder use it; so do writers that stage more than one file. The unique
    part starts with this machine's HOST_TAG."""
    return path.with_name(f".{path.name}.tmp-{os.getpid()}-{HOST_TAG}{uuid.uuid4().hex[:8]}{suffix}")


def process_alive(pid: int) -> bool:
    """Whether a process with this id runs on this machine (one we may not signal still runs)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    except OverflowError:
        return False
    return True


def sweep_stale(folder: Path, names: Collection[str] | None = None, *, own: bool = False) -> list[Path]:
    """Remove the temporary files and folders in `folder` that processes no longer running left behind.

    Only hidden entries named by staging_path are candidates, only for the outputs
    in `names` when given, and only when the process id in the name is not alive, so a run still
    writing is never disturbed. `own` adds this process's own: for a CLI interrupted by a signal, which
    may strike between a file's creation and the code that would remove it. Returns what was removed;
    entries that cannot be removed are left.
    """
    removed: list[Path] = []
    try:
        entries = list(folder.iterdir())
    except OSError:
        return removed
    for entry in entries:
        match = STAGING_NAME.match(entry.name)
        if not match or (names is not None and match["name"] not in names):
            continue
        if match["unique"] and len(match["unique"]) == 16 and match["unique"][:8] != HOST_TAG:
            continue  # another machine's: its process ids say nothing here
        pid = int(match["pid"])
        if not (own and pid == os.getpid()) and process_alive(pid):
            continue
        try:
            if entry.is_dir() and not entry.is_symlink():
                shutil.rmtree(entry)
            else:
                entry.unlink()
        except OSError:
            continue
        removed.append(entry)
    return removed


@contextmanager
def atomic_file(path: Path) -> Iterator[Path]:
    """Write a file atomically: yields a temporary path beside `path` (with its extension, for drivers that
    choose a format by it) to write to; renamed onto `path` when the block succeeds, removed otherwise.

    OSErrors pass through, so that the caller's message can say what could not be written.
    """
    temporary = staging_path(path, path.suffix)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        yield temporary
        os.replace(temporary, path)
    finally:
        temporary.unlink(missing_ok=True)


@contextmanager
def atomic_text(path: Path) -> Iterator[TextIO]:
    """Write a UTF-8 text file atomically (atomic_file); a failure is one SarclipError naming the path."""
    try:
        with atomic_file(path) as temporary, open(temporary, "w", encoding="utf-8", newline="") as handle:
            yield handle
    except OSError as error:
        raise SarclipError(f"{path}: cannot write: {error.strerror or error}") from None


@contextmanager
def atomic_folder(target: Path) -> Iterator[Path]:
    """Write a folder atomically: yields an empty staging folder beside `target` to fill; when the block
    succeeds it replaces `target` (replace_folder: the caller has checked that it may be replaced), and
    whatever stops the block (an error, Ctrl-C, SIGTERM through the CLI) removes it.

    OSErrors pass through, so that the caller's message can say what could not be written.
    """
    staging = staging_path(target)
    try:
        staging.mkdir(parents=True)
        yield staging
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    replace_folder(staging, target)


def replace_folder(staging: Path, target: Path) -> None:
    """Put a completely written staging folder at target, replacing the folder there (the caller has checked
    that it may be replaced); if the swap fails, the old folder is put back and the staging folder removed."""
    if target.exists() and not target.is_dir():
        raise SarclipError(f"{target}: exists and is not a folder; not replaced")
    old = target.with_name(f".{target.name}.old-{os.getpid()}")
    try:
        if target.exists():
            target.rename(old)  # rename() cannot replace a non-empty folder: the old one moves aside first
        try:
            staging.rename(target)
        except OSError:
            if old.exists():
                old.rename(target)
            raise
    except OSError as error:
        shutil.rmtree(staging, ignore_errors=True)
        raise SarclipError(f"{target}: cannot write: {error.strerror or error}") from None
    shutil.rmtree(old, ignore_errors=True)


RUN_STAGE = "run"  # staging_path(folder / RUN_STAGE): a folder a whole run's outputs are made in, then moved out


def visible_path(path: Path) -> Path:
    """The path a user asked for, from one being written under staging names: a staged file or folder is
    shown by its own name, a run's staging folder (RUN_STAGE) is left out."""
    shown = []
    for part in path.parts:
        match = STAGING_NAME.match(part)
        if match is None:
            shown.append(part)
        elif match["name"] != RUN_STAGE:
            shown.append(match["name"])
    return Path(*shown)
