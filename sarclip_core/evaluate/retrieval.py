"""Image-text retrieval: R@1/5/10 both ways and mean recall over a D2C caption manifest."""

from __future__ import annotations

import numpy as np

from .embeddings import Embedder
from .manifests import read_caption_pairs
from .metrics import retrieval_recalls
from .results import TaskResult


def evaluate(embedder: Embedder, data: str) -> TaskResult:
    """Recalls over the distinct images and distinct captions of data (captions.csv or records.jsonl).

    An image's hits are all of its captions; a caption shared by several images matches each of them.
    Images that cannot be read are skipped with their captions (counted in problems).
    """
    pairs = read_caption_pairs(data)
    images = list(dict.fromkeys(path for path, _ in pairs))
    embedded = embedder.images(images, what="retrieval images")
    kept = {images[i]: row for row, i in enumerate(embedded.kept)}
    texts = list(dict.fromkeys(caption for path, caption in pairs if path in kept))
    column = {text: j for j, text in enumerate(texts)}
    relevant = np.zeros((len(kept), len(texts)), dtype=bool)
    for path, caption in pairs:
        if path in kept:
            relevant[kept[path], column[caption]] = True
    similarity = embedded.vectors @ embedder.texts(texts).T
    return TaskResult("retrieval", str(data), len(kept), retrieval_recalls(similarity, relevant), embedded.problems,
                      table=[{"images": len(kept), "captions": len(texts),
                              "captions per image": round(float(relevant.sum(axis=1).mean()), 2)}])
