"""Reading the evaluation inputs made by D2C: captions.csv (filepath,caption) and records.jsonl (one image a line)."""

from __future__ import annotations

import csv
import json
import os
from pathlib import Path
from typing import Any, Iterator

from ..data.manifest import resolve_image
from ..errors import SarclipError


def read_jsonl(path: str | os.PathLike) -> Iterator[tuple[int, dict[str, Any]]]:
    """(line number, record) for every non-empty line; a line that is not a JSON object with a filepath is an error."""
    path = Path(path)
    if not path.is_file():
        raise SarclipError(f"{path}: records file not found")
    with open(path, encoding="utf-8") as handle:
        for number, line in enumerate(handle, 1):
            if not line.strip():
                continue
            try:
                record = json.loads(line)
            except json.JSONDecodeError as exc:
                raise SarclipError(f"{path}: line {number}: not valid JSON ({exc.msg})") from None
            if not isinstance(record, dict) or not isinstance(record.get("filepath"), str):
                raise SarclipError(f"{path}: line {number}: a record needs a 'filepath' string")
            yield number, record


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
    with open(path, encoding="utf-8", newline="") as handle:
        reader = csv.DictReader(handle)
        if not {"filepath", "caption"} <= set(reader.fieldnames or ()):
            raise SarclipError(f"{path}: needs a header with 'filepath' and 'caption' columns (found {reader.fieldnames})")
        return [(resolve_image(row["filepath"], path), row["caption"]) for row in reader if row["filepath"] and row["caption"]]
