"""The text side of every query: class names -> vocabulary phrases -> SAR prompt templates -> one embedding.

Shared by zero-shot evaluation, counting prompts and scene queries, so the analyst's query and the
measured accuracy use the same prompts. The templates open the way D2C training captions do.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Callable, Mapping, Sequence

import numpy as np

from ..d2c.captions import article
from ..d2c.vocabulary import DEFAULT_VOCABULARY, Vocabulary, load_vocabulary
from ..errors import SarclipError

if TYPE_CHECKING:
    from torch import nn

TEMPLATES = ("a SAR image of {}.", "a radar image of {}.", "SAR imagery showing {}.", "this SAR image shows {}.",
             "{} in a SAR image.")

TextEncoder = Callable[[Sequence[str]], np.ndarray]  # texts -> (N, D) unit embeddings


def parse_templates(spec: str | None) -> tuple[str, ...]:
    """Templates from "t1|t2" or a file with one per line; each must hold one '{}' for the class phrase."""
    if not spec:
        return TEMPLATES
    path = Path(spec)
    lines = path.read_text(encoding="utf-8").splitlines() if path.is_file() else spec.split("|")
    templates = tuple(t.strip() for t in lines if t.strip())
    bad = [t for t in templates if t.count("{}") != 1]
    if not templates or bad:
        raise SarclipError(f"--templates: each template needs exactly one '{{}}' for the class (bad: {bad[:1] or spec!r})")
    return templates


def class_phrases(label: str, vocabulary: Vocabulary) -> list[str]:
    """Noun phrases for a class: its names and synonyms with an article, and its description."""
    words = vocabulary.words(label)
    phrases = [article(term) for term in words.terms]
    return phrases + [words.description] if words.description else phrases


def ensemble(encode: TextEncoder, phrase_groups: Sequence[Sequence[str]],
             templates: Sequence[str] = TEMPLATES) -> np.ndarray:
    """(G, D) unit embeddings: each group's phrases in every template, embedded, averaged and re-normalised."""
    prompts = [[template.format(phrase) for phrase in group for template in templates] for group in phrase_groups]
    vectors = encode([p for group in prompts for p in group])
    sizes = np.cumsum([len(group) for group in prompts])[:-1]
    means = np.stack([part.mean(axis=0) for part in np.split(vectors, sizes)])
    return means / np.linalg.norm(means, axis=1, keepdims=True)


def class_text_embeddings(encode: TextEncoder | nn.Module, labels: Sequence[str], templates: Sequence[str] = TEMPLATES,
                          names: Mapping[str, str] | None = None,
                          vocabulary: Vocabulary | None = None) -> np.ndarray:
    """(K, D) prompt-ensembled class embeddings for class labels (e.g. folder names), in the order given.

    encode is a texts -> unit-embeddings function (such as `Embedder.texts`) or an open_clip model
    (anything with `encode_text`; PyTorch is imported only then, so this module imports without it).
    names overrides the vocabulary for some labels: label -> the one phrase to use instead.
    """
    if hasattr(encode, "encode_text"):
        from .encode import encode_text

        model = encode
        encode = lambda texts: encode_text(model, texts).float().cpu().numpy()  # noqa: E731
    vocabulary = vocabulary or load_vocabulary(DEFAULT_VOCABULARY)
    names = names or {}
    groups = [[article(names[label])] if label in names else class_phrases(label, vocabulary) for label in labels]
    return ensemble(encode, groups, templates)
