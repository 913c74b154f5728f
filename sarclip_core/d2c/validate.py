"""Class maps and box validation shared by all readers: names for labels, clipping, problems report."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from ..errors import SarclipError
from .boxes import Box, ImageRecord, clip_box, is_degenerate


class AnnotationError(SarclipError):
    """An annotation file cannot be understood; the message names the file and the element or line."""

    def __init__(self, path: str | Path, where: str, problem: str):
        super().__init__(f"{path}: {where}: {problem}" if where else f"{path}: {problem}")


@dataclass
class Problems:
    """Everything found wrong while reading, in order; --strict turns any of it into a stop."""

    items: list[str] = field(default_factory=list)

    def add(self, message: str) -> None:
        self.items.append(message)

    def __len__(self) -> int:
        return len(self.items)


def parse_classes(spec: str | None) -> dict[str, str]:
    """A class map from "0=2S1,1=BMP2" or from a file (lines "0=2S1", "0 2S1", or one name per line)."""
    if not spec:
        return {}
    path = Path(spec)
    if path.is_file():
        lines = [ln.strip() for ln in path.read_text(encoding="utf-8").splitlines()]
        lines = [ln for ln in lines if ln and not ln.startswith("#")]
        if all("=" not in ln and " " not in ln for ln in lines):
            return {str(i): name for i, name in enumerate(lines)}  # YOLO classes.txt: line index is the id
        pairs = [ln.replace("=", " ", 1).split(None, 1) for ln in lines]
        source = str(path)
    else:
        pairs = [item.split("=", 1) for item in spec.split(",") if item.strip()]
        source = "--classes"
    out: dict[str, str] = {}
    for number, pair in enumerate(pairs, 1):
        if len(pair) != 2 or not pair[0].strip() or not pair[1].strip():
            raise SarclipError(f"{source}: entry {number} is not 'id=name' ({'='.join(pair)!r})")
        out[pair[0].strip()] = pair[1].strip()
    return out


def class_name(raw: str, classes: dict[str, str], where: str, problems: Problems) -> str | None:
    """The class name for a dataset label, or None (reported) when the label is unknown."""
    raw = raw.strip()
    if raw in classes:
        return classes[raw]
    if classes and raw not in classes.values():
        problems.add(f"{where}: unknown class {raw!r} (not in the class map), object dropped")
        return None
    if not classes and raw.lstrip("-").isdigit():
        problems.add(f"{where}: class {raw} has no name (give --classes), object dropped")
        return None
    return raw


def checked(record: ImageRecord, where: str, problems: Problems) -> ImageRecord:
    """The record with boxes clipped to the image and degenerate boxes dropped, each reported."""
    kept: list[Box] = []
    for number, box in enumerate(record.boxes, 1):
        clipped = clip_box(box, record.width, record.height)
        if is_degenerate(clipped):
            problems.add(f"{where}: object {number} ({box.label}) is degenerate or outside the image, dropped")
            continue
        if (clipped.xmin, clipped.ymin, clipped.xmax, clipped.ymax) != (box.xmin, box.ymin, box.xmax, box.ymax):
            problems.add(f"{where}: object {number} ({box.label}) reaches outside the "
                         f"{record.width}x{record.height} image, clipped")
        kept.append(clipped)
    record.boxes = kept
    return record
