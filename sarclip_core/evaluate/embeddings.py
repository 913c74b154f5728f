"""Embeddings for evaluation: every image file read and encoded at most once per run, in batches, with a bar.

Unreadable images are skipped and remembered with the reason, so each task can count and report them.
"""

from __future__ import annotations

import os
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator, Sequence

import numpy as np
import torch
from tqdm import tqdm

from ..data import read_chip
from ..errors import SarclipError
from ..model import Checkpoint, encode_chips, encode_text, load_model

TEXT_BATCH = 256


@dataclass
class Embedded:
    """Unit embeddings of the readable images among those asked for, and what was skipped."""

    vectors: np.ndarray  # (n_kept, D) float32
    kept: list[int]  # indices into the paths asked for
    problems: list[str]  # one line per unreadable image


class Embedder:
    """One model under evaluation: a label for the report, its checkpoint, and per-run image/text caches."""

    def __init__(self, checkpoint: Checkpoint, label: str, batch_size: int = 64, progress: bool = False):
        if batch_size < 1:
            raise SarclipError("--batch-size must be at least 1")
        self.checkpoint, self.label = checkpoint, label
        self.batch_size, self.progress = batch_size, progress
        self._images: dict[Path, np.ndarray | str] = {}  # path -> embedding, or the reason it is unreadable
        self._texts: dict[str, np.ndarray] = {}

    @classmethod
    def load(cls, spec: str | os.PathLike, batch_size: int = 64, progress: bool = False) -> "Embedder":
        """An Embedder for a model spec as `--model` takes it ('default', checkpoint dir, open_clip name[:tag])."""
        return cls(load_model(spec), str(spec), batch_size, progress)

    def images(self, paths: Sequence[str | os.PathLike], what: str = "images") -> Embedded:
        """Embeddings of image files; files seen earlier in this run come from the cache."""
        paths = [Path(p) for p in paths]
        todo = [p for p in dict.fromkeys(paths) if p not in self._images]
        with tqdm(total=len(todo), desc=f"{self.label}: {what}", unit="img", disable=not self.progress or not todo,
                  leave=False) as bar:
            for start in range(0, len(todo), self.batch_size):
                self._encode_batch(todo[start:start + self.batch_size])
                bar.update(len(todo[start:start + self.batch_size]))
        kept = [i for i, p in enumerate(paths) if not isinstance(self._images[p], str)]
        problems = [f"{p}: {self._images[p]}" for p in dict.fromkeys(paths) if isinstance(self._images[p], str)]
        if not kept:
            raise SarclipError(f"none of the {len(paths)} {what} could be read (first: {problems[0]})")
        return Embedded(np.stack([self._images[paths[i]] for i in kept]), kept, problems)

    def texts(self, texts: Sequence[str]) -> np.ndarray:
        """(N, D) unit text embeddings, each distinct text encoded once per run."""
        todo = [t for t in dict.fromkeys(texts) if t not in self._texts]
        for start in range(0, len(todo), TEXT_BATCH):
            batch = todo[start:start + TEXT_BATCH]
            vectors = encode_text(self.checkpoint.model, batch).float().cpu().numpy()
            self._texts.update(zip(batch, vectors))
        return np.stack([self._texts[t] for t in texts])

    def _encode_batch(self, paths: list[Path]) -> None:
        chips, readable = [], []
        for path in paths:
            try:
                chips.append(read_chip(path, self.checkpoint.normalisation, self.checkpoint.channels))
                readable.append(path)
            except SarclipError as error:
                self._images[path] = str(error).removeprefix(f"{path}: ")
        if chips:
            vectors = encode_chips(self.checkpoint.reader, chips, self.batch_size).float().cpu().numpy()
            self._images.update(zip(readable, vectors))


@contextmanager
def evaluation_mode(checkpoint: Checkpoint) -> Iterator[None]:
    """Eval mode for the model and its reader while evaluating, restored afterwards (the trainer validates mid-run)."""
    modules = (checkpoint.model, checkpoint.reader)
    before = [{m: m.training for m in module.modules()} for module in modules]
    for module in modules:
        module.eval()
    try:
        with torch.no_grad():
            yield
    finally:
        for states in before:
            for module, training in states.items():
                module.train(training)
