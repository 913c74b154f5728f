"""Boxes -> several diverse, true captions per image: counts, class words, position, size, relations, context."""

from __future__ import annotations

import random
from itertools import permutations
from typing import Any, Callable

from .boxes import Box, ImageRecord, grid_cell, relation, size_class
from .numbers import number_word, vague_word
from .scenery import SETTINGS, background_noun, background_of, bare_captions, cut_edge, shares
from .vocabulary import Vocabulary, article, plural

POSITIONS = {
    (0, 0): ("in the upper-left corner", "at the top left of the image"),
    (0, 1): ("near the top edge", "at the top centre of the image"),
    (0, 2): ("in the upper-right corner", "at the top right of the image"),
    (1, 0): ("on the left side", "near the left edge of the image"),
    (1, 1): ("near the centre", "in the middle of the image"),
    (1, 2): ("on the right side", "near the right edge of the image"),
    (2, 0): ("in the lower-left corner", "at the bottom left of the image"),
    (2, 1): ("near the bottom edge", "at the bottom centre of the image"),
    (2, 2): ("in the lower-right corner", "at the bottom right of the image"),
}
SIZES = {"small": ("small", "tiny-looking"), "medium": ("medium-sized",), "large": ("large", "big")}
RELATIONS = {"left of": "to the left of", "right of": "to the right of", "above": "above", "below": "below"}
EMPTY = (
    "no targets are visible in this SAR image",
    "an empty SAR scene showing only background clutter",
    "there are no objects in this SAR image",
    "a SAR image of clutter without any target",
    "nothing but clutter in this SAR image",
)
IMAGE_WORDS = ("a SAR image of", "a radar image of", "SAR imagery showing", "this SAR image shows")


class Captioner:
    """Makes the caption pool for one image and draws a deterministic sample of it (per seed and file)."""

    def __init__(self, vocabulary: Vocabulary, seed: int = 0):
        self.vocabulary = vocabulary
        self.seed = seed

    def captions(self, record: ImageRecord, count: int) -> list[str]:
        """Count distinct captions (fewer if the image allows fewer), the same for the same seed and file."""
        rng = random.Random(f"{self.seed}:{record.filepath}")
        known_background = background_of(record.context) is not None
        if not record.boxes and not known_background:
            return rng.sample(EMPTY, min(count, len(EMPTY)))
        scene = _Scene(record, self.vocabulary, rng)
        makers: list[Callable[[], list[str]]] = [scene.cut_parts]
        if scene.boxes:
            makers = [scene.counts, scene.totals, scene.positions, scene.sizes, scene.relations, scene.descriptions,
                      scene.context, scene.ais, scene.surroundings, scene.settings, scene.cut_parts]
        elif known_background:
            makers.append(lambda: bare_captions(record.context, self.vocabulary, rng, deny=not scene.cut))
        pool = list(dict.fromkeys(text for make in makers for text in make()))
        picked = rng.sample(pool, min(count, len(pool)))
        return [_sentence_case(text) for text in picked]


def _sentence_case(text: str) -> str:
    return text[0].upper() + text[1:] if text and text[0].islower() else text


