"""Text side of a query: phrases and label sets expanded through the vocabulary and prompt templates."""

from __future__ import annotations

import weakref
from typing import TYPE_CHECKING

import numpy as np

from ..model.prompts import TEMPLATES, class_text_embeddings, ensemble
from .backend import cache_key, context_length, text_encoder, token_count
from .phrases import BACKGROUND_WORDS, parse_query

if TYPE_CHECKING:
    from .backend import InferenceModel

BACKGROUND_PROMPTS = ("a SAR image of clutter without any target", "an empty SAR scene showing only background clutter",
                      "no targets are visible in this SAR image", "a SAR image of the open sea surface")


# label text -> its unit embedding, per loaded model: a second query on a scene repeats the background
# classes and often the query itself (about 0.2 s of text encoding each time). Keyed weakly by the model
# object, so a model that is dropped takes its entries with it; loaded models are not trained further.
_EMBEDDED: "weakref.WeakKeyDictionary[object, dict[str, np.ndarray]]" = weakref.WeakKeyDictionary()


def embed(checkpoint: InferenceModel, labels: list[str]) -> np.ndarray:
    """(K, D) unit embeddings, one per label: its vocabulary phrases in the SAR templates, ensembled.

    A label the vocabulary does not know is used as typed; background words get clutter captions.
    Embeddings are kept per model, so repeated labels cost nothing.
    """
    known = _EMBEDDED.setdefault(cache_key(checkpoint), {})
    missing = list(dict.fromkeys(label for label in labels if label not in known))
    if missing:
        encode = text_encoder(checkpoint)
        vectors = class_text_embeddings(encode, missing)
        background = [i for i, label in enumerate(missing) if label.lower() in BACKGROUND_WORDS]
        if background:
            vectors[background] = ensemble(encode, [BACKGROUND_PROMPTS], templates=("{}",))
        known.update(zip(missing, vectors.astype(np.float32)))
    return np.stack([known[label] for label in labels]).astype(np.float32)


def embed_query(checkpoint: InferenceModel, query: str) -> np.ndarray:
    """(1, D) unit embedding of a query: its phrases' prompt ensembles, averaged."""
    vectors = embed(checkpoint, parse_query(query))
    mean = vectors.mean(axis=0)
    return (mean / max(float(np.linalg.norm(mean)), 1e-12))[None].astype(np.float32)


def cut_query_note(checkpoint: InferenceModel, query: str) -> str | None:
    """A note when a query's phrase, in the longest prompt template, is longer than the text tower's context:
    the tokenizer then cuts it silently, so the map answers only its first words."""
    context = context_length(checkpoint)
    prompts = [template.format(phrase) for phrase in parse_query(query) for template in TEMPLATES]
    longest = max(token_count(checkpoint, text) for text in prompts)
    if longest <= context:
        return None
    return (f"the query ({len(query):,} characters) is longer than the text tower's context of {context} tokens "
            "(prompt included): only its first words were used")
