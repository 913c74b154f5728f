"""Class vocabulary for captions: names, plain-word synonyms, hypernyms and descriptions, loaded from data."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

from ..errors import SarclipError
from ..package_data import resource

DEFAULT_VOCABULARY = resource("vocabulary.json")
ACRONYM_AN = set("FHLMNRSX")


@dataclass(frozen=True)
class ClassWords:
    """The words a caption may use for one class."""

    key: str
    names: tuple[str, ...]
    synonyms: tuple[str, ...]
    hypernym: str
    description: str

    @property
    def terms(self) -> tuple[str, ...]:
        return self.names + self.synonyms


@dataclass(frozen=True)
class Vocabulary:
    """All classes, hypernyms and backgrounds; unknown labels get a plain entry built from the label itself.

    Backgrounds (open sea, harbour, river, clutter...) are what lies around objects: captions name them,
    never count them, so they are kept apart from the object classes.
    """

    classes: dict[str, ClassWords]
    hypernyms: dict[str, tuple[str, ...]]
    aliases: dict[str, str]
    backgrounds: dict[str, ClassWords] = field(default_factory=dict)

    def canonical(self, label: str) -> str:
        """The vocabulary key for a dataset label (exact key, alias, or case-insensitive match)."""
        if label in self.classes:
            return label
        folded = label.strip().lower()
        for key in self.classes:
            if key.lower() == folded:
                return key
        for alias, key in self.aliases.items():
            if alias.lower() == folded:
                return key
        return label

    def words(self, label: str) -> ClassWords:
        """Words for a label; a label missing from the vocabulary is described by its own name."""
        key = self.canonical(label)
        if key in self.classes:
            return self.classes[key]
        if key in self.backgrounds:
            return self.backgrounds[key]
        return ClassWords(key, (key,), (), "object", "")

    def hypernym_names(self, hypernym: str) -> tuple[str, ...]:
        return self.hypernyms.get(hypernym, (hypernym,))


def article(noun: str) -> str:
    """"a" or "an" for a noun phrase, including acronyms such as "an IFV"."""
    word = noun.split()[0]
    if word[0].lower() in "aeiou" or (word.split("-")[0].isupper() and word[0] in ACRONYM_AN):
        return f"an {noun}"
    return f"a {noun}"


def plural(noun: str) -> str:
    """English plural of a noun phrase (its last word), enough for vehicle and ship names."""
    if noun.endswith(("s", "x", "ch", "sh")):
        return noun + "es"
    if noun.endswith("y") and noun[-2:-1] not in "aeiou":
        return noun[:-1] + "ies"
    return noun + "s"


@lru_cache(maxsize=8)
def load_vocabulary(path: str | Path = DEFAULT_VOCABULARY) -> Vocabulary:
    """Read a vocabulary JSON file; a malformed file is a SarclipError naming the file and entry."""
    path = Path(path)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise SarclipError(f"{path}: vocabulary file not found") from None
    except json.JSONDecodeError as exc:
        raise SarclipError(f"{path}: not valid JSON at line {exc.lineno}, column {exc.colno} ({exc.msg})") from None
    hypernyms = {k: tuple(v["names"]) for k, v in data.get("hypernyms", {}).items()}
    return Vocabulary(_entries(data, "classes", path), hypernyms, dict(data.get("aliases", {})),
                      _entries(data, "backgrounds", path))


def _entries(data: dict, section: str, path: Path) -> dict[str, ClassWords]:
    """The entries of one section (classes or backgrounds), each with names, synonyms, hypernym, description."""
    out: dict[str, ClassWords] = {}
    for key, entry in data.get(section, {}).items():
        try:
            out[key] = ClassWords(key, tuple(entry["names"]), tuple(entry.get("synonyms", ())),
                                  entry["hypernym"], entry.get("description", ""))
        except (KeyError, TypeError) as exc:
            raise SarclipError(f"{path}: {section} entry '{key}' lacks {exc} (needs names and hypernym)") from None
    return out
