"""Annotated images for the evaluation tasks: every image with its true boxes, from any D2C source.

The boxes come from a D2C records JSONL (composed scenes, window crops, held-out splits) or straight from
annotations (voc, coco, yolo, dota, instance masks) through the D2C readers, so every task that needs
boxes reads them one way.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

from ..d2c.boxes import Box
from ..d2c.readers import READERS
from ..d2c.validate import Problems, parse_classes
from ..d2c.vocabulary import Vocabulary
from ..data.manifest import read_jsonl, resolve_image
from ..errors import SarclipError

FORMATS = ("jsonl", *READERS)


@dataclass(frozen=True)
class Annotated:
    """One image and its true objects (pixel boxes, x right, y down) or, for counts-only records, just counts."""

    path: Path
    boxes: tuple[Box, ...]
    counts: dict[str, int]


def read_annotated(format: str, data: str | None, annotations: str | None, images: str | None,
                   classes: str | None) -> tuple[list[Annotated], list[str]]:
    """The annotated images of a source and the annotation problems met on the way."""
    if format not in FORMATS:
        raise SarclipError(f"--format must be one of {', '.join(FORMATS)} (got {format!r})")
    problems = Problems()
    if format == "jsonl":
        if not data:
            raise SarclipError("--data RECORDS.jsonl is required for --format jsonl")
        items = [_from_record(record, data, number) for number, record in read_jsonl(data)]
    else:
        if not annotations:
            raise SarclipError(f"--annotations is required for --format {format}")
        records = READERS[format](Path(annotations), Path(images) if images else None, parse_classes(classes), problems)
        items = [Annotated(Path(r.filepath), tuple(r.boxes), r.counts()) for r in records]
    if not items:
        raise SarclipError(f"{data or annotations}: no annotated images found")
    return items, problems.items


def _from_record(record: dict, path: str, number: int) -> Annotated:
    try:
        boxes = [Box.from_dict(entry) for entry in record.get("boxes") or []]
    except (KeyError, TypeError, ValueError):
        raise SarclipError(f"{path}: line {number}: a box needs 'label' and 'bbox' [xmin, ymin, xmax, ymax]") from None
    if isinstance(record.get("counts"), dict):
        counts = {str(k): int(v) for k, v in record["counts"].items()}
    elif isinstance(record.get("boxes"), list):
        counts = {}
        for box in boxes:
            counts[box.label] = counts.get(box.label, 0) + (not box.cut)
    else:
        raise SarclipError(f"{path}: line {number}: a record needs 'counts' or 'boxes'")
    return Annotated(resolve_image(record["filepath"], Path(path)), tuple(boxes), counts)


def target_class(query: str, target: str | None, items: list[Annotated], vocabulary: Vocabulary) -> str:
    """The class whose boxes are the truth for a query: --target, else the query's own class, else the only class."""
    present = {vocabulary.canonical(box.label) for item in items for box in item.boxes}
    if target:
        wanted = vocabulary.canonical(target)
        if wanted not in present:
            raise SarclipError(f"--target {target!r}: no box of that class in the data (classes: {', '.join(sorted(present))})")
        return wanted
    asked = vocabulary.canonical(query.split(";")[0].strip())
    if asked in present:
        return asked
    if len(present) == 1:
        return next(iter(present))
    raise SarclipError(f"the query {query!r} is not one of the data's classes ({', '.join(sorted(present))}); "
                       "say which boxes count with --target")


def boxes_of(item: Annotated, label: str, vocabulary: Vocabulary) -> list[Box]:
    """The boxes of an annotated image whose label is `label` (class names compared through the vocabulary)."""
    return [box for box in item.boxes if vocabulary.canonical(box.label) == label]


def box_tuples(boxes: Sequence[Box]) -> list[tuple[float, float, float, float]]:
    """(xmin, ymin, xmax, ymax) of each box, as the metrics take them."""
    return [(b.xmin, b.ymin, b.xmax, b.ymax) for b in boxes]
