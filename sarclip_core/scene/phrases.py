"""What a user typed, as phrases and labels: plain text rules with no model, so they are checked before it loads."""

from __future__ import annotations

from ..errors import SarclipError


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
