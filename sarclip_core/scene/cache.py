"""The scene index cache: a size limit with least-recently-used eviction, clearing it, and room for a new index.

Each index is a folder named by its key (index.py). Opening one marks it used (its folder's modification
time), so after a build the least recently used indexes are removed until the cache fits its limit
again. The index in use is never removed, nor one used in the last IN_USE_SECONDS: another run (a QGIS
session beside a CLI batch) may be reading it, so the cache can stay over its limit for those minutes.
Hidden staging folders are left to sweep_stale, which removes
only those of processes no longer running.
"""

from __future__ import annotations

import math
import os
import re
import shutil
import time
from pathlib import Path

from ..errors import SarclipError
from ..files import sweep_stale

DEFAULT_LIMIT_GB = 5.0
LIMIT_ENV = "SARCLIP_INDEX_CACHE_GB"
KEY_NAME = re.compile(r"^[0-9a-f]{32}$")  # index.index_key's digest: nothing else in the folder is an index
IN_USE_SECONDS = 600  # an index opened this recently may be in another run's hands: never evicted


def cache_folder(index_dir: str | os.PathLike | None = None) -> Path:
    """The index cache folder, created if needed: `index_dir`, else $SARCLIP_CACHE/index, else
    ~/.cache/sarclip/index."""
    if index_dir is not None:
        folder = Path(index_dir)
    elif os.environ.get("SARCLIP_CACHE"):
        folder = Path(os.environ["SARCLIP_CACHE"]) / "index"
    else:
        folder = Path.home() / ".cache" / "sarclip" / "index"
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise SarclipError(f"{folder}: cannot create the scene index folder ({error.strerror})") from None
    return folder


def limit_bytes(gigabytes: float | None = None) -> int:
    """The cache's size limit: `gigabytes` if given, else $SARCLIP_INDEX_CACHE_GB, else DEFAULT_LIMIT_GB."""
    if gigabytes is None:
        text = os.environ.get(LIMIT_ENV, "").strip()
        try:
            gigabytes = float(text) if text else DEFAULT_LIMIT_GB
        except ValueError:
            raise SarclipError(f"{LIMIT_ENV}={text!r}: give the index cache limit in GB, e.g. 5") from None
    if not gigabytes > 0:
        raise SarclipError(f"the index cache limit must be a positive number of GB, got {gigabytes!r}")
    return int(gigabytes * 1e9)


def human_bytes(count: float) -> str:
    """'1.2 GB'-style size for messages (decimal units, as disk tools show them)."""
    if count < 1000:
        return f"{count:.0f} bytes"
    units = ("kB", "MB", "GB", "TB", "PB")
    power = min(len(units), int(math.log(count, 1000)))
    return f"{count / 1000 ** power:.1f} {units[power - 1]}"


def index_folders(cache: Path) -> list[Path]:
    """The index folders in the cache, least recently used first."""
    try:
        found = [p for p in cache.iterdir() if KEY_NAME.match(p.name) and p.is_dir() and not p.is_symlink()]
    except OSError:
        return []
    return sorted(found, key=_last_used)


def _last_used(folder: Path) -> float:
    try:
        return folder.stat().st_mtime
    except OSError:
        return 0.0


def folder_bytes(folder: Path) -> int:
    """Bytes the files directly in `folder` take (an index holds no sub-folders)."""
    total = 0
    for entry in folder.iterdir():
        try:
            total += entry.stat().st_size
        except OSError:
            pass
    return total


def mark_used(folder: Path) -> None:
    """Record that an index was just used (a read-only cache is used as it is)."""
    try:
        os.utime(folder)
    except OSError:
        pass


def prune(cache: Path, limit: int, keep: Path) -> list[Path]:
    """Remove least-recently-used indexes until the cache holds at most `limit` bytes; `keep`, and any index
    used in the last IN_USE_SECONDS, always stay."""
    folders = index_folders(cache)
    sizes = {folder: folder_bytes(folder) for folder in folders}
    total, removed = sum(sizes.values()), []
    for folder in folders:
        if total <= limit:
            break
        if folder == keep or time.time() - _last_used(folder) < IN_USE_SECONDS:
            continue
        shutil.rmtree(folder, ignore_errors=True)
        if not folder.exists():
            total -= sizes[folder]
            removed.append(folder)
    return removed


def clear(index_dir: str | os.PathLike | None = None) -> tuple[int, int]:
    """Remove every index in the cache (`index_dir` or the default folder) and the staging left by dead
    runs: (indexes removed, bytes freed). An index another run is building is left alone (its staging
    folder belongs to a live process)."""
    cache = cache_folder(index_dir)
    count = freed = 0
    for folder in index_folders(cache):
        size = folder_bytes(folder)
        shutil.rmtree(folder, ignore_errors=True)
        if not folder.exists():
            count, freed = count + 1, freed + size
    sweep_stale(cache)
    return count, freed


def check_room(scene: str, cache: Path, need: int, limit: int, windows: int) -> None:
    """Refuse, before any work, an index larger than the free space of the cache's disk or the cache's limit."""
    free = shutil.disk_usage(cache).free
    if need <= free and need <= limit:
        return
    if need > free:
        room = f"{cache} has {human_bytes(free)} free"
    else:
        room = (f"the index cache is limited to {human_bytes(limit)} "
                f"(--index-cache-gb or ${LIMIT_ENV} raise it)")
    raise SarclipError(f"{scene}: its index would take about {human_bytes(need)} ({windows:,} windows) and {room}; "
                       "narrow it with an area of interest (--aoi) or a coarser ground resolution (--resolution)")
