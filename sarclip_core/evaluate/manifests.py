"""Reading the evaluation inputs made by D2C: captions.csv (filepath,caption) and records.jsonl (one image a line)."""

from __future__ import annotations

import os
from pathlib import Path

from ..data.manifest import csv_rows, read_jsonl, resolve_image
from ..errors import SarclipError


def read_caption_pairs(path: str | os.PathLike) -> list[tuple[Path, str]]:
    """(image, caption) pairs from a captions CSV (header filepath,caption) or a D2C records JSONL ('captions')."""
    path = Path(path)
    if path.suffix.lower() == ".jsonl":
        pairs = []
        for number, record in read_jsonl(path):
            captions = record.get("captions")
            if not isinstance(captions, list) or not all(isinstance(c, str) for c in captions):
                raise SarclipError(f"{path}: line {number}: 'captions' must be a list of strings")
            pairs += [(resolve_image(record["filepath"], path), caption) for caption in captions]
    else:
        pairs = _csv_pairs(path)
    if not pairs:
        raise SarclipError(f"{path}: no captions found")
    return pairs


def _csv_pairs(path: Path) -> list[tuple[Path, str]]:
    if not path.is_file():
        raise SarclipError(f"{path}: captions file not found")
    return [(resolve_image(filepath, path), captions[0]) for _, filepath, captions, _, _ in csv_rows(path)
            if filepath and captions[0]]
