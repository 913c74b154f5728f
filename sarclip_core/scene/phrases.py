"""What a user typed, as phrases and labels: plain text rules with no model, so they are checked before it loads."""

from __future__ import annotations

from ..errors import SarclipError

BACKGROUND_WORDS = {"background", "clutter", "empty", "nothing", "none"}


def parse_labels(labels: str | list[str]) -> list[str]:
    """Label names from "a, b, c" or a list; empty names dropped, duplicates refused."""
    names = [part.strip() for part in (labels.split(",") if isinstance(labels, str) else labels)]
    names = [name for name in names if name]
    if not names:
        raise SarclipError("the label set is empty; give labels such as \"T72, BMP2, clutter\"")
    seen = {name.lower() for name in names}
    if len(seen) != len(names):
        raise SarclipError(f"the label set repeats a label: {', '.join(names)}")
    return names


def parse_query(query: str) -> list[str]:
    """The phrases of a query: one phrase, or several separated by ';' (their embeddings are averaged)."""
    phrases = [part.strip() for part in (query or "").split(";") if part.strip()]
    if not phrases:
        raise SarclipError("the query is empty; type what to look for, e.g. \"ship\" or \"tank; armoured vehicle\"")
    return phrases


def has_background(labels: list[str]) -> bool:
    """True when a label names plain background (clutter, background, empty...)."""
    return any(label.lower() in BACKGROUND_WORDS for label in labels)


def label_map_labels(labels: str | list[str]) -> list[str]:
    """The labels of a label map: at least two, so that each place has a choice."""
    names = parse_labels(labels)
    if len(names) < 2:
        raise SarclipError(f"a label map needs at least two labels, got only '{names[0]}'; add a contrast "
                           "such as 'clutter', or run a text query for one class")
    return names


def counted_labels(labels: str | list[str]) -> list[str]:
    """The labels that can be counted: all but the plain-background ones, of which at least one must remain."""
    names = parse_labels(labels)
    counted = [name for name in names if not has_background([name])]
    if not counted:
        raise SarclipError(f"nothing to count: {', '.join(names)} only describe background")
    return counted
