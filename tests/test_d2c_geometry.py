"""Property tests for D2C box geometry: clipping, 3x3 grid cell, size class, relations."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from sarclip_core.d2c.boxes import (
    Box,
    clip_box,
    from_polygon,
    grid_cell,
    is_degenerate,
    relation,
    size_class,
)

coord = st.floats(-500, 1500, allow_nan=False)
side = st.integers(1, 1000)


@st.composite
def boxes(draw):
    x0, y0, x1, y1 = draw(coord), draw(coord), draw(coord), draw(coord)
    return Box("T72", min(x0, x1), min(y0, y1), max(x0, x1), max(y0, y1))


@given(boxes(), side, side)
def test_clipped_box_lies_inside_and_inside_box(box: Box, width: int, height: int) -> None:
    clipped = clip_box(box, width, height)
    assert 0 <= clipped.xmin <= clipped.xmax <= width and 0 <= clipped.ymin <= clipped.ymax <= height
    assert clipped.area <= box.area + 1e-6
    assert clip_box(clipped, width, height) == clipped


@given(boxes(), side, side)
def test_grid_cell_is_within_3x3_and_matches_centre(box: Box, width: int, height: int) -> None:
    clipped = clip_box(box, width, height)
    row, col = grid_cell(clipped, width, height)
    assert 0 <= row <= 2 and 0 <= col <= 2
    cx, cy = clipped.centre
    assert col * width / 3 <= cx + 1e-9 and (cx < (col + 1) * width / 3 or col == 2)
    assert row * height / 3 <= cy + 1e-9 and (cy < (row + 1) * height / 3 or row == 2)


@given(boxes(), boxes())
def test_relations_are_antisymmetric(a: Box, b: Box) -> None:
    opposite = {"left of": "right of", "right of": "left of", "above": "below", "below": "above", None: None}
    assert relation(b, a) == opposite[relation(a, b)]


@given(boxes(), side, side)
def test_size_class_grows_with_area(box: Box, width: int, height: int) -> None:
    order = ["small", "medium", "large"]
    bigger = Box(box.label, box.xmin, box.ymin, box.xmax + 10, box.ymax + 10)
    assert order.index(size_class(bigger, width, height)) >= order.index(size_class(box, width, height))


@given(st.lists(st.tuples(coord, coord), min_size=4, max_size=4))
def test_axis_box_of_polygon_contains_every_corner(points) -> None:
    box = from_polygon("ship", points)
    assert all(box.xmin <= x <= box.xmax and box.ymin <= y <= box.ymax for x, y in points)


def test_degenerate_boxes() -> None:
    assert is_degenerate(Box("x", 5, 5, 5, 40)) and is_degenerate(Box("x", 5, 5, 2, 9))
    assert not is_degenerate(Box("x", 5, 5, 6, 6))
