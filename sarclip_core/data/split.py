"""Seeded held-out splits, so a model is evaluated on images it never saw: class folders or manifests.

`python -m sarclip_core.data.split --images ROOT --val 0.2 --out DIR` makes DIR/train/<class>/ and
DIR/val/<class>/ of symlinks (stratified per class); `--manifest X.jsonl` writes X.train.jsonl and
X.val.jsonl beside --out instead. The same seed always gives the same split. A re-run replaces the
earlier split whole (a folder is built beside DIR and swapped in), so no image is left in both parts;
a DIR that holds anything but an earlier split is refused.
"""

from __future__ import annotations

import argparse
import csv
import io
import random
import sys
from pathlib import Path
from typing import Sequence

from ..cli import run_cli
from ..errors import SarclipError
from ..files import atomic_folder, atomic_text, check_output_file, check_writable_place
from .images import image_folder
from .manifest import MANIFEST_ENCODING, parse_record

PARTS = ("train", "val")


def split_items(items: Sequence, val_share: float, seed: int) -> tuple[list, list]:
    """(train, val) of a sequence, the val part `val_share` of it (at least one item when there are two)."""
    if not 0 < val_share < 1:
        raise SarclipError(f"--val must be between 0 and 1, got {val_share}")
    order = list(items)
    random.Random(seed).shuffle(order)
    n_val = min(len(order) - 1, max(1, round(len(order) * val_share))) if len(order) > 1 else 0
    return order[n_val:], order[:n_val]


def class_split(root: Path, val_share: float, seed: int) -> dict[str, tuple[list[Path], list[Path]]]:
    """Per class of a class-folder dataset: (train, val) image paths, the same for the same seed."""
    by_class: dict[str, list[Path]] = {}
    for path, label in image_folder(root):
        by_class.setdefault(label, []).append(path)
    return {label: split_items(paths, val_share, seed) for label, paths in by_class.items()}


def split_folder(root: Path, out: Path, val_share: float, seed: int) -> dict[str, int]:
    """Symlink a class-folder dataset into out/train and out/val, stratified per class, replacing an earlier split."""
    check_split_target(out)
    split = class_split(root, val_share, seed)
    counts = {part: 0 for part in PARTS}
    try:
        with atomic_folder(out) as staging:
            for label, parts in split.items():
                for part, chosen in zip(PARTS, parts):
                    folder = staging / part / label
                    folder.mkdir(parents=True)
                    for path in chosen:
                        (folder / path.name).symlink_to(path.resolve())
                    counts[part] += len(chosen)
    except OSError as error:
        raise SarclipError(f"{out}: cannot write the split: {error.strerror or error}") from None
    return counts


def is_split_folder(folder: Path) -> bool:
    """Whether a folder holds only what split_folder writes: train/ and val/ of class folders of symlinks."""
    return all(part.name in PARTS and part.is_dir() and not part.is_symlink()
               and all(label.is_dir() and not label.is_symlink() and all(link.is_symlink() for link in label.iterdir())
                       for label in part.iterdir())
               for part in folder.iterdir())


def check_split_target(out: Path) -> None:
    """Refuse an --out that a split must not replace: a file, or a folder holding anything but an earlier split."""
    if out.exists() and not out.is_dir():
        raise SarclipError(f"{out}: --out is a file, not a folder; not replaced")
    if out.is_dir() and not is_split_folder(out):
        raise SarclipError(f"{out}: --out holds files that are not an earlier split (only train/ and val/ class "
                           "folders of links are replaced); give a new or empty folder")
    check_writable_place(out, "--out")


def split_manifest(manifest: Path, out: Path, val_share: float, seed: int) -> dict[str, int]:
    """Split a JSONL/CSV manifest by image (all rows of one image stay together) into out.train / out.val."""
    targets = [out.with_name(f"{out.stem}.{part}{manifest.suffix}") for part in PARTS]
    for target in targets:
        check_output_file(target, "--out")
    try:
        text = manifest.read_text(encoding=MANIFEST_ENCODING)
    except (OSError, UnicodeError) as error:
        raise SarclipError(f"{manifest}: cannot read the manifest: {error}") from None
    header, groups = _csv_groups(text, manifest) if manifest.suffix.lower() == ".csv" else _jsonl_groups(text, manifest)
    if not groups:
        raise SarclipError(f"{manifest}: no rows to split")
    parts = split_items(sorted(groups), val_share, seed)
    with atomic_text(targets[0]) as train, atomic_text(targets[1]) as val:  # both complete before either is renamed
        for handle, keys in zip((train, val), parts):
            handle.write(header + "".join(row for key in sorted(keys) for row in groups[key]))
    return {part: len(keys) for part, keys in zip(PARTS, parts)}


def _jsonl_groups(text: str, manifest: Path) -> tuple[str, dict[str, list[str]]]:
    """JSONL lines by the image they are about (each line must be a record with a filepath)."""
    groups: dict[str, list[str]] = {}
    for number, line in enumerate(text.splitlines(keepends=True), start=1):
        if line.strip():
            line = line if line.endswith("\n") else line + "\n"
            groups.setdefault(parse_record(line, manifest, number)["filepath"], []).append(line)
    return "", groups


def _csv_groups(text: str, manifest: Path) -> tuple[str, dict[str, list[str]]]:
    """CSV rows (as CSV text) by their filepath column; quoted commas and line breaks in captions stay intact."""
    rows = [row for row in csv.reader(io.StringIO(text, newline="")) if row]
    if not rows or "filepath" not in rows[0]:
        raise SarclipError(f"{manifest}:row 1: the header needs a 'filepath' column")
    column = rows[0].index("filepath")
    groups: dict[str, list[str]] = {}
    for row in rows[1:]:
        groups.setdefault(row[column] if column < len(row) else "", []).append(_csv_line(row))
    return _csv_line(rows[0]), groups


def _csv_line(row: list[str]) -> str:
    out = io.StringIO()
    csv.writer(out, lineterminator="\n").writerow(row)
    return out.getvalue()


def main(argv: Sequence[str] | None = None) -> int:
    """Run the split command line; returns the exit status (0, or 2 after a one-line error)."""
    parser = argparse.ArgumentParser(prog="python -m sarclip_core.data.split", description=__doc__.splitlines()[0])
    source = parser.add_mutually_exclusive_group(required=True)
    source.add_argument("--images", type=Path, help="class-folder dataset root")
    source.add_argument("--manifest", type=Path, help="a CSV or JSONL manifest")
    parser.add_argument("--val", type=float, default=0.2, help="held-out share (default 0.2)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", type=Path, required=True, help="output folder (--images) or name stem (--manifest)")
    args = parser.parse_args(argv)

    def work() -> None:
        if args.images:
            counts = split_folder(args.images, args.out, args.val, args.seed)
        else:
            if not args.manifest.is_file():
                raise SarclipError(f"{args.manifest}: manifest not found")
            counts = split_manifest(args.manifest, args.out, args.val, args.seed)
        print(f"train {counts['train']}, val {counts['val']}")

    return run_cli(work)


if __name__ == "__main__":
    sys.exit(main())
