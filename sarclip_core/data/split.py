"""Seeded held-out splits, so a model is evaluated on images it never saw: class folders or manifests.

`python -m sarclip_core.data.split --images ROOT --val 0.2 --out DIR` makes DIR/train/<class>/ and
DIR/val/<class>/ of symlinks (stratified per class); `--manifest X.jsonl` writes X.train.jsonl and
X.val.jsonl beside --out instead. The same seed always gives the same split.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import sys
from pathlib import Path
from typing import Sequence

from ..cli import run_cli
from ..errors import SarclipError
from .images import image_folder


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
    """Symlink a class-folder dataset into out/train and out/val, stratified per class."""
    counts = {"train": 0, "val": 0}
    for label, parts in class_split(root, val_share, seed).items():
        for part, chosen in zip(("train", "val"), parts):
            folder = out / part / label
            folder.mkdir(parents=True, exist_ok=True)
            for path in chosen:
                link = folder / path.name
                if not link.is_symlink():
                    link.symlink_to(path.resolve())
            counts[part] += len(chosen)
    return counts


def split_manifest(manifest: Path, out: Path, val_share: float, seed: int) -> dict[str, int]:
    """Split a JSONL/CSV manifest by image (all rows of one image stay together) into out.train / out.val."""
    lines = manifest.read_text(encoding="utf-8").splitlines(keepends=True)
    header = [lines.pop(0)] if manifest.suffix.lower() == ".csv" else []
    groups: dict[str, list[str]] = {}
    for line in lines:
        if line.strip():
            groups.setdefault(_image_of(line, manifest.suffix.lower()), []).append(line)
    counts = {}
    for part, keys in zip(("train", "val"), split_items(sorted(groups), val_share, seed)):
        target = out.with_name(f"{out.stem}.{part}{manifest.suffix}")
        temporary = target.with_name(f".{target.name}.tmp")
        temporary.write_text("".join(header + [line for key in sorted(keys) for line in groups[key]]),
                             encoding="utf-8")
        os.replace(temporary, target)
        counts[part] = len(keys)
    return counts


def _image_of(line: str, suffix: str) -> str:
    if suffix == ".csv":
        return line.split(",", 1)[0]
    return json.loads(line)["filepath"]


def main(argv: Sequence[str] | None = None) -> int:
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