class _Scene:
    """One image's objects seen through the vocabulary, with the words that are safe to use for each class."""

    def __init__(self, record: ImageRecord, vocabulary: Vocabulary, rng: random.Random):
        self.record, self.vocabulary, self.rng = record, vocabulary, rng
        # Whole objects are counted and placed; objects cut by a window's edge are only mentioned as parts.
        self.boxes = [b for b in record.boxes if not b.cut]
        self.cut = [b for b in record.boxes if b.cut]
        # Labels are counted by vocabulary class, so "Other Type" and "ship" are one kind of object.
        self.counts_by_class: dict[str, int] = {}
        for box in self.boxes:
            self.counts_by_class[self.key(box)] = self.counts_by_class.get(self.key(box), 0) + 1
        self.words = {self.key(box): vocabulary.words(box.label) for box in self.boxes + self.cut}
        shared = self._shared_terms()
        # A word shared by two present classes (tank: T62 and T72) would make a count wrong, so each
        # class is named only by the words that are its own in this image.
        self.terms = {label: [t for t in w.terms if t.lower() not in shared] or [w.names[0]]
                      for label, w in self.words.items()}

    def key(self, box: Box) -> str:
        return self.vocabulary.canonical(box.label)

    def _shared_terms(self) -> set[str]:
        """Terms (names, synonyms, hypernyms) that more than one present class could be called."""
        seen: dict[str, set[str]] = {}
        for label, words in self.words.items():
            for term in words.terms + self.vocabulary.hypernym_names(words.hypernym):
                seen.setdefault(term.lower(), set()).add(label)
        return {term for term, labels in seen.items() if len(labels) > 1}

    # --- naming -------------------------------------------------------------------------------------

    def noun(self, label: str) -> str:
        """A singular noun phrase for the class: a name, a plain synonym, or "name synonym"."""
        words, terms = self.words[label], self.terms[label]
        names = [t for t in terms if t in words.names]
        synonyms = [t for t in terms if t in words.synonyms]
        choices = list(terms)
        # "T-72 main battle tank" reads well; "cargo ship freighter" does not: only designations combine.
        names = [n for n in names if any(ch.isdigit() for ch in n)]
        if names and synonyms:
            choices.append(f"{self.rng.choice(names)} {self.rng.choice(synonyms)}")
        return self.rng.choice(choices)

    def counted(self, label: str, n: int) -> str:
        """N objects of a class in words, digits or "several"/"many" (only where that is true)."""
        noun = self.noun(label)
        if n == 1:
            return self.rng.choice([article(noun), f"one {noun}"])
        styles = [number_word(n), str(n)]
        if vague_word(n):
            styles.append(vague_word(n))
        return f"{self.rng.choice(styles)} {plural(noun)}"

    def class_list(self) -> str:
        parts = [self.counted(label, n) for label, n in sorted(self.counts_by_class.items())]
        self.rng.shuffle(parts)
        return parts[0] if len(parts) == 1 else ", ".join(parts[:-1]) + " and " + parts[-1]

    # --- caption kinds ------------------------------------------------------------------------------

    def counts(self) -> list[str]:
        listing = [self.class_list() for _ in range(3)]
        total = len(self.boxes)
        verb = "is" if total == 1 else "are"
        return [f"{self.rng.choice(IMAGE_WORDS)} {listing[0]}", f"{listing[1]} in a SAR image",
                f"there {verb} {listing[2]} in this SAR image"]

    def totals(self) -> list[str]:
        """The total count, and per hypernym ("five vehicles") when all objects share one."""
        total = len(self.boxes)
        number = self.rng.choice([number_word(total), str(total)] + ([vague_word(total)] if vague_word(total) else []))
        out = [f"a SAR scene with {number} target{'s' if total != 1 else ''}"]
        hypernyms = {self.words[label].hypernym for label in self.counts_by_class}
        if len(hypernyms) == 1:
            name = self.rng.choice(self.vocabulary.hypernym_names(hypernyms.pop()))
            out.append(f"{number} {plural(name)} in total" if total > 1 else f"one {name} seen by radar")
        return out

    def positions(self) -> list[str]:
        out = []
        for box in self._some_boxes(3):
            where = self.rng.choice(POSITIONS[self._cell(box)])
            out.append(f"{article(self.noun(self.key(box)))} {where}")
        return out

    def sizes(self) -> list[str]:
        out = []
        for box in self._some_boxes(2):
            if box.exact:
                size = self.rng.choice(SIZES[size_class(box, self.record.width, self.record.height)])
                where = self.rng.choice(POSITIONS[self._cell(box)])
                out.append(f"{article(size + ' ' + self.noun(self.key(box)))} {where}")
        return out

    def relations(self) -> list[str]:
        """"a tanker to the left of two cargo ships": one object against every object of another class."""
        out = []
        singles = [label for label, n in self.counts_by_class.items() if n == 1]
        for a_label, b_label in permutations(sorted(self.counts_by_class), 2):
            if a_label not in singles:
                continue
            a = next(b for b in self.boxes if self.key(b) == a_label)
            others = [b for b in self.boxes if self.key(b) == b_label]
            kinds = {relation(a, b) for b in others}
            if len(kinds) == 1 and None not in kinds:
                out.append(f"{article(self.noun(a_label))} {RELATIONS[kinds.pop()]} "
                           f"{self.counted(b_label, len(others))}")
        self.rng.shuffle(out)
        return out[:3]

    def descriptions(self) -> list[str]:
        out = []
        for label in sorted(self.counts_by_class):
            description = self.words[label].description
            if description:
                name = self.rng.choice(self.words[label].names)
                out.append(f"{article(name)}, {description}, in a SAR image" if self.counts_by_class[label] == 1
                           else f"{self.counted(label, self.counts_by_class[label])}; each is {description}")
        return out

    def context(self) -> list[str]:
        phrase = context_phrase(self.record.context, self.rng)
        if not phrase:
            return []
        return [f"{phrase} showing {self.class_list()}", f"{self.class_list()} in {phrase}"]

    def ais(self) -> list[str]:
        out = []
        for box in self.boxes[:2]:
            facts = _ais_facts(box.attributes)
            if facts:
                out.append(f"{article(self.noun(self.key(box)))} " + " and ".join(self.rng.sample(facts, min(2, len(facts)))))
            detail = box.attributes.get("type_detail")
            if detail and self.vocabulary.canonical(detail) != self.key(box):
                known = self.vocabulary.classes.get(self.vocabulary.canonical(detail))
                detail = known.names[0] if known else detail.lower()
                out.append(f"{article(detail)}, {article(self.noun(self.key(box)))} seen by Sentinel-1")
        return out

    def surroundings(self) -> list[str]:
        """"a harbour with three ships", "two ships in open sea" when the background is known."""
        background = background_of(self.record.context)
        if background is None:
            return []
        noun = background_noun(self.record.context, self.vocabulary, self.rng)
        out = [f"{noun} with {self.class_list()}", f"{self.class_list()} {self.rng.choice(background.places)}"]
        out += [f"{self.class_list()}, {phrase}" for phrase in shares(self.record.context)]
        return out

    def settings(self) -> list[str]:
        """Where the ships lie: "two ships moored along a quay", "three ships, one of them in open sea",
        "a ship in open sea near the top edge"; every count said is the image's total or "N of them"."""
        by_setting: dict[str, int] = {}
        for box in self.boxes:
            setting = box.attributes.get("setting")
            if setting in SETTINGS:
                by_setting[setting] = by_setting.get(setting, 0) + 1
        if not by_setting:
            return []
        out = []
        for setting, n in sorted(by_setting.items()):
            share = "" if n == len(self.boxes) else f", {number_word(n)} of them"
            out.append(f"{self.class_list()}{share} {self.rng.choice(SETTINGS[setting])}")
        for box in self._some_boxes(2):
            if box.attributes.get("setting") in SETTINGS:
                out.append(f"{article(self.noun(self.key(box)))} {self.rng.choice(SETTINGS[box.attributes['setting']])} "
                           f"{self.rng.choice(POSITIONS[self._cell(box)])}")
        return out

    def cut_parts(self) -> list[str]:
        """"part of a ship at the left edge", with the background when known ("open sea and part of a ship...")."""
        out = []
        for box in self.cut[:2]:
            part = f"part of {article(self.noun(self.key(box)))} at {cut_edge(box, self.record.width, self.record.height)}"
            out.append(part)
            if background_of(self.record.context) is not None:
                out.append(f"{background_noun(self.record.context, self.vocabulary, self.rng)} with {part}")
        return out

    def _some_boxes(self, k: int) -> list[Box]:
        boxes = list(self.boxes)
        self.rng.shuffle(boxes)
        return boxes[:k]

    def _cell(self, box: Box) -> tuple[int, int]:
        return grid_cell(box, self.record.width, self.record.height)


