"""Object boxes and image records, and the geometry captions talk about: clipping, grid cell, size, relations."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Sequence

Point = tuple[float, float]

SMALL_FRACTION = 0.01  # box area / image area below this is "small"
LARGE_FRACTION = 0.15  # at or above this is "large"


@dataclass(frozen=True)
class Box:
    """One object: class label, axis-aligned box in pixels (x right, y down) and its oriented polygon if any.

    exact is False when the box is only the chip the object sits in (classification data), so
    captions must not claim a size for it. cut is True when the box is only the part of an object that
    lies inside a window crop: captions speak of "part of a ship" and counts leave it out.
    """

    label: str
    xmin: float
    ymin: float
    xmax: float
    ymax: float
    polygon: tuple[Point, ...] | None = None
    exact: bool = True
    attributes: dict[str, Any] = field(default_factory=dict, compare=False)
    cut: bool = False

    @property
    def width(self) -> float:
        return self.xmax - self.xmin

    @property
    def height(self) -> float:
        return self.ymax - self.ymin

    @property
    def area(self) -> float:
        return max(0.0, self.width) * max(0.0, self.height)

    @property
    def centre(self) -> Point:
        return (self.xmin + self.xmax) / 2, (self.ymin + self.ymax) / 2

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"label": self.label, "bbox": [round(v, 2) for v in (self.xmin, self.ymin, self.xmax, self.ymax)]}
        if self.polygon is not None:
            out["polygon"] = [[round(x, 2), round(y, 2)] for x, y in self.polygon]
        if not self.exact:
            out["exact"] = False
        if self.cut:
            out["cut"] = True
        if self.attributes:
            out["attributes"] = self.attributes
        return out

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "Box":
        """The inverse of to_dict (a D2C records JSONL box); KeyError/TypeError/ValueError when malformed."""
        xmin, ymin, xmax, ymax = (float(v) for v in data["bbox"])
        polygon = tuple((float(x), float(y)) for x, y in data["polygon"]) if data.get("polygon") else None
        return cls(str(data["label"]), xmin, ymin, xmax, ymax, polygon, bool(data.get("exact", True)),
                   dict(data.get("attributes") or {}), cut=bool(data.get("cut", False)))


@dataclass
class ImageRecord:
    """One image and its structured truth: size, boxes, image-level context (sensor, band, angles...)."""

    filepath: str
    width: int
    height: int
    boxes: list[Box]
    context: dict[str, Any] = field(default_factory=dict)

    def counts(self) -> dict[str, int]:
        """Whole objects per label (cut objects at a window's edge are not counted)."""
        out: dict[str, int] = {}
        for box in self.boxes:
            if not box.cut:
                out[box.label] = out.get(box.label, 0) + 1
        return out


def from_polygon(label: str, points: Sequence[Point], **kwargs: Any) -> Box:
    """An axis-aligned box around an oriented polygon, keeping the polygon."""
    xs, ys = [p[0] for p in points], [p[1] for p in points]
    return Box(label, min(xs), min(ys), max(xs), max(ys), polygon=tuple((float(x), float(y)) for x, y in points), **kwargs)


def clip_box(box: Box, width: int, height: int) -> Box:
    """The box cut to the image rectangle [0, width] x [0, height] (the polygon is kept as given)."""
    return Box(box.label, min(max(box.xmin, 0.0), width), min(max(box.ymin, 0.0), height),
               min(max(box.xmax, 0.0), width), min(max(box.ymax, 0.0), height),
               box.polygon, box.exact, box.attributes, box.cut)


def is_degenerate(box: Box, min_size: float = 1.0) -> bool:
    """True for boxes too thin to hold an object (or inverted)."""
    return not (box.width >= min_size and box.height >= min_size)


def grid_cell(box: Box, width: int, height: int) -> tuple[int, int]:
    """(row, column) of the box centre on a 3x3 grid over the image, each in 0..2."""
    cx, cy = box.centre
    col = min(2, max(0, int(3 * cx / width))) if width > 0 else 1
    row = min(2, max(0, int(3 * cy / height))) if height > 0 else 1
    return row, col


def size_class(box: Box, width: int, height: int) -> str:
    """"small", "medium" or "large" by the share of the image the box covers."""
    fraction = box.area / max(1.0, float(width * height))
    if fraction < SMALL_FRACTION:
        return "small"
    return "large" if fraction >= LARGE_FRACTION else "medium"


def relation(a: Box, b: Box) -> str | None:
    """Where a lies relative to b along the dominant axis of their centres: left of, right of, above, below.

    None when the centres coincide (no honest relation can be said).
    """
    (ax, ay), (bx, by) = a.centre, b.centre
    dx, dy = ax - bx, ay - by
    if dx == 0 and dy == 0:
        return None
    if abs(dx) >= abs(dy):
        return "left of" if dx < 0 else "right of"
    return "above" if dy < 0 else "below"


def overlaps(a: Box, b: Box, margin: float = 0.0) -> bool:
    """True when the two boxes (grown by margin) intersect."""
    return not (a.xmax + margin <= b.xmin or b.xmax + margin <= a.xmin or
                a.ymax + margin <= b.ymin or b.ymax + margin <= a.ymin)
