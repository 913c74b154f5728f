"""Words for what surrounds objects: the background (sea, coast, harbour, water, clutter), a ship's setting,
the edge where a window cuts an object, and water or land shares, as caption phrases.

The background nouns come from the vocabulary's "backgrounds" section; this module holds the grammar
around them (articles, prepositions) and which objects a background lets a caption deny ("no ships").
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from typing import Any

from .boxes import Box
from .vocabulary import Vocabulary, article, plural


@dataclass(frozen=True)
class Background:
    """How captions speak of one background kind."""

    countable: bool  # "a harbour", but "open sea"
    places: tuple[str, ...]  # "three ships {place}"
    absent: str = ""  # hypernym of the objects whose absence the annotation guarantees here ("" = none)
    tails: tuple[str, ...] = ("",)  # what follows the noun when the background stands alone


BACKGROUNDS = {
    "open sea": Background(False, ("in open sea", "on the open sea", "far out at sea"), "ship"),
    "coastline": Background(True, ("along a coastline", "off a coast", "near the shore"), "ship"),
    "harbour": Background(True, ("in a harbour", "in a port"), "ship"),
    "land": Background(False, ("by land", "beside a large land area"), "ship"),
    "clutter": Background(False, ("in ground clutter", "among background clutter"), "vehicle"),
    "open water": Background(False, ("on open water",), tails=("", " covering most of the image")),
    "river": Background(True, ("on a river",), tails=(" through dry land", " crossing the land")),
    "flooded fields": Background(False, ("among flooded fields",), tails=("", " among dry land")),
    "water patches": Background(False, ("among patches of water",), tails=(" on land", " in dry land")),
    "dry land": Background(False, ("on dry land",)),
}
SETTINGS = {
    "at a quay": ("moored along a quay", "moored at a quay", "berthed at a quay"),
    "in port": ("in a port", "inside a harbour"),
    "near the coast": ("near the coast", "close to the shore"),
    "open sea": ("in open sea", "on the open sea", "far from land"),
}
EDGES = {
    frozenset({"left"}): "the left edge", frozenset({"right"}): "the right edge",
    frozenset({"top"}): "the top edge", frozenset({"bottom"}): "the bottom edge",
    frozenset({"top", "left"}): "the upper-left corner", frozenset({"top", "right"}): "the upper-right corner",
    frozenset({"bottom", "left"}): "the lower-left corner", frozenset({"bottom", "right"}): "the lower-right corner",
}


def background_of(context: dict[str, Any]) -> Background | None:
    """The caption grammar of the record's background, None when it is unknown."""
    return BACKGROUNDS.get(context.get("background", ""))


def background_noun(context: dict[str, Any], vocabulary: Vocabulary, rng: random.Random) -> str:
    """A noun phrase for the record's background from the vocabulary: "a harbour", "open sea", "flooded fields"."""
    kind = context["background"]
    term = rng.choice(vocabulary.words(kind).terms)
    if BACKGROUNDS[kind].countable and not term.startswith(("a ", "an ", "the ")):
        return article(term)
    return term


def share_phrase(share: float, what: str) -> str:
    """"about 30% water", "less than 10% land", "no water", "nearly all water" (shares rounded to tens)."""
    if share <= 0.0:
        return f"no {what}"
    if share < 0.1:
        return f"less than 10% {what}"
    if share >= 0.95:
        return f"nearly all {what}"
    return f"about {round(share * 10) * 10}% {what}"


def shares(context: dict[str, Any]) -> list[str]:
    """Share phrases the record's context supports (water share of a water mask, land share of a sea/land mask)."""
    return [share_phrase(context[key], what) for key, what in (("water_share", "water"), ("land_share", "land"))
            if key in context]


def bare_captions(context: dict[str, Any], vocabulary: Vocabulary, rng: random.Random, deny: bool) -> list[str]:
    """Captions of a background with no whole object in view: "open sea, no ships", "a river through dry land,
    about 10% water"; deny is False when part of an object is in view, so no caption says "no ships"."""
    kind = BACKGROUNDS[context["background"]]
    nouns = [background_noun(context, vocabulary, rng) + rng.choice(kind.tails) for _ in range(5)]
    out = [nouns[0], f"a SAR image of {nouns[1]}", f"this SAR image shows {nouns[4]}"]
    out += [text for phrase in shares(context) for text in (f"{nouns[2]}, {phrase}", f"{phrase}: {nouns[3]}")]
    if kind.absent and deny:
        absent = plural(rng.choice(vocabulary.hypernym_names(kind.absent)))
        out += [f"{nouns[3]}, no {absent}", f"{nouns[1]} without any {absent}", f"no {absent}, only {nouns[2]}"]
    return out


def cut_edge(box: Box, width: int, height: int) -> str:
    """Where a window cuts the box: "the left edge", "the upper-right corner", or "the edge"."""
    sides = {side for side, cut in (("left", box.xmin <= 0), ("right", box.xmax >= width),
                                    ("top", box.ymin <= 0), ("bottom", box.ymax >= height)) if cut}
    return EDGES.get(frozenset(sides), "the edge")
