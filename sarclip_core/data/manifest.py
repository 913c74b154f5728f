"""Caption manifests: `filepath,caption[,label]` CSV (open_clip's layout) or D2C JSONL, checked row by row."""

from __future__ import annotations

import csv
import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterator

from ..errors import SarclipError
from .images import IMAGE_SUFFIXES, image_files

# Excel's "CSV UTF-8" starts with a byte-order mark, which plain "utf-8" would make part of the first
# column's name ('\ufefffilepath'); "utf-8-sig" drops it and reads files without one the same.
MANIFEST_ENCODING = "utf-8-sig"


@dataclass
class Sample:
    """One image with all its captions; `key` groups images that count as positives of each other."""

    filepath: Path
    captions: list[str] = field(default_factory=list)
    key: str = ""
    source: str = ""  # "manifest:row N" of the image's first row, so later errors (unreadable pixels) can name it
    truth: dict = field(default_factory=dict)  # a D2C record's boxes and context (mask, background), for dense targets


class ManifestError(SarclipError):
    """A manifest row is bad: names the file and row."""


def read_manifest(path: str | os.PathLike, skip_bad: bool = False,
                  problems: list[str] | None = None) -> list[Sample]:
    """Samples of a CSV or JSONL manifest, one per image (several rows of one image are merged).

    Relative image paths are taken relative to the manifest. A missing file, an empty caption or a
    wrong column is a ManifestError naming file and row, unless `skip_bad`, which records the problem
    in `problems` and goes on.
    """
    path = Path(path)
    if not path.is_file():
        raise ManifestError(f"{path}: manifest not found")
    reader = _jsonl_rows if path.suffix.lower() in (".jsonl", ".json") else csv_rows
    problems = [] if problems is None else problems
    samples: dict[Path, Sample] = {}
    for where, filepath, captions, key, truth in reader(path):
        image = resolve_image(filepath, path)
        problem = _problem(filepath, captions, image)
        if problem:
            message = f"{path}:{where}: {problem}"
            if not skip_bad:
                raise ManifestError(f"{message} (use --skip-bad to skip such rows)")
            problems.append(message)
            continue
        sample = samples.setdefault(image, Sample(image, key=key or "", source=f"{path}:{where}", truth=truth))
        sample.captions += [c.strip() for c in captions]
    if not samples:
        raise ManifestError(f"{path}: no usable rows")
    for sample in samples.values():
        sample.key = sample.key or _caption_key(sample.captions)
    return list(samples.values())


def read_manifests(spec: str, skip_bad: bool = False, problems: list[str] | None = None) -> list[Sample]:
    """Samples of several manifests joined with '::' (open_clip's separator for several sources)."""
    return [sample for part in str(spec).split("::") for sample in read_manifest(part, skip_bad, problems)]


def image_samples(spec: str | os.PathLike) -> list[Sample]:
    """Caption-free samples for self-supervised training: images under folders or in manifests ('::'-joined)."""
    parts = str(spec).split("::")
    if len(parts) > 1:
        return [sample for part in parts for sample in image_samples(part)]
    source = Path(spec)
    if source.is_dir():
        files = image_files(source, recursive=True)
        if not files:
            raise ManifestError(f"{source}: no images ({', '.join(IMAGE_SUFFIXES)}) in this folder")
        return [Sample(p) for p in files]
    return read_manifest(source, skip_bad=True)


def csv_rows(path: Path) -> Iterator[tuple[str, str, list[str], str | None, dict]]:
    """(where, filepath, [caption], label, {}) for each row of a filepath,caption[,label] CSV, as read_manifest
    takes them from either format; a header without both columns is a ManifestError."""
    with open(path, newline="", encoding=MANIFEST_ENCODING) as handle:
        rows = csv.DictReader(handle)
        columns = rows.fieldnames or []
        if not {"filepath", "caption"} <= set(columns):
            raise ManifestError(f"{path}:row 1: needs a header with 'filepath' and 'caption' columns (found {columns})")
        for number, row in enumerate(rows, start=2):
            yield f"row {number}", row.get("filepath") or "", [row.get("caption") or ""], row.get("label"), {}


def parse_record(line: str, path: Path, number: int) -> dict:
    """One JSONL line as a record (a JSON object with a 'filepath' string); anything else is one clear error."""
    try:
        record = json.loads(line)
    except ValueError as error:
        raise ManifestError(f"{path}:line {number}: not JSON: {error}") from None
    if not isinstance(record, dict) or not isinstance(record.get("filepath"), str):
        raise ManifestError(f"{path}:line {number}: a record needs a 'filepath' string")
    return record


def read_jsonl(path: str | os.PathLike) -> Iterator[tuple[int, dict]]:
    """(line number, record) for every non-empty line of a D2C-style JSONL file (a byte-order mark is fine)."""
    path = Path(path)
    if not path.is_file():
        raise ManifestError(f"{path}: records file not found")
    with open(path, encoding=MANIFEST_ENCODING) as handle:
        for number, line in enumerate(handle, start=1):
            if line.strip():
                yield number, parse_record(line, path, number)


def _jsonl_rows(path: Path):
    for number, record in read_jsonl(path):
        if "captions" not in record:
            raise ManifestError(f"{path}:line {number}: a record needs 'filepath' and 'captions'")
        captions = record["captions"] if isinstance(record["captions"], list) else [record["captions"]]
        counts = record.get("counts") or {}
        key = ",".join(f"{k}:{v}" for k, v in sorted(counts.items())) if isinstance(counts, dict) else None
        truth = {"boxes": record.get("boxes") or [], "context": record.get("context") or {}, "manifest": str(path)}
        yield f"line {number}", record["filepath"], [str(c) for c in captions], key, truth


def _problem(filepath: str, captions: list[str], image: Path) -> str | None:
    if not filepath.strip():
        return "empty filepath"
    if not captions or not all(c.strip() for c in captions):
        return f"empty caption for {filepath}"
    if not image.is_file():
        return f"image not found: {filepath}"
    return None


def resolve_image(filepath: str, manifest: Path) -> Path:
    """An image path from a manifest: absolute, else from the working directory (as open_clip reads it),
    else beside the manifest."""
    image = Path(filepath)
    if image.is_absolute() or image.exists():
        return image
    return manifest.parent / image


def _caption_key(captions: list[str]) -> str:
    # Without labels, images whose caption sets are identical are the same thing to the loss.
    return "\n".join(sorted(set(captions)))
