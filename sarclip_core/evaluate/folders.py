"""Classification folders (one sub-folder of images per class) as labelled paths and as labelled embeddings."""

from __future__ import annotations

import os
import random
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..data import image_folder
from ..errors import SarclipError
from .embeddings import Embedder


def labelled_images(root: str | os.PathLike, max_per_class: int | None = None,
                    seed: int = 0) -> tuple[list[Path], list[str]]:
    """Image paths and their class names; with max_per_class, a seeded random subset of each class (sorted)."""
    if max_per_class is not None and max_per_class < 1:
        raise SarclipError("--max-per-class must be at least 1")
    by_class: dict[str, list[Path]] = {}
    for path, label in image_folder(root):
        by_class.setdefault(label, []).append(path)
    paths: list[Path] = []
    labels: list[str] = []
    for label, items in by_class.items():
        if max_per_class is not None and len(items) > max_per_class:
            items = sorted(random.Random(f"{seed}:{label}").sample(items, max_per_class))
        paths += items
        labels += [label] * len(items)
    return paths, labels


@dataclass
class LabelledEmbeddings:
    """A classification folder embedded: vectors of the readable images, their class indices, the class names."""

    vectors: np.ndarray
    targets: np.ndarray
    classes: list[str]
    problems: list[str]


def embed_folder(embedder: Embedder, root: str | os.PathLike, classes: list[str] | None = None,
                 max_per_class: int | None = None, seed: int = 0) -> LabelledEmbeddings:
    """Embed a classification folder; classes fixes the class order (a test folder must use the train classes)."""
    paths, labels = labelled_images(root, max_per_class, seed)
    classes = classes or sorted(set(labels))
    unknown = sorted(set(labels) - set(classes))
    if unknown:
        raise SarclipError(f"{root}: classes not in the training data: {', '.join(unknown)}")
    embedded = embedder.images(paths, what=Path(root).name)
    index = {name: i for i, name in enumerate(classes)}
    targets = np.array([index[labels[i]] for i in embedded.kept])
    return LabelledEmbeddings(embedded.vectors, targets, classes, embedded.problems)
