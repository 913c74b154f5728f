"""Text side of a query: phrases and label sets expanded through the vocabulary and prompt templates."""

from __future__ import annotations

import numpy as np
import torch

from ..d2c.captions import article
from ..d2c.vocabulary import load_vocabulary
from ..errors import SarclipError
from ..model import Checkpoint, encode_text

# Phrasings the caption corpus uses (d2c.captions.IMAGE_WORDS), so prompts read like training captions.
TEMPLATES = ("a SAR image of {}", "a radar image of {}", "this SAR image shows {}")
BACKGROUND = "background"
BACKGROUND_PROMPTS = ("a SAR image of clutter without any target", "an empty SAR scene showing only background clutter",
                      "no targets are visible in this SAR image", "a SAR image of the open sea surface")
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


def prompts_for(label: str) -> list[str]:
    """Prompts for one label: its vocabulary names, synonyms and description in each template.

    A label the vocabulary does not know is used as typed; background words get the clutter captions.
    """
    if label.lower() in BACKGROUND_WORDS:
        return list(BACKGROUND_PROMPTS)
    words = load_vocabulary().words(label)
    terms = [article(term) for term in dict.fromkeys(words.terms)]
    if words.description:
        terms.append(words.description)
    return [template.format(term) for term in terms for template in TEMPLATES]


def embed(checkpoint: Checkpoint, labels: list[str]) -> np.ndarray:
    """(K, D) unit embeddings, one per label: the normalised mean of its prompts' embeddings."""
    vectors = []
    for label in labels:
        text = encode_text(checkpoint.model, prompts_for(label)).float().mean(dim=0)
        vectors.append(torch.nn.functional.normalize(text, dim=0).cpu().numpy())
    return np.stack(vectors).astype(np.float32)


def embed_query(checkpoint: Checkpoint, query: str) -> np.ndarray:
    """(1, D) unit embedding of a query: its phrases' prompt ensembles, averaged."""
    vectors = embed(checkpoint, parse_query(query))
    mean = vectors.mean(axis=0)
    return (mean / max(float(np.linalg.norm(mean)), 1e-12))[None].astype(np.float32)


def has_background(labels: list[str]) -> bool:
    return any(label.lower() in BACKGROUND_WORDS for label in labels)


def logit_scale(checkpoint: Checkpoint) -> float:
    """The model's learned softmax temperature (CLIP's exp(logit_scale)), capped as open_clip does."""
    scale = getattr(checkpoint.model, "logit_scale", None)
    return float(min(100.0, scale.exp().item())) if scale is not None else 100.0