def _ais_facts(attributes: dict[str, Any]) -> list[str]:
    facts = []
    if "length_m" in attributes:
        size = f"about {attributes['length_m']} m long"
        if "width_m" in attributes:
            size += f" and {attributes['width_m']} m wide"
        facts.append(size)
    if "heading_deg" in attributes:
        facts.append(f"heading {attributes['heading_deg']} degrees")
    if "speed_kn" in attributes:
        speed = attributes["speed_kn"]
        facts.append("lying still" if speed < 0.5 else f"moving at {speed:g} knots")
    return facts


def context_phrase(context: dict[str, Any], rng: random.Random) -> str:
    """"an X-band spotlight SAR image at 0.3 m resolution ..." from whatever context is known."""
    parts = []
    if context.get("sensor"):
        parts.append(str(context["sensor"]))
    if context.get("band"):
        parts.append(f"{context['band']}-band")
    if context.get("polarisation"):
        parts.append(str(context["polarisation"]))
    if context.get("mode"):
        parts.append(str(context["mode"]))
    if not parts and not any(k in context for k in ("resolution_m", "incidence_deg", "depression_deg")):
        return ""
    text = article(" ".join(parts + ["SAR image"]))
    extras = []
    if "resolution_m" in context:
        extras.append(f"{context['resolution_m']:g} m resolution")
    if "incidence_deg" in context:
        extras.append(f"{context['incidence_deg']:g} degrees incidence")
    if "depression_deg" in context:
        extras.append(f"{context['depression_deg']:g} degrees depression")
    if extras:
        text += " at " + " and ".join(rng.sample(extras, rng.randint(1, len(extras))))
    return text
