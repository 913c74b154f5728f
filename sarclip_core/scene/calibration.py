"""Calibrated map scores: a cell's cosine similarities turned into a probability with the same meaning on every scene.

Raw CLIP cosines have no fixed scale, so a min-max stretched map always shows a hot spot, even for
"ship" on an inland scene. Here a query competes with a fixed set of background classes (clutter, sea,
land...): the probability that a cell shows the query rather than any background is

    softmax(T * [cos(cell, query) + b, cos(cell, bg_1), ..., cos(cell, bg_K)])[0]

with a temperature T and a bias b fitted on training windows (checkpoint.calibration; without them
T is the model's own logit scale and b = 0). A background that is the query itself, a synonym, its
hypernym or one of its kinds is left out, so "water" never competes with "sea". The trainer fits T
and b with `query_probability` and `BACKGROUNDS`, the engine maps with them: both agree by construction.
Pure numpy (plus the vocabulary), so fitting code can call it on any arrays.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Mapping, Sequence

import numpy as np

from ..d2c.vocabulary import DEFAULT_VOCABULARY, ClassWords, Vocabulary, load_vocabulary

# The background classes every query competes with (keys of the vocabulary's "backgrounds" section).
BACKGROUNDS = ("clutter", "sea", "water", "land", "coastline", "harbour", "urban")
DEFAULT_PEAK_THRESHOLD = 0.5  # a peak: the label is more likely than all its alternatives together
CLASS_THRESHOLD = "peak_threshold."  # calibration keys of per-class peak thresholds


@dataclass(frozen=True)
class Calibration:
    """How a model's similarities become probabilities: temperature T, bias b, and the peak threshold p.

    `class_thresholds` are peak thresholds fitted for single classes (calibration keys
    "peak_threshold.<class>", e.g. "peak_threshold.ship"); other queries use p.
    """

    temperature: float
    bias: float = 0.0
    peak_threshold: float = DEFAULT_PEAK_THRESHOLD
    class_thresholds: Mapping[str, float] = field(default_factory=dict)

    @classmethod
    def read(cls, values: Mapping[str, float], default_temperature: float) -> "Calibration":
        """From a checkpoint's calibration dict; absent keys: the model's logit scale, no bias, p = 0.5."""
        classes = {key.removeprefix(CLASS_THRESHOLD): float(value) for key, value in values.items()
                   if key.startswith(CLASS_THRESHOLD)}
        return cls(float(values.get("temperature", default_temperature)), float(values.get("bias", 0.0)),
                   float(values.get("peak_threshold", DEFAULT_PEAK_THRESHOLD)), classes)

    def threshold_for(self, phrases: Sequence[str], vocabulary: Vocabulary | None = None) -> float:
        """The peak threshold of a query: its class's own when it names one fitted class, else p."""
        vocabulary = vocabulary or load_vocabulary(DEFAULT_VOCABULARY)
        fitted = {self.class_thresholds.get(vocabulary.canonical(phrase)) for phrase in phrases}
        return fitted.pop() if len(fitted) == 1 and None not in fitted else self.peak_threshold


def softmax(logits: np.ndarray) -> np.ndarray:
    """Softmax over the last axis; a row holding NaN (no data) stays NaN."""
    logits = np.asarray(logits, dtype=np.float64)
    exp = np.exp(logits - logits.max(axis=-1, keepdims=True))
    return exp / exp.sum(axis=-1, keepdims=True)


def label_probabilities(labels: np.ndarray, backgrounds: np.ndarray, temperature: float, bias: float) -> np.ndarray:
    """(n, L) probability of each of L labels against each other and K backgrounds.

    labels: (n, L) cosine similarities to the labels (each gets the bias); backgrounds: (n, K), K may be 0.
    """
    logits = np.concatenate([np.asarray(labels, np.float64) + bias, np.asarray(backgrounds, np.float64)], axis=1)
    return softmax(temperature * logits)[:, :np.shape(labels)[1]]


def query_probability(similarities_query: np.ndarray, similarities_backgrounds: np.ndarray, temperature: float,
                      bias: float) -> np.ndarray:
    """(n,) probability that each of n cells shows the query rather than any background.

    similarities_query: (n,) cosine similarity of each cell (or window) with the query's text embedding;
    similarities_backgrounds: (n, K) cosine similarities with the K background classes'
    (`backgrounds_for(query)` embedded by scene.prompts.embed); temperature T > 0 and bias b as fitted.
    Returns softmax(T * [s_q + b, s_1, ..., s_K])[0] per row; NaN rows (no data) stay NaN.
    """
    query = np.asarray(similarities_query)[:, None]
    return label_probabilities(query, similarities_backgrounds, temperature, bias)[:, 0]


def backgrounds_for(labels: Sequence[str], vocabulary: Vocabulary | None = None) -> list[str]:
    """BACKGROUNDS minus any that names one of `labels`: the label itself, a synonym, its hypernym or a kind of it."""
    vocabulary = vocabulary or load_vocabulary(DEFAULT_VOCABULARY)
    return [bg for bg in BACKGROUNDS if not any(_same_thing(label, bg, vocabulary) for label in labels)]


def _entry(label: str, vocabulary: Vocabulary) -> ClassWords:
    """The vocabulary's words for a label, a background named by one of its synonyms included ("port" = harbour)."""
    folded = label.strip().lower()
    named = [words for words in vocabulary.backgrounds.values() if folded in {t.lower() for t in words.terms}]
    return named[0] if named and vocabulary.canonical(label) not in vocabulary.classes else vocabulary.words(label)


def _same_thing(label: str, background: str, vocabulary: Vocabulary) -> bool:
    query, other = _entry(label, vocabulary), vocabulary.words(background)
    terms = {t.lower() for t in (label, query.key, *query.terms)}
    return bool(terms & {t.lower() for t in (other.key, *other.terms)}) or other.hypernym.lower() in terms \
        or query.hypernym.lower() == other.key.lower()
