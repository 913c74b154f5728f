"""Build the QGIS plugin zip: dist/sarclip_qgis-<version>.zip with one top-level folder `sarclip_qgis/`.

Layout inside the zip (what the Plugin Manager's "Install from ZIP" unpacks):
    sarclip_qgis/__init__.py ... (the plugin)       sarclip_qgis/metadata.txt
    sarclip_qgis/resources/ (styles, icons)
    sarclip_qgis/engine/sarclip_core/ (the engine, with its package data in sarclip_core/resources/:
                                       the vocabulary, the demo scene, the default model when present)
    sarclip_qgis/engine/README.md (the help page the algorithms' Help buttons open)
    sarclip_qgis/engine/requirements-qgis.txt (what the dependency banner's Install button installs)
Only source and data files go in: no __pycache__, nothing git ignores, no other trained models.
The zip is reproducible (sorted entries, fixed timestamps) and written atomically.
"""

from __future__ import annotations

import argparse
import configparser
import os
import subprocess
import sys
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from sarclip_core.files import atomic_file  # noqa: E402 - the engine's atomic write, from this checkout

TOP = "sarclip_qgis"
DEFAULT_MODEL = "sarclip-tiny"
SKIP_DIRS = {"__pycache__", ".pytest_cache", ".ipynb_checkpoints"}
SKIP_SUFFIXES = {".pyc", ".pyo", ".tmp", ".partial"}
FIXED_TIME = (2024, 1, 1, 0, 0, 0)


def version() -> str:
    parser = configparser.ConfigParser()
    parser.read(ROOT / "metadata.txt", encoding="utf-8")
    return parser["general"]["version"]


def _walk(folder: Path) -> list[Path]:
    files = []
    for dirpath, dirnames, filenames in os.walk(folder):
        dirnames[:] = sorted(d for d in dirnames if d not in SKIP_DIRS and not d.startswith("."))
        files += [Path(dirpath) / name for name in filenames
                  if not name.startswith(".") and Path(name).suffix not in SKIP_SUFFIXES]
    return files


def _not_ignored(files: list[Path]) -> list[Path]:
    """Drop what git ignores (build outputs, caches); without git, keep everything."""
    try:
        result = subprocess.run(["git", "-C", str(ROOT), "check-ignore", "--no-index", "--stdin"],
                                input="\n".join(str(f.relative_to(ROOT)) for f in files),
                                capture_output=True, text=True, check=False)
    except OSError:
        return files
    ignored = set(result.stdout.split("\n"))
    return [f for f in files if str(f.relative_to(ROOT)) not in ignored]


def _is_other_model(path: Path) -> bool:
    """sarclip_core/resources/models/ may hold experiments: only the default model ships."""
    parts = path.relative_to(ROOT / "sarclip_core").parts
    return parts[:2] == ("resources", "models") and len(parts) > 3 and parts[2] != DEFAULT_MODEL


def entries() -> list[tuple[Path, str]]:
    """(source file, name in the zip) for everything the plugin needs."""
    pairs = [(ROOT / "metadata.txt", f"{TOP}/metadata.txt"), (ROOT / "README.md", f"{TOP}/engine/README.md"),
             (ROOT / "requirements-qgis.txt", f"{TOP}/engine/requirements-qgis.txt")]
    pairs += [(f, f"{TOP}/{f.relative_to(ROOT / 'sarclip_qgis').as_posix()}") for f in _walk(ROOT / "sarclip_qgis")]
    pairs += [(f, f"{TOP}/engine/{f.relative_to(ROOT).as_posix()}") for f in _walk(ROOT / "sarclip_core")
              if not _is_other_model(f)]
    keep = set(_not_ignored([source for source, _ in pairs]))
    return sorted(((s, n) for s, n in pairs if s in keep), key=lambda pair: pair[1])


def build(out_dir: Path) -> Path:
    out_dir.mkdir(parents=True, exist_ok=True)
    target = out_dir / f"{TOP}-{version()}.zip"
    with atomic_file(target) as partial, zipfile.ZipFile(partial, "w", zipfile.ZIP_DEFLATED) as archive:
        for source, name in entries():
            info = zipfile.ZipInfo(name, FIXED_TIME)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            archive.writestr(info, source.read_bytes())
    return target


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--out", type=Path, default=ROOT / "dist", help="folder for the zip (default: dist/)")
    args = parser.parse_args(argv)
    target = build(args.out)
    has_model = any(n.startswith(f"{TOP}/engine/sarclip_core/resources/models/{DEFAULT_MODEL}/") for _, n in entries())
    print(f"{target} ({target.stat().st_size / 1e6:.1f} MB, default model {'included' if has_model else 'MISSING'})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
