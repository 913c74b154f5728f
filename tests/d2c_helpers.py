"""Shared helpers for the D2C tests: tiny images and a caption checker that parses counts and class words."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
from PIL import Image

from sarclip_core.d2c.vocabulary import Vocabulary, plural

UNITS = "zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen fifteen " \
        "sixteen seventeen eighteen nineteen".split()
TENS = {"twenty": 20, "thirty": 30, "forty": 40, "fifty": 50, "sixty": 60, "seventy": 70, "eighty": 80, "ninety": 90}
UNIT_WORDS = r"(?:m\b|metres|degrees|knots)"


def write_image(path: Path, width: int = 100, height: int = 80) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(np.random.default_rng(0).integers(0, 255, (height, width), dtype=np.uint8)).save(path)
    return path


def parse_number(text: str) -> int | None:
    text = text.lower()
    if text.isdigit():
        return int(text)
    if text in UNITS:
        return UNITS.index(text)
    head, _, tail = text.partition("-")
    if head in TENS and (not tail or tail in UNITS[1:10]):
        return TENS[head] + (UNITS.index(tail) if tail else 0)
    return None


def term_classes(vocab: Vocabulary, labels: list[str]) -> dict[str, set[str]]:
    """Every word a caption may use (singular and plural) -> the present classes it can refer to."""
    out: dict[str, set[str]] = {}
    for key, words in vocab.classes.items():
        for term in words.terms + vocab.hypernym_names(words.hypernym):
            out.setdefault(term.lower(), set()).add(key)
    for term in ("target", "object"):
        out[term] = set(vocab.classes)
    for term in list(out):
        out[plural(term)] = out[term]
    return out


def check_caption(caption: str, record: dict, vocab: Vocabulary) -> list[str]:
    """Disagreements between one caption and the record's truth: wrong counts, absent classes."""
    counts: dict[str, int] = {}
    for label, n in record["counts"].items():
        counts[vocab.canonical(label)] = counts.get(vocab.canonical(label), 0) + n
    terms = term_classes(vocab, list(counts))
    text = caption.lower()
    for box in record["boxes"]:
        detail = box.get("attributes", {}).get("type_detail")
        if detail:  # the AIS type names itself ("Vehicles Carrier"); it is truth, not a class word
            text = text.replace(detail.lower(), "")
    if not counts:  # "no targets are visible" names a class word only to deny it
        text = re.sub(r"\b(no|without any) (targets?|objects?)\b", "", text)
    errors = []
    alternation = "|".join(re.escape(t) for t in sorted(terms, key=len, reverse=True))
    for match in re.finditer(rf"(?<![\w-])({alternation})(?![\w-])", text):
        if not counts:
            errors.append(f"names {match.group(1)!r} in an empty image")
        elif not terms[match.group(1)] & set(counts):
            errors.append(f"names {match.group(1)!r}, absent from {counts}")
    number = r"(\d+|[a-z]+(?:-[a-z]+)?|several|many)"
    for match in re.finditer(rf"(?<![\w.-]){number}\s+((?:[\w-]+\s+){{0,2}}?)({alternation})(?![\w-])", text):
        word, term = match.group(1), match.group(3)
        if re.match(UNIT_WORDS, match.group(2) + term):
            continue
        expected = sum(n for k, n in counts.items() if k in terms[term])
        value = parse_number(word)
        if word == "several":
            ok = 3 <= expected <= 9
        elif word == "many":
            ok = expected >= 10
        elif value is None:
            continue
        else:
            ok = value == expected
        if not ok:
            errors.append(f"says {word!r} {term!r}, truth {expected}")
    if not counts and re.search(r"\d", text):
        errors.append("a number in an empty image")
    return errors
